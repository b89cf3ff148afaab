/**
 * Idempotency keys of mint requests: one item per key (the key arrives already hashed), written with a
 * conditional PutItem so only one of several concurrent retries gets to mint.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyClaim } from '../../core/ports';
import { KEY } from './tables';
import { isConditionFailure, ttlSeconds } from './tokenItems';
import type { Target } from './tokenQueries';

/** DynamoDB's TTL removes the item this long after the window; the code never relies on it. */
const TTL_SLACK_SECONDS = 3600;

/**
 * Claims `key` for a new mint, or reports the earlier attempt: `pending` while it runs, `completed` with its
 * sealed reply once done. An expired claim is replaced (the check is in the condition: dynalite has no TTL).
 * @example const claim = await claimIdempotencyKey(target, keyHash, Date.now(), 600_000);
 */
export async function claimIdempotencyKey(
  target: Target,
  key: string,
  now: number,
  ttlMs: number,
): Promise<IdempotencyClaim> {
  // A few rounds: the earlier claim may expire or be released between our put and our read.
  for (let round = 0; round < 3; round++) {
    try {
      await target.doc.send(
        new PutCommand({
          TableName: target.tableName,
          Item: {
            ...KEY.idempotency(key),
            state: 'pending',
            startedAt: now,
            expiresAt: now + ttlMs,
            ttl: ttlSeconds(now + ttlMs) + TTL_SLACK_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return { state: 'claimed' };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item: item } = await target.doc.send(
      new GetCommand({ TableName: target.tableName, Key: KEY.idempotency(key), ConsistentRead: true }),
    );
    if (!item || (item.expiresAt as number) <= now) continue;
    if (item.state === 'completed') return { state: 'completed', sealedReply: item.sealedReply as string };
    return { state: 'pending', startedAt: item.startedAt as number };
  }
  throw new Error('claimIdempotencyKey: the key kept changing between write and read');
}

/**
 * Seals the reply of a finished mint. A claim that is gone (expired and taken over) stays as it is.
 * @example await completeIdempotencyKey(target, keyHash, sealed);
 */
export async function completeIdempotencyKey(
  target: Target,
  key: string,
  sealedReply: string,
): Promise<void> {
  try {
    await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.idempotency(key),
        UpdateExpression: 'SET #state = :completed, sealedReply = :reply',
        ConditionExpression: '#state = :pending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':completed': 'completed',
          ':pending': 'pending',
          ':reply': sealedReply,
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Frees a pending claim whose mint failed. A completed key stays, so its reply is still served.
 * @example await releaseIdempotencyKey(target, keyHash);
 */
export async function releaseIdempotencyKey(target: Target, key: string): Promise<void> {
  try {
    await target.doc.send(
      new DeleteCommand({
        TableName: target.tableName,
        Key: KEY.idempotency(key),
        ConditionExpression: '#state = :pending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':pending': 'pending' },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
