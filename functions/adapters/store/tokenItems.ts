/**
 * Token record ⇄ DynamoDB item. The item is the record plus its keys, its shard, its TTL and the sparse
 * index attributes that match its status (docs/data-model.md).
 */
import { LIVE_STATUSES, type TokenRecord, type TokenStatus } from '../../core/model';
import { appVersionKey, sourceAddressKey } from '../../core/indexKeys';
import { ATTR, KEY, TOKEN_PK_PREFIX, shardOf } from './tables';

/** Statuses after which nothing changes any more (except the upstream-deletion bookkeeping). */
export const TERMINAL_STATUSES: readonly TokenStatus[] = ['revoked', 'superseded', 'expired'];

export type Item = Record<string, unknown>;

/** Attributes the store adds to a record; stripped again on the way out. */
const INTERNAL = new Set<string>([
  ATTR.pk,
  ATTR.sk,
  ATTR.ttl,
  ATTR.shard,
  ATTR.rotateAt,
  ATTR.seenAt,
  ATTR.expireAt,
  ATTR.deleteAt,
  ATTR.deleteShard,
  ATTR.deleteAttempts,
  ATTR.appVersion,
  ATTR.source,
]);

/**
 * The full item for a new token, with the index attributes its status calls for.
 * @example toTokenItem(record, { shards: 4, retentionMs: 30 * 86_400_000 })
 */
export function toTokenItem(record: TokenRecord, options: { shards: number; retentionMs: number }): Item {
  const shard = shardOf(record.tokenId, options.shards);
  const item: Item = {
    ...record,
    ...KEY.token(record.tokenId),
    [ATTR.shard]: shard,
    [ATTR.ttl]: ttlSeconds(record.expiresAt + options.retentionMs),
  };
  if (record.upstreamId) item[ATTR.deleteShard] = shard;
  if (record.status === 'active') item[ATTR.rotateAt] = record.refreshAfter;
  if (LIVE_STATUSES.includes(record.status)) item[ATTR.seenAt] = record.lastHeartbeatAt ?? record.createdAt;
  if (!TERMINAL_STATUSES.includes(record.status)) {
    item[ATTR.expireAt] = record.expiresAt;
    item[ATTR.appVersion] = appVersionKey(record.appName, record.appVersion);
    const source = sourceAddressKey(record.sourceIp);
    if (source) item[ATTR.source] = source;
  }
  return item;
}

/** The record inside an item: everything except the store's own attributes. */
export function fromTokenItem(item: Item): TokenRecord {
  const record: Item = {};
  for (const [name, value] of Object.entries(item)) {
    // `hq<hour>`: the heartbeat quota's counters (dynamoTokenStore.heartbeatCounter).
    if (!INTERNAL.has(name) && !/^hq\d+$/.test(name)) record[name] = value;
  }
  return record as unknown as TokenRecord;
}

/** The token id in a `token#<id>` partition key, as index queries return it. */
export function tokenIdOf(pk: unknown): string {
  if (typeof pk !== 'string' || !pk.startsWith(TOKEN_PK_PREFIX))
    throw new Error(`not a token key: ${String(pk)}`);
  return pk.slice(TOKEN_PK_PREFIX.length);
}

/** DynamoDB TTL wants epoch seconds. */
export function ttlSeconds(epochMs: number): number {
  return Math.ceil(epochMs / 1000);
}

/**
 * `:s0, :s1, …` placeholders and their values, for `#status IN (…)`.
 * @example inList('live', ['active', 'paused']) // { text: ':live0, :live1', values: { ':live0': 'active', … } }
 */
export function inList(
  prefix: string,
  values: readonly string[],
): { text: string; values: Record<string, string> } {
  const entries = values.map((value, i) => [`:${prefix}${i}`, value] as const);
  return { text: entries.map(([name]) => name).join(', '), values: Object.fromEntries(entries) };
}

/** True for the SDK's "the condition did not hold" error, which the store turns into a port result. */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}
