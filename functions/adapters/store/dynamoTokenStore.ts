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
  type IdempotencyClaimRequest,
  type MintIntent,
  type Page,
  type PendingChainRevocation,
  type TokenStore,
} from '../../core/ports';
import { DEFAULT_RETENTION_MS, DEFAULT_SHARDS, KEY, MINT_INTENTS } from './tables';
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
import { dropMintIntent, isUpstreamTokenRecorded, listMintIntents, recordMintIntent } from './mintIntents';
import { getClientSettingsRules, putClientSettingsRules } from './clientSettingsItems';
import type { ClientSettingsRule } from '../../core/contract';
import {
  getMintAllowOverride,
  getQuotaOverrides,
  getRuntimeOverrides,
  putMintAllowOverride,
  changeQuotaOverrides,
  refundQuota,
  takeQuota,
} from './quotaItems';
import {
  advanceBulkJob,
  createBulkJob,
  getBulkJob,
  getOtpState,
  lockOtp,
  takeOtpAttempt,
  useOtpStep,
} from './adminItems';
import type { BulkJob, OtpState } from '../../core/adminPorts';
import type { QuotaLimits } from '../../core/deps';
import type { QuotaCounter } from '../../core/quota';
import { finishChainRevocation, listChainRevocations, queueChainRevocation } from './chainRevocations';
import type { AnomalyActionRecord, RelayUsage as RelayUsageRecord } from '../../core/anomalies/ports';
import {
  advanceAnomalyCursor,
  claimAnomalyAction,
  completeAnomalyAction,
  getAnomalyAction,
  getAnomalyCursor,
  listAnomalyActions,
  markAnomalyActionUndone,
  takeOverAnomalyAction,
} from './anomalyItems';
import type { RelayCharge, RelayCharged, RelayUsage, RuntimeOverrides, StoredPool } from '../../core/ports';
import {
  chargeRelayUse,
  forgetRelayWindows,
  getRelayState,
  getUpstreamPool,
  listRelayUsage,
  putUpstreamPool,
} from './relayItems';

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
/** Statuses whose owner a heartbeat answers: the live ones, and `revoked` (so the client stops). */
const HEARTBEAT = inList('hb', [...LIVE_STATUSES, 'revoked']);
const HOUR_MS = 3_600_000;
/** Hour counters older than this are removed by the next heartbeat (a 6 h interval with jitter fits). */
const HEARTBEAT_HOURS_KEPT = 12;

/**
 * The attribute counting heartbeats in `hour` (`hq<hour>`), and the recent ones to remove in the same write:
 * an update expression cannot reset a counter whose hour is over, so each hour counts in its own attribute.
 */
export function heartbeatCounter(hour: number): { current: string; previous: string[] } {
  return {
    current: `hq${hour}`,
    previous: Array.from({ length: HEARTBEAT_HOURS_KEPT }, (_, i) => `hq${hour - 1 - i}`),
  };
}

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
  async createToken(
    record: TokenRecord,
    audit: AuditEntry[] = [],
    options: { settlesIntent?: boolean } = {},
  ): Promise<void> {
    const item = toTokenItem(record, { shards: this.shards, retentionMs: this.retentionMs });
    if (audit.length > 0 || options.settlesIntent) {
      if (audit.length > 0 && !this.audit) {
        throw new Error('createToken: audit entries given but the store has no audit log');
      }
      if (audit.length > 23) throw new Error('createToken: at most 23 audit entries fit in one batch');
      // The record and the removal of its mint intent in one request: once the record is there, nothing
      // is left for reconciliation (and if only the record landed, reconciliation finds it recorded).
      const intent = options.settlesIntent
        ? [{ DeleteRequest: { Key: MINT_INTENTS.key(record.tokenId) } }]
        : [];
      const auditRequests = audit.length > 0 ? this.audit!.writeRequests(audit) : {};
      await batchWrite(this.target.doc, {
        ...auditRequests,
        [this.target.tableName]: [{ PutRequest: { Item: item } }, ...intent],
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

  /**
   * The hot path: exactly one UpdateItem, which also moves the token in the stale index and, with
   * `countHour`, counts the heartbeat in its hour (the quota folded into the same write). A revoked token's
   * owner is answered too (the write succeeds), so a failed condition always means a wrong or dead
   * credential and no second read is ever needed to tell why.
   */
  async recordHeartbeat(
    tokenId: string,
    secretHash: string,
    now: number,
    options: { countHour?: boolean } = {},
  ): Promise<{ record: TokenRecord; beatsThisHour?: number } | undefined> {
    const hour = Math.floor(now / HOUR_MS);
    const counted = options.countHour ? heartbeatCounter(hour) : undefined;
    const count = counted
      ? `, #${counted.current} = if_not_exists(#${counted.current}, :zero) + :one REMOVE ${counted.previous.map((name) => `#${name}`).join(', ')}`
      : '';
    const item = await this.updateToken(tokenId, {
      update: `SET #lastHeartbeatAt = :now, #gsiSeenAt = :now${count}`,
      condition: `#secretHash = :hash AND #status IN (${HEARTBEAT.text}) AND #expiresAt > :now`,
      values: {
        ':now': now,
        ':hash': secretHash,
        ...HEARTBEAT.values,
        ...(counted ? { ':zero': 0, ':one': 1 } : {}),
      },
      returnValues: 'ALL_NEW',
    });
    if (!item) return undefined;
    return {
      record: fromTokenItem(item),
      beatsThisHour: counted ? (item[counted.current] as number) : undefined,
    };
  }

  /**
   * Takes a terminal token out of the stale index, where a heartbeat from its revoked owner put it back:
   * the sweep calls it when a reclaim finds the token no longer live.
   */
  async leaveStaleIndex(tokenId: string): Promise<void> {
    await this.updateToken(tokenId, {
      update: 'REMOVE #gsiSeenAt',
      condition: `attribute_exists(#gsiSeenAt) AND NOT (#status IN (${LIVE.text}))`,
      values: { ...LIVE.values },
    });
  }

  /**
   * A refreshable token, or a `refreshing` one whose lease is over (its refresh died), → `refreshing` under a
   * new lease for `claim.successorId`. `refreshFrom` keeps the status the first claim started from.
   */
  async claimForRefresh(
    tokenId: string,
    secretHash: string,
    now: number,
    claim: { successorId: string; leaseMs: number },
  ): Promise<TokenRecord | undefined> {
    const item = await this.updateToken(tokenId, {
      update:
        'SET #status = :refreshing, #updatedAt = :now, #refreshSuccessorId = :successor, ' +
        '#refreshLeaseUntil = :lease, #refreshFrom = if_not_exists(#refreshFrom, #status) ' +
        'REMOVE #gsiRotateAt, #gsiSeenAt',
      condition:
        `#secretHash = :hash AND #expiresAt > :now AND (#status IN (${REFRESHABLE.text}) OR ` +
        '(#status = :refreshing AND #refreshLeaseUntil <= :now))',
      values: {
        ':now': now,
        ':hash': secretHash,
        ':refreshing': 'refreshing',
        ':successor': claim.successorId,
        ':lease': now + claim.leaseMs,
        ...REFRESHABLE.values,
      },
      returnValues: 'ALL_OLD',
    });
    return item && fromTokenItem(item);
  }

  /**
   * Puts back the status and the index entries the claim removed. A no-op unless the claim for
   * `successorId` still holds the record (revoked, expired or taken over meanwhile: nothing to give back).
   */
  async releaseRefreshClaim(
    tokenId: string,
    claim: { successorId: string; from: TokenStatus },
    now: number,
  ): Promise<void> {
    const { successorId, from } = claim;
    if (!REFRESHABLE_STATUSES.includes(from)) {
      throw new Error(`releaseRefreshClaim: ${from} is not a status a refresh starts from`);
    }
    const rotateKey = from === 'active' ? ', #gsiRotateAt = #refreshAfter' : '';
    await this.updateToken(tokenId, {
      update:
        `SET #status = :previous, #updatedAt = :now, #gsiSeenAt = if_not_exists(#lastHeartbeatAt, #createdAt)${rotateKey} ` +
        'REMOVE #refreshSuccessorId, #refreshLeaseUntil, #refreshFrom',
      condition: '#status = :refreshing AND #refreshSuccessorId = :successor',
      values: { ':previous': from, ':now': now, ':refreshing': 'refreshing', ':successor': successorId },
    });
  }

  /**
   * `refreshing` → `refreshed`, keeping the successor's sealed reply for the refresh grace, and queues the
   * old upstream token for deletion once the rotation grace is over (clients may still be exporting with
   * it). Throws `RefreshConflict` unless this claim still holds the record (revoked, expired or taken over
   * meanwhile): the caller must then withdraw the successor it just issued.
   */
  async completeRefresh(
    tokenId: string,
    successorId: string,
    now: number,
    options: { graceMs?: number; sealedSuccessor: string },
  ): Promise<void> {
    const item = await this.updateToken(tokenId, {
      update:
        'SET #status = :refreshed, #successorId = :successor, #updatedAt = :now, #refreshedAt = :now, ' +
        '#sealedSuccessor = :sealed, #gsiDeleteAt = :due ' +
        'REMOVE #gsiRotateAt, #gsiSeenAt, #refreshSuccessorId, #refreshLeaseUntil, #refreshFrom',
      condition: '#status = :refreshing AND #refreshSuccessorId = :successor',
      values: {
        ':refreshed': 'refreshed',
        ':refreshing': 'refreshing',
        ':successor': successorId,
        ':sealed': options.sealedSuccessor,
        ':now': now,
        ':due': now + (options.graceMs ?? 0),
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
        'REMOVE #gsiRotateAt, #gsiSeenAt, #gsiExpireAt, #gsiAppVersion, #gsiSource, #sealedSuccessor',
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
      update:
        'SET #status = :expired, #updatedAt = :now ' +
        'REMOVE #gsiRotateAt, #gsiSeenAt, #gsiExpireAt, #gsiAppVersion, #gsiSource',
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
        'REMOVE #gsiRotateAt, #gsiSeenAt, #gsiExpireAt, #gsiAppVersion, #gsiSource',
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
        'SET #status = :superseded, #updatedAt = :now ' +
        'REMOVE #gsiDeleteAt, #deleteAttempts, #gsiExpireAt, #gsiAppVersion, #gsiSource, #sealedSuccessor',
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

  claimIdempotencyKey(key: string, claim: IdempotencyClaimRequest): Promise<IdempotencyClaim> {
    return claimIdempotencyKey(this.target, key, claim);
  }

  completeIdempotencyKey(key: string, claimId: string, sealedReply: string): Promise<void> {
    return completeIdempotencyKey(this.target, key, claimId, sealedReply);
  }

  releaseIdempotencyKey(key: string, claimId: string): Promise<void> {
    return releaseIdempotencyKey(this.target, key, claimId);
  }

  recordMintIntent(intent: MintIntent): Promise<void> {
    return recordMintIntent(this.target, intent);
  }

  dropMintIntent(tokenId: string): Promise<void> {
    return dropMintIntent(this.target, tokenId);
  }

  listMintIntents(startedBefore: number, limit = 100, cursor?: string): Promise<Page<MintIntent>> {
    return listMintIntents(this.target, startedBefore, limit, cursor);
  }

  isUpstreamTokenRecorded(upstreamId: string): Promise<boolean> {
    return isUpstreamTokenRecorded(this.target, upstreamId);
  }

  takeQuota(counter: QuotaCounter, amount?: number): Promise<boolean> {
    return takeQuota(this.target, counter, amount);
  }

  refundQuota(counter: QuotaCounter, amount?: number): Promise<void> {
    return refundQuota(this.target, counter, amount);
  }

  getQuotaOverrides(): Promise<Partial<QuotaLimits>> {
    return getQuotaOverrides(this.target);
  }

  changeQuotaOverrides(
    changes: Partial<Record<keyof QuotaLimits, number | null>>,
    now: number,
  ): Promise<Partial<QuotaLimits>> {
    return changeQuotaOverrides(this.target, changes, now);
  }

  getClientSettingsRules(): Promise<unknown[]> {
    return getClientSettingsRules(this.target);
  }

  putClientSettingsRules(
    rules: readonly ClientSettingsRule[],
    now: number,
    updatedBy: string,
  ): Promise<unknown[]> {
    return putClientSettingsRules(this.target, rules, now, updatedBy);
  }

  getRuntimeOverrides(): Promise<RuntimeOverrides> {
    return getRuntimeOverrides(this.target);
  }

  // The admin API's items (adminItems.ts, quotaItems.ts, anomalyItems.ts).

  getMintAllowOverride(): Promise<string[] | undefined> {
    return getMintAllowOverride(this.target);
  }

  putMintAllowOverride(cidrs: string[] | null, now: number): Promise<void> {
    return putMintAllowOverride(this.target, cidrs, now);
  }

  listAnomalyActions(limit = 50, cursor?: string): Promise<Page<AnomalyActionRecord>> {
    return listAnomalyActions(this.target, limit, cursor);
  }

  createBulkJob(job: BulkJob): Promise<void> {
    return createBulkJob(this.target, job);
  }

  getBulkJob(jobId: string): Promise<BulkJob | undefined> {
    return getBulkJob(this.target, jobId);
  }

  advanceBulkJob(
    jobId: string,
    pages: number,
    page: { matched: number; processed: number; changed: number; cursor?: string },
  ): Promise<BulkJob | undefined> {
    return advanceBulkJob(this.target, jobId, pages, page);
  }

  takeOtpAttempt(
    now: number,
    limits: { windowMs: number; maxFailures: number },
  ): Promise<{ taken: true; failures: number } | { taken: false; retryAt: number }> {
    return takeOtpAttempt(this.target, now, limits);
  }

  useOtpStep(step: number, now: number): Promise<boolean> {
    return useOtpStep(this.target, step, now);
  }

  lockOtp(until: number): Promise<void> {
    return lockOtp(this.target, until);
  }

  /** The second factor's state as stored (tests and diagnostics). */
  getOtpState(): Promise<OtpState> {
    return getOtpState(this.target);
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

  // The anomaly phase's items (anomalyItems.ts).

  getAnomalyCursor(): Promise<number | undefined> {
    return getAnomalyCursor(this.target);
  }

  advanceAnomalyCursor(evaluatedUntil: number): Promise<void> {
    return advanceAnomalyCursor(this.target, evaluatedUntil);
  }

  claimAnomalyAction(
    record: AnomalyActionRecord,
  ): Promise<{ created: true } | { created: false; existing: AnomalyActionRecord }> {
    return claimAnomalyAction(this.target, record);
  }

  takeOverAnomalyAction(actionId: string, claimedBefore: number, now: number): Promise<boolean> {
    return takeOverAnomalyAction(this.target, actionId, claimedBefore, now);
  }

  completeAnomalyAction(actionId: string, tokenIds: string[]): Promise<void> {
    return completeAnomalyAction(this.target, actionId, tokenIds);
  }

  getAnomalyAction(actionId: string): Promise<AnomalyActionRecord | undefined> {
    return getAnomalyAction(this.target, actionId);
  }

  markAnomalyActionUndone(actionId: string, now: number): Promise<boolean> {
    return markAnomalyActionUndone(this.target, actionId, now);
  }

  /** The tokens that relayed since `since`, with today's bytes and their baseline (byRelayAt index). */
  listRelayUsage(since: number, limit = 100, cursor?: string): Promise<Page<RelayUsageRecord>> {
    return listRelayUsage(this.target, this.shards, since, limit, cursor);
  }

  // The ingest relay (functions/adapters/store/relayItems.ts, docs/relay.md).

  chargeRelayUse(charge: RelayCharge): Promise<RelayCharged | undefined> {
    return chargeRelayUse(this.target, this.shards, charge);
  }

  getRelayState(
    tokenId: string,
    windows: { minute: QuotaCounter; day: QuotaCounter },
  ): Promise<{ record: TokenRecord; usage: RelayUsage } | undefined> {
    return getRelayState(this.target, tokenId, windows);
  }

  forgetRelayWindows(tokenId: string, windows: readonly string[]): Promise<void> {
    return forgetRelayWindows(this.target, tokenId, windows);
  }

  getUpstreamPool(): Promise<StoredPool | undefined> {
    return getUpstreamPool(this.target);
  }

  putUpstreamPool(pool: StoredPool, expectedVersion?: number): Promise<boolean> {
    return putUpstreamPool(this.target, pool, expectedVersion);
  }
}
