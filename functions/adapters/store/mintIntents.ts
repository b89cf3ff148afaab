/**
 * Mint intents (docs/lifecycle.md, "Crash-consistent minting"): a note written before Logfire is asked for a
 * write token and removed in the same batch that stores the token's record. The sweep lists the ones left
 * behind through the byChain index (their `chainId` is a reserved partition) and reconciles them with
 * Logfire's list; `isUpstreamTokenRecorded` asks the byUpstreamId index whether a Logfire token is one a
 * record holds, so a recorded token is never deleted by reconciliation.
 */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MintIntent, Page } from '../../core/ports';
import { ATTR, INDEX, MINT_INTENTS } from './tables';
import { ttlSeconds, type Item } from './tokenItems';
import { batchGet, queryNotes, type Target } from './tokenQueries';

/**
 * The item of an intent. Its TTL is the token's own expiry: by then Logfire has expired the token anyway.
 * @example await doc.send(new PutCommand({ TableName, Item: mintIntentItem(intent) }));
 */
export function mintIntentItem(intent: MintIntent): Item {
  return {
    ...MINT_INTENTS.key(intent.tokenId),
    [ATTR.chainId]: MINT_INTENTS.partition,
    [ATTR.createdAt]: intent.startedAt,
    expiresAt: intent.expiresAt,
    [ATTR.ttl]: ttlSeconds(intent.expiresAt),
  };
}

/** @example await recordMintIntent(target, { tokenId, startedAt: now, expiresAt }); */
export async function recordMintIntent(target: Target, intent: MintIntent): Promise<void> {
  await target.doc.send(new PutCommand({ TableName: target.tableName, Item: mintIntentItem(intent) }));
}

/** @example await dropMintIntent(target, tokenId); */
export async function dropMintIntent(target: Target, tokenId: string): Promise<void> {
  await target.doc.send(new DeleteCommand({ TableName: target.tableName, Key: MINT_INTENTS.key(tokenId) }));
}

/**
 * Intents started before `startedBefore`, oldest first.
 * @example const { items } = await listMintIntents(target, Date.now() - 60_000, 25);
 */
export async function listMintIntents(
  target: Target,
  startedBefore: number,
  limit: number,
  cursor?: string,
): Promise<Page<MintIntent>> {
  const page = await queryNotes(target, MINT_INTENTS.partition, { before: startedBefore, limit, cursor });
  // byChain projects keys only: the expiresAt needs the items (intents are few: each one is a crash).
  const keys = page.keys.map((entry) => ({ pk: entry.pk, sk: entry.sk }));
  const found = keys.length ? await batchGet(target, keys) : new Map<string, Item>();
  const items: MintIntent[] = [...found.values()].map((item) => ({
    tokenId: MINT_INTENTS.idOf(item.pk),
    startedAt: item[ATTR.createdAt] as number,
    expiresAt: item.expiresAt as number,
  }));
  items.sort((a, b) => a.startedAt - b.startedAt);
  return { items, scannedCount: page.scannedCount, cursor: page.cursor };
}

/** @example if (!(await isUpstreamTokenRecorded(target, listed.upstreamId))) await upstream.deleteWriteToken(id); */
export async function isUpstreamTokenRecorded(target: Target, upstreamId: string): Promise<boolean> {
  const reply = await target.doc.send(
    new QueryCommand({
      TableName: target.tableName,
      IndexName: INDEX.byUpstreamId,
      KeyConditionExpression: '#id = :id',
      ExpressionAttributeNames: { '#id': ATTR.upstreamId },
      ExpressionAttributeValues: { ':id': upstreamId },
      Limit: 1,
    }),
  );
  return (reply.Items ?? []).length > 0;
}
