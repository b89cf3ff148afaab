import type { AdminStore } from './adminPorts';
import type { AnomalyStore } from './anomalies/ports';
import type { AuditEntry } from './audit';
import type { ClientSettingsRule } from './contract';
import type { QuotaLimits } from './deps';
import type { QuotaCounter } from './quota';
import type { TokenRecord, TokenStatus, UpstreamKind } from './model';

/** Epoch milliseconds; injected so tests can move time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Structured log lines. Callers never pass a secret; adapters write JSON. */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** A write token as Logfire issued it. */
export interface UpstreamToken {
  /** Logfire's id, needed to delete the token; absent in user-token mode. */
  upstreamId?: string;
  token: string;
  /**
   * The start of the token that Logfire's UI and list show (`token_prefix`): how an operator matches a
   * Logfire token to an install. Absent where Logfire returns none (user-token mode).
   */
  tokenPrefix?: string;
  /** True when the create was sent more than once: an earlier attempt may have made a token too. */
  retried?: boolean;
}

/** A write token as Logfire lists it (the token itself is only shown at creation). */
export interface ListedWriteToken {
  upstreamId: string;
  description?: string;
  createdAt?: string;
  expiresAt?: string;
  tokenPrefix?: string;
}

/**
 * Logfire's management API, through the configured credential (DESIGN §5).
 * Methods throw `UpstreamUnavailable` when Logfire cannot be reached or keeps refusing.
 */
export interface Upstream {
  readonly kind: UpstreamKind;
  /** False in user-token mode: Logfire offers no delete there, tokens live until their own expiry. */
  readonly canRevoke: boolean;
  /** Where clients send OTLP with their write token. */
  readonly ingestBaseUrl: string;
  /**
   * Creates a write token that Logfire expires at `expiresAt`. Logfire's public API takes nothing else: the
   * description of every API-created token is fixed to "Created by Public API" (DESIGN §5).
   */
  createWriteToken(request: { expiresAt: Date }): Promise<UpstreamToken>;
  /** Deletes the token at Logfire; a token Logfire no longer knows counts as deleted. */
  deleteWriteToken(upstreamId: string): Promise<void>;
  /**
   * Every write token of the project (API-key and dev modes; absent where Logfire has no list). The
   * sweep's reconciliation uses it to find tokens the broker created but never recorded (a crash).
   */
  listWriteTokens?(): Promise<ListedWriteToken[]>;
}

/** Thrown by a store when a conditional create finds the item already there. */
export class AlreadyExists extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'AlreadyExists';
  }
}

/** What a mint with an Idempotency-Key asks of the store. */
export interface IdempotencyClaimRequest {
  /** Names this attempt: only the attempt holding the claim may complete or release it. */
  claimId: string;
  /** A hash of the request body: the same key with another body is refused (422), never replayed. */
  requestHash: string;
  now: number;
  /** How long the key is remembered (BROKER_IDEMPOTENCY_WINDOW). */
  ttlMs: number;
  /** How long a pending claim is held; past it, the attempt is taken for dead and a retry takes over. */
  leaseMs: number;
}

/** A mint retried with the same Idempotency-Key: the first attempt's state. */
export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'pending'; startedAt: number; requestHash?: string }
  | { state: 'completed'; sealedReply: string; requestHash?: string };

/** One page of a store listing. `cursor` is opaque: pass it back for the next page; absent on the last. */
export interface Page<T> {
  items: T[];
  cursor?: string;
  /** Index entries the store read for this page (what the jobs report as `itemsRead`). */
  scannedCount: number;
}

/** A token an index says is due, with the time it is due at. */
export interface DueToken {
  tokenId: string;
  dueAt: number;
}

/** An upstream token still to be deleted at Logfire (the durable deletion queue). */
export interface PendingUpstreamDeletion extends DueToken {
  upstreamId: string;
  /** Failed attempts so far, for the backoff. */
  attempts: number;
  status: TokenStatus;
}

/**
 * A mint's write-ahead note, stored before Logfire is asked for a token (docs/lifecycle.md): if the process
 * dies before the record is stored, the sweep finds the token at Logfire by `expiresAt` and deletes it.
 */
export interface MintIntent {
  tokenId: string;
  startedAt: number;
  /** The exact `expires_at` sent to Logfire, which Logfire echoes in its list: the token's fingerprint. */
  expiresAt: number;
}

/** A chain that reuse detection began to revoke; the sweep makes sure every member ends revoked. */
export interface PendingChainRevocation {
  chainId: string;
  /** When it was queued; finishing it is conditional on this, so a newer detection is not lost. */
  queuedAt: number;
}

/**
 * The lifecycle side of the store (docs/lifecycle.md): the writes and sparse-index queries of the rotation
 * and sweep jobs and of the admin operations. Each write is one conditional write that answers "no"
 * (`undefined` / `false`) when the token is no longer in the state the write is for.
 */
export interface TokenLifecycleStore {
  /** `active` → `rotate` once refreshAfter has passed (and before expiry). */
  markForRotation(tokenId: string, now: number): Promise<boolean>;
  /**
   * `active`/`rotate` → `paused`. With `queueUpstreamDeletion` the same write queues the upstream token for
   * deletion now (direct mode: Logfire has no pause). Returns the record as it was, or undefined.
   */
  pauseToken(
    tokenId: string,
    reason: string,
    now: number,
    options?: { queueUpstreamDeletion?: boolean },
  ): Promise<TokenRecord | undefined>;
  /**
   * `paused` → `active` (back in the rotation index), or → `rotate` when its upstream token was deleted at
   * pause, so the next heartbeat makes the client refresh. Returns the record as it is now, or undefined.
   */
  resumeToken(tokenId: string, now: number, status?: 'active' | 'rotate'): Promise<TokenRecord | undefined>;
  /** A non-terminal token past expiresAt → `expired`. Returns the record as it was, or undefined. */
  expireToken(tokenId: string, now: number): Promise<TokenRecord | undefined>;
  /**
   * A live token not seen since before `seenBefore` (and not yet expired) → `expired` with `reason`, its
   * upstream token queued for deletion in the same write. A heartbeat that lands first wins.
   */
  reclaimToken(
    tokenId: string,
    seenBefore: number,
    reason: string,
    now: number,
  ): Promise<TokenRecord | undefined>;
  /** A deletion failed: try again at `retryAt`, counting the attempt. False if it is not queued. */
  deferUpstreamDeletion(tokenId: string, retryAt: number): Promise<boolean>;
  /** The upstream token is gone: leave the queue; a `refreshed` token becomes `superseded`. */
  markUpstreamDeleted(tokenId: string, now: number): Promise<boolean>;
  listDueForRotation(now: number, limit: number, cursor?: string): Promise<Page<DueToken>>;
  listStale(before: number, limit: number, cursor?: string): Promise<Page<DueToken>>;
  /** Takes a token no longer live out of the stale index (a heartbeat from its revoked owner put it back). */
  leaveStaleIndex(tokenId: string): Promise<void>;
  listExpired(now: number, limit: number, cursor?: string): Promise<Page<DueToken>>;
  listPendingUpstreamDeletions(
    now: number,
    limit: number,
    cursor?: string,
  ): Promise<Page<PendingUpstreamDeletion>>;
  listByInstall(installId: string, limit: number, cursor?: string): Promise<Page<TokenRecord>>;
  listByChain(chainId: string, limit: number, cursor?: string): Promise<Page<TokenRecord>>;
  /** Every non-terminal token, any order (bulk admin filters read it; never on a request path). */
  listNonTerminal(limit: number, cursor?: string): Promise<Page<TokenRecord>>;
  /** Durably notes that `chainId` is being revoked, before the walk starts (the sweep finishes it). */
  queueChainRevocation(chainId: string, now: number): Promise<void>;
  listChainRevocations(limit: number, cursor?: string): Promise<Page<PendingChainRevocation>>;
  /** Removes the note, unless it was queued again after `queuedAt`. */
  finishChainRevocation(chainId: string, queuedAt: number): Promise<void>;
  /** Mint intents started before `startedBefore`, oldest first: the ones whose mint can no longer be running. */
  listMintIntents(startedBefore: number, limit: number, cursor?: string): Promise<Page<MintIntent>>;
  /** Whether some token record holds this Logfire token (the byUpstreamId index). */
  isUpstreamTokenRecorded(upstreamId: string): Promise<boolean>;
}

/** Quota counters and the operator's run-time overrides of the limits (core/quotas.ts). */
export interface QuotaStore {
  /** Takes `amount` if the counter is under its limit (one conditional write); false when used up. */
  takeQuota(counter: QuotaCounter, amount?: number): Promise<boolean>;
  /** Gives back what `takeQuota` took, for a request another counter refused. */
  refundQuota(counter: QuotaCounter, amount?: number): Promise<void>;
  getQuotaOverrides(): Promise<Partial<QuotaLimits>>;
  /** Sets (a number) or drops (null) overrides in one write; returns the overrides after it. */
  changeQuotaOverrides(
    changes: Partial<Record<keyof QuotaLimits, number | null>>,
    now: number,
  ): Promise<Partial<QuotaLimits>>;
  /** The quota overrides and the run-time mint allowlist, in one read (they share one item). */
  getRuntimeOverrides(): Promise<RuntimeOverrides>;
}

/** What the operator changed at run time (the admin API): quota limits, and the mint allowlist if set. */
export interface RuntimeOverrides {
  limits: Partial<QuotaLimits>;
  mintAllowCidrs?: string[];
}

/** The remote client settings (core/clientSettings.ts): one item holding every rule, replaced whole. */
export interface ClientSettingsStore {
  /** The stored rules as written (checked again by the caller); `[]` when none are stored. */
  getClientSettingsRules(): Promise<unknown[]>;
  /** Replaces every rule; returns the rules stored before. */
  putClientSettingsRules(
    rules: readonly ClientSettingsRule[],
    now: number,
    updatedBy: string,
  ): Promise<unknown[]>;
}

/** The OTLP/HTTP signals Logfire ingests, each at `{base}/v1/<signal>`. */
export type OtlpSignal = 'traces' | 'logs' | 'metrics';

/** What one token relayed in the current windows (docs/relay.md). */
export interface RelayUsage {
  requestsThisMinute: number;
  bytesToday: number;
}

/** One relayed request, charged to its token in a single conditional write. */
export interface RelayCharge {
  tokenId: string;
  /** SHA-256 of the relay token presented; the write applies only if it is the stored one. */
  relayTokenHash: string;
  now: number;
  /** The body's size as received: what the bytes quota counts. */
  bytes: number;
  /** The requests-per-minute counter and the bytes-per-day counter (core/quota.ts). */
  minute: QuotaCounter;
  day: QuotaCounter;
  /** A `refreshed` token still relays if it was refreshed after this (the rotation grace). */
  refreshedAfter: number;
}

/** A charge that went through: the record as it is now, and counters left from older windows. */
export interface RelayCharged {
  record: TokenRecord;
  usage: RelayUsage;
  /** Counters of windows before the previous one, still on the item: `forgetRelayWindows` removes them. */
  staleWindows: string[];
}

/** One pooled Logfire write token, sealed: `sealed` is the token encrypted under the pool key. */
export interface SealedPoolToken {
  sealed: string;
  upstreamId?: string;
  tokenPrefix?: string;
  createdAt: number;
  expiresAt: number;
}

/** The relay's upstream pool as stored: one item, replaced whole under a version check. */
export interface StoredPool {
  /** 1 at creation, one more at each replacement. */
  version: number;
  current: SealedPoolToken;
  previous?: SealedPoolToken;
  updatedAt: number;
}

/** The ingest relay's side of the store (docs/relay.md). */
export interface RelayStore {
  /**
   * Charges one relayed request in ONE conditional write that also checks the credential, the status and
   * both quotas (a request passes while the day's bytes are under the limit, and counts its full size).
   * Undefined when the condition failed: unknown token, wrong relay token, not relayable, or over a quota.
   */
  chargeRelayUse(charge: RelayCharge): Promise<RelayCharged | undefined>;
  /** The record and its usage in these windows, read to tell why a charge was refused. */
  getRelayState(
    tokenId: string,
    windows: { minute: QuotaCounter; day: QuotaCounter },
  ): Promise<{ record: TokenRecord; usage: RelayUsage } | undefined>;
  /** Removes counters of past windows that a charge reported as stale. */
  forgetRelayWindows(tokenId: string, windows: readonly string[]): Promise<void>;
  getUpstreamPool(): Promise<StoredPool | undefined>;
  /**
   * Stores the pool: without `expectedVersion` only if there is none yet (concurrent cold relays create one),
   * with it only if the stored one still has that version. False when the condition failed.
   */
  putUpstreamPool(pool: StoredPool, expectedVersion?: number): Promise<boolean>;
}

/** What Logfire's ingest made of a forwarded batch. */
export type ForwardOutcome =
  /** 2xx: the reply to hand back byte for byte. */
  | { kind: 'accepted'; status: number; contentType?: string; body: Buffer }
  /** 401 or 403: Logfire did not take the pool token (nothing was ingested; the batch may be sent again). */
  | { kind: 'refused'; status: number }
  /** Another 4xx: Logfire refused the batch itself. */
  | { kind: 'rejected'; status: number }
  /** No reply in time, a network error, 408, 429, 5xx or a redirect. */
  | { kind: 'unavailable'; problem: string; retryAfterSeconds?: number };

/** A batch to forward to Logfire's ingest, byte for byte. */
export interface ForwardedBatch {
  signal: OtlpSignal;
  /** The Logfire write token to send it with (`Authorization: <token>`). */
  token: string;
  body: Buffer;
  contentType: string;
  contentEncoding?: string;
  userAgent?: string;
}

/** Logfire's OTLP/HTTP ingest (the adapter is functions/adapters/upstream/ingest.ts). */
export interface IngestForwarder {
  /** One attempt, never retried here (docs/relay.md); never throws for what Logfire answered. */
  forward(batch: ForwardedBatch): Promise<ForwardOutcome>;
}

/**
 * Persistence of token records (the port; DynamoDB is the adapter). Every state change is one
 * conditional write, so concurrent requests cannot both win.
 */
export interface TokenStore
  extends TokenLifecycleStore, QuotaStore, ClientSettingsStore, AnomalyStore, RelayStore, AdminStore {
  /**
   * Stores a new record together with its audit entries, in one request (a mint stays within three
   * DynamoDB requests). Token ids carry 128 random bits, so the write needs no existence condition.
   */
  createToken(
    record: TokenRecord,
    audit?: AuditEntry[],
    options?: { settlesIntent?: boolean },
  ): Promise<void>;
  /** Notes a mint before Logfire is called (API-key and dev modes), so a crash cannot leave an untracked token. */
  recordMintIntent(intent: MintIntent): Promise<void>;
  /** Removes a mint's intent: its token is recorded, was deleted again, or was never created. */
  dropMintIntent(tokenId: string): Promise<void>;
  getToken(tokenId: string): Promise<TokenRecord | undefined>;
  /**
   * Records a heartbeat in one write, only if `secretHash` matches, it has not expired and the status is
   * live (active, paused, rotate) or revoked; with `countHour`, counts it in its hour (the heartbeat quota).
   * Returns the updated record, or undefined when the condition failed (a wrong or dead credential).
   */
  recordHeartbeat(
    tokenId: string,
    secretHash: string,
    now: number,
    options?: { countHour?: boolean },
  ): Promise<{ record: TokenRecord; beatsThisHour?: number } | undefined>;
  /**
   * Moves the record from a refreshable status, or from a `refreshing` whose lease is over (a crashed
   * refresh), to `refreshing` for `claim.successorId` under a lease of `claim.leaseMs`; only if `secretHash`
   * matches and it has not expired. Returns the record as it was before, or undefined when the condition failed.
   */
  claimForRefresh(
    tokenId: string,
    secretHash: string,
    now: number,
    claim: { successorId: string; leaseMs: number },
  ): Promise<TokenRecord | undefined>;
  /** Gives back a claim whose refresh failed before anything was issued, to the status it started from. */
  releaseRefreshClaim(
    tokenId: string,
    claim: { successorId: string; from: TokenStatus },
    now: number,
  ): Promise<void>;
  /**
   * `refreshing` → `refreshed`, pointing at the successor and keeping its sealed reply for the refresh
   * grace; the old upstream token is queued for deletion after `graceMs`. Throws if the claim for
   * `successorId` no longer holds the record (revoked, expired or taken over during the refresh).
   */
  completeRefresh(
    tokenId: string,
    successorId: string,
    now: number,
    options: { graceMs?: number; sealedSuccessor: string },
  ): Promise<void>;
  /**
   * Sets `revoked` unless the record is already in a terminal status (revoked, superseded, expired).
   * Returns the record as it was before, or undefined when nothing changed.
   */
  revokeToken(tokenId: string, reason: string, now: number): Promise<TokenRecord | undefined>;
  /**
   * Claims an idempotency key, or reports what the earlier attempt with it did. Expired claims are replaced,
   * and so is a pending claim past its lease whose request was the same (its attempt died).
   */
  claimIdempotencyKey(key: string, claim: IdempotencyClaimRequest): Promise<IdempotencyClaim>;
  /** Seals the reply, if the claim `claimId` still holds the key. */
  completeIdempotencyKey(key: string, claimId: string, sealedReply: string): Promise<void>;
  /** Frees a key whose mint failed, so a retry may try again (only if `claimId` still holds it). */
  releaseIdempotencyKey(key: string, claimId: string): Promise<void>;
}
