/**
 * Paged queries over the sparse indexes (docs/data-model.md). None of them scans: each reads only the
 * index entries that match, fanning out over the shards where the index is sharded.
 */
import { BatchGetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InvalidRequest } from '../../core/errors';
import type { TokenRecord, TokenStatus } from '../../core/model';
import type {
  Clock,
  DueToken,
  Page,
  PendingChainRevocation,
  PendingUpstreamDeletion,
} from '../../core/ports';
import type { KeyRange } from '../../core/indexKeys';
import { ATTR, INDEX } from './tables';
import { fromTokenItem, tokenIdOf, type Item } from './tokenItems';

export type { DueToken, Page, PendingChainRevocation, PendingUpstreamDeletion };

export interface Target {
  doc: DynamoDBDocumentClient;
  tableName: string;
}

/** Above every epoch-ms time: a `<=` bound that takes a whole sharded index. */
const END_OF_TIME = Number.MAX_SAFE_INTEGER;

/**
 * The read side of the store: the queries the rotation job, the sweep, the deletion worker and the admin
 * routes run. `DynamoTokenStore` extends it, so one object serves both.
 */
export class DynamoTokenQueries {
  constructor(
    protected readonly target: Target,
    protected readonly shards: number,
    protected readonly clock: Clock,
  ) {}

  /**
   * Active tokens whose refreshAfter is at or before `now`: what the rotation job marks `rotate`.
   * @example for (let c: string | undefined, page; ; ) { page = await store.listDueForRotation(now, 100, c); … c = page.cursor; if (!c) break; }
   */
  async listDueForRotation(now = this.clock.now(), limit = 100, cursor?: string): Promise<Page<DueToken>> {
    return this.due(INDEX.byRotateAt, ATTR.rotateAt, '<=', now, limit, cursor);
  }

  /**
   * Live tokens (active, paused, rotate) not seen since before `before` (last heartbeat, else creation).
   * @example await store.listStale(now - 30 * 86_400_000)
   */
  async listStale(before: number, limit = 100, cursor?: string): Promise<Page<DueToken>> {
    return this.due(INDEX.bySeenAt, ATTR.seenAt, '<', before, limit, cursor);
  }

  /**
   * Non-terminal tokens whose expiresAt is at or before `now`: what the sweep marks `expired`.
   * @example await store.listExpired(Date.now())
   */
  async listExpired(now = this.clock.now(), limit = 100, cursor?: string): Promise<Page<DueToken>> {
    return this.due(INDEX.byExpireAt, ATTR.expireAt, '<=', now, limit, cursor);
  }

  /**
   * The deletion queue: upstream tokens of revoked or refreshed records whose deletion is due.
   * @example const { items } = await store.listPendingUpstreamDeletions(Date.now(), 25);
   */
  async listPendingUpstreamDeletions(
    now = this.clock.now(),
    limit = 100,
    cursor?: string,
  ): Promise<Page<PendingUpstreamDeletion>> {
    const page = await queryShards(this.target, {
      index: INDEX.byDeleteAt,
      hashKey: ATTR.deleteShard,
      rangeKey: ATTR.deleteAt,
      comparison: '<=',
      bound: now,
      shards: this.shards,
      limit,
      cursor,
    });
    const items = page.items.map((item) => ({
      tokenId: tokenIdOf(item.pk),
      dueAt: item[ATTR.deleteAt] as number,
      upstreamId: item.upstreamId as string,
      attempts: (item[ATTR.deleteAttempts] as number | undefined) ?? 0,
      status: item.status as TokenStatus,
    }));
    return { ...page, items };
  }

  /**
   * Tokens of one install, newest first (admin).
   * @example const { items, cursor } = await store.listByInstall('install-123', 20);
   */
  async listByInstall(installId: string, limit = 50, cursor?: string): Promise<Page<TokenRecord>> {
    return queryRecords(this.target, {
      index: INDEX.byInstall,
      hashKey: ATTR.installId,
      value: installId,
      limit,
      cursor,
    });
  }

  /**
   * Tokens of one refresh chain, newest first: reuse detection revokes them all.
   * @example for (const t of (await store.listByChain(record.chainId)).items) await store.revokeToken(t.tokenId, 'reuse', now);
   */
  async listByChain(chainId: string, limit = 100, cursor?: string): Promise<Page<TokenRecord>> {
    return queryRecords(this.target, {
      index: INDEX.byChain,
      hashKey: ATTR.chainId,
      value: chainId,
      limit,
      cursor,
    });
  }

  /**
   * Every non-terminal token with its record, a page at a time, through byExpireAt (which holds exactly
   * the non-terminal tokens). For bulk admin filters: it reads every live token, so it is never on a
   * request path. One Query per shard plus one consistent BatchGet per page.
   * @example const { items, cursor } = await store.listNonTerminal(100);
   */
  async listNonTerminal(limit = 100, cursor?: string): Promise<Page<TokenRecord>> {
    return this.recordsOf({
      index: INDEX.byExpireAt,
      hashKey: ATTR.shard,
      rangeKey: ATTR.expireAt,
      comparison: '<=',
      bound: END_OF_TIME,
      shards: this.shards,
      limit,
      cursor,
    });
  }

  /**
   * Non-terminal tokens whose app and version key lies in `range` (core/indexKeys.ts `appVersionRange`), a
   * page at a time through byAppVersion: a filter by app or version reads the tokens it may match, and no
   * others. One Query per shard plus one consistent BatchGet per page.
   * @example await store.listByAppVersion(appVersionRange('hello', '<2.0.0')!, 100)
   */
  listByAppVersion(range: KeyRange, limit = 100, cursor?: string): Promise<Page<TokenRecord>> {
    return this.recordsOf({
      index: INDEX.byAppVersion,
      hashKey: ATTR.shard,
      rangeKey: ATTR.appVersion,
      comparison: 'between',
      bound: [range.lo, range.hi],
      shards: this.shards,
      limit,
      cursor,
    });
  }

  /**
   * Non-terminal tokens requested from an address in `range` (core/indexKeys.ts `sourceCidrRange`), through
   * bySource.
   * @example await store.listBySource(sourceCidrRange('203.0.113.0/24'), 100)
   */
  listBySource(range: KeyRange, limit = 100, cursor?: string): Promise<Page<TokenRecord>> {
    return this.recordsOf({
      index: INDEX.bySource,
      hashKey: ATTR.shard,
      rangeKey: ATTR.source,
      comparison: 'between',
      bound: [range.lo, range.hi],
      shards: this.shards,
      limit,
      cursor,
    });
  }

  /** A sharded KEYS_ONLY index page, then its records with one consistent BatchGet (at most 100 keys). */
  private async recordsOf(query: ShardQuery): Promise<Page<TokenRecord>> {
    const page = await queryShards(this.target, { ...query, limit: Math.min(pageSize(query.limit), 100) });
    const found = await batchGet(
      this.target,
      page.items.map((item) => ({ pk: item.pk, sk: item.sk })),
    );
    const items = page.items
      .map((item) => found.get(String(item.pk)))
      .filter((item): item is Item => item !== undefined);
    return { ...page, items: items.map(fromTokenItem) };
  }

  private async due(
    index: string,
    rangeKey: string,
    comparison: '<' | '<=',
    bound: number,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<DueToken>> {
    const page = await queryShards(this.target, {
      index,
      hashKey: ATTR.shard,
      rangeKey,
      comparison,
      bound,
      shards: this.shards,
      limit,
      cursor,
    });
    return {
      ...page,
      items: page.items.map((item) => ({ tokenId: tokenIdOf(item.pk), dueAt: item[rangeKey] as number })),
    };
  }
}

interface ShardQuery {
  index: string;
  hashKey: string;
  rangeKey: string;
  /** Items whose range key is `< bound`, `<= bound` or `>= bound`, or BETWEEN `bound[0]` and `bound[1]`. */
  comparison: '<' | '<=' | '>=' | 'between';
  bound: number | readonly [string, string];
  shards: number;
  limit: number;
  cursor?: string;
}

interface ShardCursor {
  s: number;
  k?: Item;
}

/**
 * Reads a sharded index shard by shard until `limit` items are found; the cursor remembers the shard and
 * the position inside it. Items are in key order within a shard, not across shards (jobs do not care).
 */
export async function queryShards(target: Target, query: ShardQuery): Promise<Page<Item>> {
  const start = decodeCursor<ShardCursor>(query.cursor) ?? { s: 0 };
  if (!Number.isInteger(start.s) || start.s < 0) throw new InvalidRequest('The cursor is not valid.');
  const limit = pageSize(query.limit);
  const items: Item[] = [];
  let scannedCount = 0;
  for (let shard = start.s; shard < query.shards; shard++) {
    let startKey = shard === start.s ? start.k : undefined;
    do {
      const range =
        query.comparison === 'between'
          ? {
              text: '#r BETWEEN :lo AND :hi',
              values: {
                ':lo': (query.bound as readonly string[])[0],
                ':hi': (query.bound as readonly string[])[1],
              },
            }
          : { text: `#r ${query.comparison} :bound`, values: { ':bound': query.bound } };
      const reply = await target.doc.send(
        new QueryCommand({
          TableName: target.tableName,
          IndexName: query.index,
          KeyConditionExpression: `#h = :h AND ${range.text}`,
          ExpressionAttributeNames: { '#h': query.hashKey, '#r': query.rangeKey },
          ExpressionAttributeValues: { ':h': shard, ...range.values },
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(reply.Items ?? []));
      scannedCount += reply.ScannedCount ?? 0;
      startKey = reply.LastEvaluatedKey;
      if (items.length >= limit) {
        const next = startKey
          ? { s: shard, k: startKey }
          : shard + 1 < query.shards
            ? { s: shard + 1 }
            : undefined;
        return { items, scannedCount, cursor: next && encodeCursor(next) };
      }
    } while (startKey);
  }
  return { items, scannedCount };
}

/**
 * Records of one install or chain, newest first: the KEYS_ONLY index gives the keys, one consistent
 * BatchGet the records (two requests per page instead of an index copy rewritten at every heartbeat).
 */
export async function queryRecords(
  target: Target,
  query: { index: string; hashKey: string; value: string; limit: number; cursor?: string },
): Promise<Page<TokenRecord>> {
  const reply = await target.doc.send(
    new QueryCommand({
      TableName: target.tableName,
      IndexName: query.index,
      KeyConditionExpression: '#h = :h',
      ExpressionAttributeNames: { '#h': query.hashKey },
      ExpressionAttributeValues: { ':h': query.value },
      ScanIndexForward: false,
      Limit: Math.min(pageSize(query.limit), 100), // BatchGet takes at most 100 keys
      ExclusiveStartKey: decodeCursor<Item>(query.cursor),
    }),
  );
  const keys = (reply.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk }));
  const found = await batchGet(target, keys);
  const items = keys
    .map((key) => found.get(String(key.pk)))
    .filter((item): item is Item => item !== undefined);
  return {
    items: items.map(fromTokenItem),
    scannedCount: reply.ScannedCount ?? 0,
    cursor: reply.LastEvaluatedKey && encodeCursor(reply.LastEvaluatedKey),
  };
}

/**
 * One page of the notes under a reserved byChain partition (tables.ts `noteKind`), oldest first; with
 * `before`, only those created earlier. Keys only: byChain projects nothing else.
 * @example const page = await queryNotes(target, MINT_INTENTS.partition, { before: now - lease, limit: 25 });
 */
export async function queryNotes(
  target: Target,
  partition: string,
  options: { before?: number; limit: number; cursor?: string; newestFirst?: boolean },
): Promise<{ keys: Item[]; scannedCount: number; cursor?: string }> {
  const reply = await target.doc.send(
    new QueryCommand({
      TableName: target.tableName,
      IndexName: INDEX.byChain,
      KeyConditionExpression: options.before === undefined ? '#h = :h' : '#h = :h AND #at < :before',
      ExpressionAttributeNames: {
        '#h': ATTR.chainId,
        ...(options.before === undefined ? {} : { '#at': ATTR.createdAt }),
      },
      ExpressionAttributeValues: {
        ':h': partition,
        ...(options.before === undefined ? {} : { ':before': options.before }),
      },
      Limit: pageSize(options.limit),
      ScanIndexForward: !options.newestFirst,
      ExclusiveStartKey: decodeCursor<Item>(options.cursor),
    }),
  );
  return {
    keys: reply.Items ?? [],
    scannedCount: reply.ScannedCount ?? 0,
    cursor: reply.LastEvaluatedKey && encodeCursor(reply.LastEvaluatedKey),
  };
}

/** Consistent BatchGetItem of `keys` (at most 100), unprocessed keys retried; found items by `pk`. */
export async function batchGet(target: Target, keys: Item[]): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  let pending: Item[] = keys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
    if (attempt > 8) throw new Error(`BatchGet left ${pending.length} keys unprocessed`);
    const reply = await target.doc.send(
      new BatchGetCommand({ RequestItems: { [target.tableName]: { Keys: pending, ConsistentRead: true } } }),
    );
    for (const item of reply.Responses?.[target.tableName] ?? []) found.set(String(item.pk), item);
    pending = reply.UnprocessedKeys?.[target.tableName]?.Keys ?? [];
  }
  return found;
}

export function pageSize(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidRequest('The page size must be a whole number >= 1.');
  return limit;
}

/** Opaque page cursors: base64url JSON of where to continue. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined): T | undefined {
  if (!cursor) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as T;
  } catch {
    throw new InvalidRequest('The cursor is not valid.');
  }
}
