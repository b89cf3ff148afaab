/**
 * Quota counters (docs/data-model.md): one item per counter and window, `pk = quota#<scope>#<subject>`,
 * `sk = <window start>`. Taking a slot is ONE conditional UpdateItem (`ADD used 1` if `used < limit`), so
 * concurrent requests can never both take the last slot; the item expires (TTL) an hour after its window.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RuntimeOverrides } from '../../core/ports';
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
  return (await getRuntimeOverrides(target)).limits;
}

/**
 * The run-time overrides item: quota limits and the mint allowlist share it, so a mint reads both at once.
 * Consistent, so an admin's change is seen by the next read (at most 30 s later, per process).
 */
export async function getRuntimeOverrides(target: Target): Promise<RuntimeOverrides> {
  const { Item: item } = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: KEY.quotaOverrides(), ConsistentRead: true }),
  );
  const limits = limitsOf(item);
  const cidrs = item?.mintAllowCidrs as string[] | undefined;
  return Array.isArray(cidrs) ? { limits, mintAllowCidrs: cidrs } : { limits };
}

/** Each overridden quota is an attribute of its own, so changes to different quotas never overwrite each other. */
const QUOTA_ATTRIBUTE = 'quota.';

function limitsOf(item: Record<string, unknown> | undefined): Partial<QuotaLimits> {
  const limits: Record<string, number> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    if (name.startsWith(QUOTA_ATTRIBUTE) && typeof value === 'number')
      limits[name.slice(QUOTA_ATTRIBUTE.length)] = value;
  }
  return limits as Partial<QuotaLimits>;
}

/**
 * Sets (a number) or drops (null) quota overrides in ONE write, with no read first: two admins changing
 * different quotas at once both keep their change. The allowlist stays. Returns the overrides after it.
 * @example await changeQuotaOverrides(target, { mintsPerIpPerHour: 10, mintsPerDay: null }, Date.now())
 */
export async function changeQuotaOverrides(
  target: Target,
  changes: Partial<Record<keyof QuotaLimits, number | null>>,
  now: number,
): Promise<Partial<QuotaLimits>> {
  const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':now': now };
  const set = ['#updatedAt = :now'];
  const remove: string[] = [];
  Object.entries(changes).forEach(([name, value], i) => {
    names[`#q${i}`] = `${QUOTA_ATTRIBUTE}${name}`;
    if (value === null || value === undefined) remove.push(`#q${i}`);
    else {
      values[`:q${i}`] = value;
      set.push(`#q${i} = :q${i}`);
    }
  });
  const { Attributes: item } = await target.doc.send(
    new UpdateCommand({
      TableName: target.tableName,
      Key: KEY.quotaOverrides(),
      UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }),
  );
  return limitsOf(item);
}

/** The run-time mint allowlist, or undefined when the configured one applies. */
export async function getMintAllowOverride(target: Target): Promise<string[] | undefined> {
  return (await getRuntimeOverrides(target)).mintAllowCidrs;
}

/** Sets the run-time mint allowlist (`[]`: every address), or drops it (null: the configured one again). */
export async function putMintAllowOverride(
  target: Target,
  cidrs: string[] | null,
  now: number,
): Promise<void> {
  await target.doc.send(
    new UpdateCommand({
      TableName: target.tableName,
      Key: KEY.quotaOverrides(),
      UpdateExpression:
        cidrs === null ? 'SET #updatedAt = :now REMOVE #cidrs' : 'SET #updatedAt = :now, #cidrs = :cidrs',
      ExpressionAttributeNames: { '#updatedAt': 'updatedAt', '#cidrs': 'mintAllowCidrs' },
      ExpressionAttributeValues: { ':now': now, ...(cidrs === null ? {} : { ':cidrs': cidrs }) },
    }),
  );
}
