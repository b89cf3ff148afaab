/**
 * Chain revocations in progress (reuse detection, docs/lifecycle.md). Reuse detection notes the chain
 * before it walks it; the sweep lists the notes, revokes every member still alive through byChain, and
 * drops the note. A walk cut short (a crash, a timeout) is thereby always finished.
 *
 * A note is an item of the tokens table whose `chainId` is the reserved `CHAIN_REVOCATIONS.partition`, so
 * the existing byChain index lists every pending note with one Query: no new index, no Scan.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Page, PendingChainRevocation } from '../../core/ports';
import { ATTR, CHAIN_REVOCATIONS } from './tables';
import { isConditionFailure } from './tokenItems';
import { queryNotes, type Target } from './tokenQueries';

/**
 * Writes (or re-writes, with a newer time) the note for `chainId`. No TTL: a note must never vanish
 * before the sweep has acted on it.
 * @example await queueChainRevocation(target, record.chainId, Date.now());
 */
export async function queueChainRevocation(target: Target, chainId: string, now: number): Promise<void> {
  await target.doc.send(
    new PutCommand({
      TableName: target.tableName,
      Item: {
        ...CHAIN_REVOCATIONS.key(chainId),
        [ATTR.chainId]: CHAIN_REVOCATIONS.partition,
        [ATTR.createdAt]: now,
      },
    }),
  );
}

/**
 * The pending notes, oldest first.
 * @example const { items, cursor } = await listChainRevocations(target, 25);
 */
export async function listChainRevocations(
  target: Target,
  limit: number,
  cursor?: string,
): Promise<Page<PendingChainRevocation>> {
  const page = await queryNotes(target, CHAIN_REVOCATIONS.partition, { limit, cursor });
  return {
    items: page.keys.map((item) => ({
      chainId: CHAIN_REVOCATIONS.idOf(item.pk),
      queuedAt: item[ATTR.createdAt] as number,
    })),
    scannedCount: page.scannedCount,
    cursor: page.cursor,
  };
}

/**
 * Drops the note, unless a newer detection re-wrote it after `queuedAt` (then the next sweep runs again).
 * @example await finishChainRevocation(target, chainId, note.queuedAt);
 */
export async function finishChainRevocation(
  target: Target,
  chainId: string,
  queuedAt: number,
): Promise<void> {
  try {
    await target.doc.send(
      new DeleteCommand({
        TableName: target.tableName,
        Key: CHAIN_REVOCATIONS.key(chainId),
        ConditionExpression: '#createdAt = :queuedAt',
        ExpressionAttributeNames: { '#createdAt': ATTR.createdAt },
        ExpressionAttributeValues: { ':queuedAt': queuedAt },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
