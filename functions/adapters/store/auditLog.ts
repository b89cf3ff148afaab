/**
 * The audit trail on its own DynamoDB table (docs/data-model.md): append-only, queried by token, by
 * install and by time range, kept for BROKER_AUDIT_RETENTION by DynamoDB's TTL. The Lambdas' IAM
 * policies grant only writes of new items on this table, never updates or deletes.
 */
import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog, AuditPage, AuditQuery } from '../../core/audit';
import { AUDIT_INDEX, AUDIT_RETENTION_MS, ATTR, DEFAULT_SHARDS, shardOf } from './tables';
import { ttlSeconds, type Item } from './tokenItems';
import { decodeCursor, encodeCursor, pageSize } from './tokenQueries';

export interface DynamoAuditLogOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  retentionMs?: number;
  shards?: number;
}

/** A BatchWriteItem request: table name → put and delete requests. */
export type WriteRequests = Record<
  string,
  Array<{ PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } }>
>;

const ENTRY_FIELDS = [
  'at',
  'action',
  'actor',
  'tokenId',
  'installId',
  'chainId',
  'sourceIp',
  'reason',
  'details',
] as const;
const MAX_TIME = 999_999_999_999_999;

let appended = 0;

/**
 * `<15-digit epoch ms>#<sequence><random id>`: sorts by time, and within one millisecond in the order
 * this process appended (a mint's entry before its revocation); unique without a condition.
 */
function sortKey(at: number): string {
  appended = (appended + 1) % 36 ** 6;
  return `${String(at).padStart(15, '0')}#${appended.toString(36).padStart(6, '0')}${randomBytes(6).toString('base64url')}`;
}

function fromItem(item: Item): AuditEntry {
  const entry: Record<string, unknown> = {};
  for (const field of ENTRY_FIELDS) if (item[field] !== undefined) entry[field] = item[field];
  return entry as unknown as AuditEntry;
}

/**
 * @example
 * const audit = new DynamoAuditLog({ client: doc, tableName: config.auditTableName });
 * await audit.append([{ at: Date.now(), action: 'token.revoked', actor: 'system:sweep', tokenId }]);
 * const { entries } = await audit.byToken(tokenId);
 */
export class DynamoAuditLog implements AuditLog {
  readonly tableName: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly retentionMs: number;
  private readonly shards: number;

  constructor(options: DynamoAuditLogOptions) {
    this.doc = options.client;
    this.tableName = options.tableName;
    this.retentionMs = options.retentionMs ?? AUDIT_RETENTION_MS;
    this.shards = options.shards ?? DEFAULT_SHARDS;
  }

  /** The item an entry is stored as: under its token (or `global`), sharded for the time index. */
  toItem(entry: AuditEntry): Item {
    const sk = sortKey(entry.at);
    const item: Item = {
      [ATTR.pk]: entry.tokenId ? `token#${entry.tokenId}` : 'global',
      [ATTR.sk]: sk,
      [ATTR.shard]: shardOf(sk, this.shards),
      [ATTR.ttl]: ttlSeconds(entry.at + this.retentionMs),
    };
    for (const field of ENTRY_FIELDS) if (entry[field] !== undefined) item[field] = entry[field];
    return item;
  }

  /** Put requests for `entries`, to send together with other writes in one BatchWriteItem. */
  writeRequests(entries: AuditEntry[]): WriteRequests {
    return { [this.tableName]: entries.map((entry) => ({ PutRequest: { Item: this.toItem(entry) } })) };
  }

  async append(entries: AuditEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 25) {
      await batchWrite(this.doc, this.writeRequests(entries.slice(i, i + 25)));
    }
  }

  async byToken(tokenId: string, query: AuditQuery = {}): Promise<AuditPage> {
    return this.query(
      { KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi' },
      { ':pk': `token#${tokenId}` },
      '#pk',
      ATTR.pk,
      query,
    );
  }

  async byInstall(installId: string, query: AuditQuery = {}): Promise<AuditPage> {
    return this.query(
      { IndexName: AUDIT_INDEX.byInstall, KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi' },
      { ':pk': installId },
      '#pk',
      ATTR.installId,
      query,
    );
  }

  /**
   * Every entry in [from, to], newest first, merged across the time index's shards. The cursor keeps,
   * per shard, the sort key the next page must stay below.
   */
  async byTime(query: AuditQuery & { from: number; to: number }): Promise<AuditPage> {
    const limit = pageSize(query.limit ?? 50);
    const state = decodeCursor<Record<string, string | null>>(query.cursor) ?? {};
    const lo = bound(query.from, '');
    const read: { shard: number; items: Item[]; complete: boolean }[] = [];
    for (let shard = 0; shard < this.shards; shard++) {
      const below = state[shard];
      if (below === null) continue; // this shard has nothing left in the range
      const reply = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: AUDIT_INDEX.byTime,
          KeyConditionExpression: '#shard = :shard AND #sk BETWEEN :lo AND :hi',
          ExpressionAttributeNames: { '#shard': ATTR.shard, '#sk': ATTR.sk },
          ExpressionAttributeValues: { ':shard': shard, ':lo': lo, ':hi': below ?? bound(query.to, '~') },
          ScanIndexForward: false,
          Limit: limit + 1, // one more: the bound itself comes back and is skipped
        }),
      );
      const items = (reply.Items ?? []).filter((item) => item.sk !== below);
      read.push({ shard, items, complete: !reply.LastEvaluatedKey });
    }
    const newestFirst = read
      .flatMap(({ shard, items }) => items.map((item) => ({ shard, item })))
      .sort((a, b) => (String(a.item.sk) > String(b.item.sk) ? -1 : 1))
      .slice(0, limit);
    const next: Record<string, string | null> = { ...state };
    for (const { shard, items, complete } of read) {
      const taken = newestFirst.filter((c) => c.shard === shard);
      if (taken.length) next[shard] = String(taken[taken.length - 1]!.item.sk);
      if (complete && taken.length === items.length) next[shard] = null;
    }
    const more = Array.from({ length: this.shards }, (_, shard) => next[shard]).some(
      (value) => value !== null,
    );
    return {
      entries: newestFirst.map((c) => fromItem(c.item)),
      cursor: more ? encodeCursor(next) : undefined,
    };
  }

  private async query(
    shape: { IndexName?: string; KeyConditionExpression: string },
    values: Record<string, unknown>,
    pkName: string,
    pkAttribute: string,
    query: AuditQuery,
  ): Promise<AuditPage> {
    const reply = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...shape,
        ExpressionAttributeNames: { [pkName]: pkAttribute, '#sk': ATTR.sk },
        ExpressionAttributeValues: {
          ...values,
          ':lo': bound(query.from ?? 0, ''),
          ':hi': bound(query.to ?? MAX_TIME, '~'),
        },
        ScanIndexForward: false,
        Limit: pageSize(query.limit ?? 50),
        ExclusiveStartKey: decodeCursor<Item>(query.cursor),
      }),
    );
    return {
      entries: (reply.Items ?? []).map(fromItem),
      cursor: reply.LastEvaluatedKey && encodeCursor(reply.LastEvaluatedKey),
    };
  }
}

/** The sort-key bound of a time: `~` sorts after every id character, `` before. */
function bound(at: number, suffix: '' | '~'): string {
  return `${String(Math.max(0, Math.min(at, MAX_TIME))).padStart(15, '0')}#${suffix}`;
}

/**
 * One BatchWriteItem, retried until DynamoDB has taken every item (it may hand some back under load).
 * @example await batchWrite(doc, { [table]: [{ PutRequest: { Item: item } }] });
 */
export async function batchWrite(doc: DynamoDBDocumentClient, requests: WriteRequests): Promise<void> {
  let pending: WriteRequests = requests;
  for (let attempt = 0; Object.keys(pending).length > 0; attempt++) {
    if (attempt > 8) throw new Error('BatchWriteItem left items unprocessed');
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
    const reply = await doc.send(new BatchWriteCommand({ RequestItems: pending }));
    pending = (reply.UnprocessedItems ?? {}) as WriteRequests;
  }
}
