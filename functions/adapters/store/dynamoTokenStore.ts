/**
 * The `TokenStore` port on DynamoDB. Every state change is ONE conditional write, so two concurrent
 * requests cannot both win; a failed condition becomes the port's "no" (`undefined`, `false`,
 * `AlreadyExists`), every other error is rethrown. No transactions and no TTL reliance: dynalite has
 * neither, so expiry is checked in the conditions (DESIGN §8).
 */
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { REFRESHABLE_STATUSES, LIVE_STATUSES, type TokenRecord, type TokenStatus } from '../../core/model';
import {
  AlreadyExists,
  systemClock,
  type Clock,
  type IdempotencyClaim,
  type Page,
  type PendingChainRevocation,
  type TokenStore,
} from '../../core/ports';
import { DEFAULT_RETENTION_MS, DEFAULT_SHARDS, KEY } from './tables';
import {
  TERMINAL_STATUSES,
  fromTokenItem,
  inList,
  isConditionFailure,
  toTokenItem,
  type Item,
} from './tokenItems';
import { DynamoTokenQueries } from './tokenQueries';
import { batchWrite, type DynamoAuditLog } from './auditLog';
import type { AuditEntry } from '../../core/audit';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from './idempotencyItems';
import { finishChainRevocation, listChainRevocations, queueChainRevocation } from './chainRevocations';

export interface DynamoTokenStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** Shards of the time-ordered indexes. Only ever raise it: queries fan out over 0..shards-1. */
  shards?: number;
  /** How long records outlive expiresAt before DynamoDB's TTL deletes them. */
  retentionMs?: number;
  /** Where `createToken` writes the audit entries it is given, in the same batch. */
  audit?: DynamoAuditLog;
}

/** `completeRefresh` found the token no longer `refreshing`: something revoked or expired it during the refresh. */
export class RefreshConflict extends Error {
  constructor(readonly tokenId: string) {
    super(`token ${tokenId} left the refreshing status before its refresh completed`);
    this.name = 'RefreshConflict';
  }
}

const NON_TERMINAL = inList('nt', ['active', 'paused', 'rotate', 'refreshing', 'refreshed']);
const LIVE = inList('live', LIVE_STATUSES);
const REFRESHABLE = inList('rf', REFRESHABLE_STATUSES);
const TERMINAL = inList('term', TERMINAL_STATUSES);

/**
 * @example
 * const store = new DynamoTokenStore({ client: createDocumentClient(), tableName: config.tableName });
 * const record = await store.recordHeartbeat(tokenId, hashSecret(secret), Date.now());
 */
export class DynamoTokenStore extends DynamoTokenQueries implements TokenStore {
  private readonly retentionMs: number;
  private readonly audit?: DynamoAuditLog;

  constructor(options: DynamoTokenStoreOptions) {
    super(
      { doc: options.client, tableName: options.tableName },
      options.shards ?? DEFAULT_SHARDS,
      options.clock ?? systemClock,
    );
    if (!Number.isInteger(this.shards) || this.shards < 1) {
      throw new Error('shards must be a whole number >= 1');
    }
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.audit = options.audit;
  }

  /**
   * With audit entries: one BatchWriteItem across the tokens and audit tables, so a mint costs no extra
   * request for its audit line. BatchWriteItem takes no condition; token ids carry 128 random bits, so
   * the existence check only the plain path makes can never fail in practice.
   */
  async createToken(record: TokenRecord, audit: AuditEntry[] = []): Promise<void> {
    const item = toTokenItem(record, { shards: this.shards, retentionMs: this.retentionMs });
    if (audit.length > 0) {
      if (!this.audit) throw new Error('createToken: audit entries given but the store has no audit log');
      if (audit.length > 24) throw new Error('createToken: at most 24 audit entries fit in one batch');
      await batchWrite(this.target.doc, {
        [this.target.tableName]: [{ PutRequest: { Item: item } }],
        ...this.audit.writeRequests(audit),
      });
      return;
    }
    try {
      await this.target.doc.send(
        new PutCommand({
          TableName: this.target.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new AlreadyExists(`token ${record.tokenId}`);
      throw error;
    }
  }

  async getToken(tokenId: string): Promise<TokenRecord | undefined> {
    const reply = await this.target.doc.send(
      new GetCommand({ TableName: this.target.tableName, Key: KEY.token(tokenId), ConsistentRead: true }),
    );
    return reply.Item ? fromTokenItem(reply.Item) : undefined;
  }

  /** The hot path: exactly one UpdateItem, which also moves the token in the stale index. */
  async recordHeartbeat(tokenId: string, secretHash: string, now: number): Promise<TokenRecord | undefined> {
    const item = await this.updateToken(tokenId, {
      update: 'SET #lastHeartbeatAt = :now, #gsiSeenAt = :now',
      condition: `#secretHash = :hash AND #status IN (${LIVE.text}) AND #expiresAt > :now`,
      values: { ':now': now, ':hash': secretHash, ...LIVE.values },
      returnValues: 'ALL_NEW',
    });
    return item && fromTokenItem(item);
  }

  async claimForRefresh(tokenId: string, secretHash: string, now: number): Promise<TokenRecord | undefined> {
    const item = await this.updateToken(tokenId, {
      update: 'SET #status = :refreshing, #updatedAt = :now REMOVE #gsiRotateAt, #gsiSeenAt',
      condition: `#secretHash = :hash AND #status IN (${REFRESHABLE.text}) AND #expiresAt > :now`,
      values: { ':now': now, ':hash': secretHash, ':refreshing': 'refreshing', ...REFRESHABLE.values },
      returnValues: 'ALL_OLD',
    });
    return item && fromTokenItem(item);
  }

  /** Puts back the status and the index entries the claim removed; a no-op if it is no longer `refreshing`. */
  async releaseRefreshClaim(tokenId: string, previousStatus: TokenStatus, now: number): Promise<void> {
    if (!REFRESHABLE_STATUSES.includes(previousStatus)) {
      throw new Error(`releaseRefreshClaim: ${previousStatus} is not a status a refresh starts from`);
    }
    const rotateKey = previousStatus === 'active' ? ', #gsiRotateAt = #refreshAfter' : '';
    const item = await this.updateToken(tokenId, {
      update: `SET #status = :previous, #updatedAt = :now, #gsiSeenAt = if_not_exists(#lastHeartbeatAt, #createdAt)${rotateKey}`,
      condition: '#status = :refreshing',
      values: { ':previous': previousStatus, ':now': now, ':refreshing': 'refreshing' },
    });
    if (!item) return; // revoked or expired meanwhile: nothing to give back
  }

  /**
   * `refreshing` → `refreshed`, and queues the old upstream token for deletion once the grace period is over
   * (clients may still be exporting with it). Throws `RefreshConflict` when the record is no longer
   * `refreshing` (revoked or expired meanwhile): the caller must then withdraw the successor it just issued.
   */
  async completeRefresh(tokenId: string, successorId: string, now: number, graceMs = 0): Promise<void> {
    const item = await this.updateToken(tokenId, {
      update:
        'SET #status = :refreshed, #successorId = :successor, #updatedAt = :now, #gsiDeleteAt = :due ' +
        'REMOVE #gsiRotateAt, #gsiSeenAt',
      condition: '#status = :refreshing',
      values: {
        ':refreshed': 'refreshed',
        ':refreshing': 'refreshing',
        ':successor': successorId,
        ':now': now,
        ':due': now + graceMs,
      },
    });
    if (!item) throw new RefreshConflict(tokenId);
  }

  /**
   * Any non-terminal status → `revoked`, and queues the upstream token for deletion now (the queue index only
   * holds tokens that have an upstreamId, so user-token mode never enters it).
   */
  async revokeToken(tokenId: string, reason: string, now: number): Promise<TokenRecord | undefined> {
    const item = await this.updateToken(tokenId, {
      update:
        'SET #status = :revoked, #statusReason = :reason, #updatedAt = :now, #gsiDeleteAt = :now ' +
        'REMOVE #gsiRotateAt, #gsiSeenAt, #gsiExpireAt',
      condition: `attribute_exists(#pk) AND NOT (#status IN (${TERMINAL.text}))`,
      values: { ':revoked': 'revoked', ':reason': reason, ':now': now, ...TERMINAL.values },
      returnValues: 'ALL_OLD',
    });
    return item && fromTokenItem(item);
  }

  /** The rotation job: `active` → `rotate` once refreshAfter has passed. False if it no longer applies. */
  async markForRotation(tokenId: string, now: number): Promise<boolean> {
    const item = await this.updateToken(tokenId, {
      update: 'SET #status = :rotate, #updatedAt = :now REMOVE #gsiRotateAt',
      condition: '#status = :active AND #refreshAfter <= :now AND #expiresAt > :now',
      values: { ':rotate': 'rotate', ':active': 'active', ':now': now },
    });
    return item !== undefined;
  }

  /**
   * Admin pause: `active`/`rotate` → `paused`; with `queueUpstreamDeletion` (direct mode) the same write
   * queues the upstream token for deletion now. Returns the record as it was, or undefined.
   */
  async pauseToken(
    tokenId: string,
    reason: string,
    now: number,
    options: { queueUpstreamDeletion?: boolean } = {},
  ): Promise<TokenRecord | undefined> {
    const queue = options.queueUpstreamDeletion ? ', #gsiDeleteAt = :now' : '';
    const item = await this.updateToken(tokenId, {
      update: `SET #status = :paused, #statusReason = :reason, #updatedAt = :now${queue} REMOVE #gsiRotateAt`,
      condition: `#status IN (${REFRESHABLE.text})`,
      values: { ':paused': 'paused', ':reason': reason, ':now': now, ...REFRESHABLE.values },
      returnValues: 'ALL_OLD',
    });
    return item && fromTokenItem(item);
  }

  /**
   * Admin resume: `paused` → `active` (a token already past refreshAfter is picked up by the next rotation
   * run), or → `rotate` when the pause deleted its upstream token, so the next heartbeat says `rotate`.
   */
  async resumeToken(
    tokenId: string,
    now: number,
    status: 'active' | 'rotate' = 'active',
  ): Promise<TokenRecord | undefined> {
    const rotateKey = status === 'active' ? ', #gsiRotateAt = #refreshAfter' : '';
    const item = await this.updateToken(tokenId, {
      update: `SET #status = :status, #updatedAt = :now${rotateKey} REMOVE #statusReason`,
      condition: '#status = :paused',
      values: { ':status': status, ':paused': 'paused', ':now': now },
      returnValues: 'ALL_NEW',
    });
    return item && fromTokenItem(item);
  }

  /** The sweep: a non-terminal token past expiresAt → `expired`. Returns the record as it was, or undefined. */
  async expireToken(tokenId: string, now: number): Promise<TokenRecord | undefined> {
    const item = await this.updateToken(tokenId, {
      update: 'SET #status = :expired, #updatedAt = :now REMOVE #gsiRotateAt, #gsiSeenAt, #gsiExpireAt',
      condition: `#status IN (${NON_TERMINAL.text}) AND #expiresAt <= :now`,
      values: { ':expired': 'expired', ':now': now, ...NON_TERMINAL.values },
      returnValues: 'ALL_OLD',
    });
    return item && fromTokenItem(item);
  }

  /**
   * The sweep: a live token silent since before `seenBefore` (and not yet past expiresAt, which expiry
   * handles) → `expired`, its upstream token queued for deletion now. The condition re-checks the silence,
   * so a heartbeat that lands between the listing and this write keeps the token.
   */
  async reclaimToken(
    tokenId: string,
    seenBefore: number,
    reason: string,
    now: number,
  ): Promise<TokenRecord | undefined> {
    const item = await this.updateToken(tokenId, {
      update:
        'SET #status = :expired, #statusReason = :reason, #updatedAt = :now, #gsiDeleteAt = :now ' +
        'REMOVE #gsiRotateAt, #gsiSeenAt, #gsiExpireAt',
      condition: `#status IN (${LIVE.text}) AND #gsiSeenAt < :before AND #expiresAt > :now`,
      values: {
        ':expired': 'expired',
        ':reason': reason,
        ':now': now,
        ':before': seenBefore,
        ...LIVE.values,
      },
      returnValues: 'ALL_OLD',
    });
    return item && fromTokenItem(item);
  }

  queueChainRevocation(chainId: string, now: number): Promise<void> {
    return queueChainRevocation(this.target, chainId, now);
  }

  listChainRevocations(limit = 100, cursor?: string): Promise<Page<PendingChainRevocation>> {
    return listChainRevocations(this.target, limit, cursor);
  }

  finishChainRevocation(chainId: string, queuedAt: number): Promise<void> {
    return finishChainRevocation(this.target, chainId, queuedAt);
  }

  /** The deletion worker failed: try again at `retryAt` (the worker picks the backoff). */
  async deferUpstreamDeletion(tokenId: string, retryAt: number): Promise<boolean> {
    const item = await this.updateToken(tokenId, {
      update: 'SET #gsiDeleteAt = :at ADD #deleteAttempts :one',
      condition: 'attribute_exists(#gsiDeleteAt)',
      values: { ':at': retryAt, ':one': 1 },
    });
    return item !== undefined;
  }

  /** The upstream token is gone: leave the queue; a `refreshed` token becomes `superseded`. */
  async markUpstreamDeleted(tokenId: string, now: number): Promise<boolean> {
    const superseded = await this.updateToken(tokenId, {
      update:
        'SET #status = :superseded, #updatedAt = :now REMOVE #gsiDeleteAt, #deleteAttempts, #gsiExpireAt',
      condition: '#status = :refreshed AND attribute_exists(#gsiDeleteAt)',
      values: { ':superseded': 'superseded', ':refreshed': 'refreshed', ':now': now },
    });
    if (superseded) return true;
    // Revoked tokens keep their status; only the queue entry goes.
    const dequeued = await this.updateToken(tokenId, {
      update: 'REMOVE #gsiDeleteAt, #deleteAttempts',
      condition: 'attribute_exists(#gsiDeleteAt)',
      values: {},
    });
    return dequeued !== undefined;
  }

  claimIdempotencyKey(key: string, now: number, ttlMs: number): Promise<IdempotencyClaim> {
    return claimIdempotencyKey(this.target, key, now, ttlMs);
  }

  completeIdempotencyKey(key: string, sealedReply: string): Promise<void> {
    return completeIdempotencyKey(this.target, key, sealedReply);
  }

  releaseIdempotencyKey(key: string): Promise<void> {
    return releaseIdempotencyKey(this.target, key);
  }

  /**
   * One conditional UpdateItem on a token. Attribute names are written `#name` and mapped automatically.
   * Returns the item (old or new, per `returnValues`), or undefined when the condition failed.
   */
  private async updateToken(
    tokenId: string,
    write: {
      update: string;
      condition: string;
      values: Record<string, unknown>;
      returnValues?: 'ALL_OLD' | 'ALL_NEW';
    },
  ): Promise<Item | undefined> {
    const names: Record<string, string> = {};
    for (const [, name] of `${write.update} ${write.condition}`.matchAll(/#(\w+)/g)) {
      names[`#${name}`] = name!;
    }
    const input: UpdateCommandInput = {
      TableName: this.target.tableName,
      Key: KEY.token(tokenId),
      UpdateExpression: write.update,
      ConditionExpression: write.condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: Object.keys(write.values).length > 0 ? write.values : undefined,
      ReturnValues: write.returnValues ?? 'NONE',
    };
    try {
      const reply = await this.target.doc.send(new UpdateCommand(input));
      return reply.Attributes ?? {}; // {} = applied, nothing asked back
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}
