/**
 * Quota counters (docs/data-model.md): one item per counter and window, `pk = quota#<scope>#<subject>`,
 * `sk = <window start>`. Taking a slot is ONE conditional UpdateItem (`ADD used 1` if `used < limit`), so
 * concurrent requests can never both take the last slot; the item expires (TTL) an hour after its window.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { QuotaLimits } from '../../core/deps';
import type { QuotaCounter } from '../../core/quota';
import { KEY } from './tables';
import { isConditionFailure, ttlSeconds } from './tokenItems';
import type { Target } from './tokenQueries';

const TTL_SLACK_MS = 3_600_000;

/**
 * Takes `amount` from the counter if it is still under its limit (a request of any size may take the last
 * slot, so a byte quota is passed by at most one request). False when the window is used up.
 * @example if (!(await takeQuota(target, counter))) throw quotaExceeded(counter, 'mints', now);
 */
export async function takeQuota(target: Target, counter: QuotaCounter, amount = 1): Promise<boolean> {
  try {
    await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.quota(counter.scope, counter.subject, counter.startsAt),
        UpdateExpression: 'ADD #used :amount SET #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#used) OR #used < :limit',
        ExpressionAttributeNames: { '#used': 'used', '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':amount': amount,
          ':limit': counter.limit,
          ':ttl': ttlSeconds(counter.endsAt + TTL_SLACK_MS),
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Gives back what `takeQuota` took, for a request refused by another counter. */
export async function refundQuota(target: Target, counter: QuotaCounter, amount = 1): Promise<void> {
  await target.doc
    .send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.quota(counter.scope, counter.subject, counter.startsAt),
        UpdateExpression: 'ADD #used :minus',
        ConditionExpression: 'attribute_exists(#used)',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':minus': -amount },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
}

/** The operator's overrides of the configured limits; `{}` when none are stored. */
export async function getQuotaOverrides(target: Target): Promise<Partial<QuotaLimits>> {
  const { Item: item } = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: KEY.quotaOverrides() }),
  );
  return (item?.limits as Partial<QuotaLimits> | undefined) ?? {};
}

/** Replaces the overrides (the admin surface's write; an empty object restores the configured limits). */
export async function putQuotaOverrides(
  target: Target,
  limits: Partial<QuotaLimits>,
  now: number,
): Promise<void> {
  await target.doc.send(
    new PutCommand({
      TableName: target.tableName,
      Item: { ...KEY.quotaOverrides(), limits, updatedAt: now },
    }),
  );
}
