/**
 * Idempotency keys of mint requests: one item per key (the key arrives already hashed), written with a
 * conditional PutItem so only one of several concurrent retries gets to mint.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyClaim, IdempotencyClaimRequest } from '../../core/ports';
import { KEY } from './tables';
import { isConditionFailure, ttlSeconds } from './tokenItems';
import type { Target } from './tokenQueries';

/** DynamoDB's TTL removes the item this long after the window; the code never relies on it. */
const TTL_SLACK_SECONDS = 3600;

/**
 * Claims `key` for a new mint, or reports the earlier attempt: `pending` while it runs, `completed` with its
 * sealed reply once done. An expired claim is replaced (the check is in the condition: dynalite has no TTL),
 * and so is a pending one past its lease for the same request: its attempt died (a crash), and waiting out
 * the whole window would block the client's retries for nothing.
 * @example const claim = await claimIdempotencyKey(target, keyHash, { claimId, requestHash, now, ttlMs, leaseMs });
 */
export async function claimIdempotencyKey(
  target: Target,
  key: string,
  claim: IdempotencyClaimRequest,
): Promise<IdempotencyClaim> {
  const { now, ttlMs } = claim;
  // A few rounds: the earlier claim may expire or be released between our put and our read.
  for (let round = 0; round < 3; round++) {
    try {
      await target.doc.send(
        new PutCommand({
          TableName: target.tableName,
          Item: {
            ...KEY.idempotency(key),
            state: 'pending',
            claimId: claim.claimId,
            requestHash: claim.requestHash,
            startedAt: now,
            leaseUntil: now + claim.leaseMs,
            expiresAt: now + ttlMs,
            ttl: ttlSeconds(now + ttlMs) + TTL_SLACK_SECONDS,
          },
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt <= :now OR ' +
            '(#state = :pending AND leaseUntil <= :now AND requestHash = :hash)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':now': now, ':pending': 'pending', ':hash': claim.requestHash },
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
    const requestHash = item.requestHash as string | undefined;
    if (item.state === 'completed') {
      return { state: 'completed', sealedReply: item.sealedReply as string, requestHash };
    }
    if (requestHash === claim.requestHash && (item.leaseUntil as number) <= now) continue; // just freed
    return { state: 'pending', startedAt: item.startedAt as number, requestHash };
  }
  throw new Error('claimIdempotencyKey: the key kept changing between write and read');
}

/**
 * Seals the reply of a finished mint, if `claimId` still holds the key. A claim that is gone (expired, or
 * taken over after its lease) stays as the newer attempt left it.
 * @example await completeIdempotencyKey(target, keyHash, claimId, sealed);
 */
export async function completeIdempotencyKey(
  target: Target,
  key: string,
  claimId: string,
  sealedReply: string,
): Promise<void> {
  try {
    await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.idempotency(key),
        UpdateExpression: 'SET #state = :completed, sealedReply = :reply REMOVE leaseUntil',
        ConditionExpression: '#state = :pending AND claimId = :claim',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':completed': 'completed',
          ':pending': 'pending',
          ':reply': sealedReply,
          ':claim': claimId,
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Frees a pending claim whose mint failed, if `claimId` still holds it. A completed key stays, so its reply
 * is still served.
 * @example await releaseIdempotencyKey(target, keyHash, claimId);
 */
export async function releaseIdempotencyKey(target: Target, key: string, claimId: string): Promise<void> {
  try {
    await target.doc.send(
      new DeleteCommand({
        TableName: target.tableName,
        Key: KEY.idempotency(key),
        ConditionExpression: '#state = :pending AND claimId = :claim',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':pending': 'pending', ':claim': claimId },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
