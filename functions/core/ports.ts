import type { AuditEntry } from './audit';
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
  createWriteToken(request: { description: string; expiresAt: Date }): Promise<UpstreamToken>;
  /** Deletes the token at Logfire; a token Logfire no longer knows counts as deleted. */
  deleteWriteToken(upstreamId: string): Promise<void>;
}

/** Thrown by a store when a conditional create finds the item already there. */
export class AlreadyExists extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'AlreadyExists';
  }
}

/** A mint retried with the same Idempotency-Key: the first attempt's state. */
export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'pending'; startedAt: number }
  | { state: 'completed'; sealedReply: string };

/**
 * Persistence of token records (the port; DynamoDB is the adapter). Every state change is one
 * conditional write, so concurrent requests cannot both win.
 */
export interface TokenStore {
  /**
   * Stores a new record together with its audit entries, in one request (a mint stays within three
   * DynamoDB requests). Token ids carry 128 random bits, so the write needs no existence condition.
   */
  createToken(record: TokenRecord, audit?: AuditEntry[]): Promise<void>;
  getToken(tokenId: string): Promise<TokenRecord | undefined>;
  /**
   * Records a heartbeat in one write, only if `secretHash` matches and the status is live
   * (active, paused, rotate). Returns the updated record, or undefined when the condition failed.
   */
  recordHeartbeat(tokenId: string, secretHash: string, now: number): Promise<TokenRecord | undefined>;
  /**
   * Moves the record from a refreshable status to `refreshing`, only if `secretHash` matches and it has
   * not expired. Returns the record as it was before, or undefined when the condition failed.
   */
  claimForRefresh(tokenId: string, secretHash: string, now: number): Promise<TokenRecord | undefined>;
  /** Gives back a claim whose refresh failed before anything was issued. */
  releaseRefreshClaim(tokenId: string, previousStatus: TokenStatus, now: number): Promise<void>;
  /**
   * `refreshing` → `refreshed`, pointing at the successor; the old upstream token is queued for deletion
   * after `graceMs`. Throws if the record left `refreshing` meanwhile (revoked during the refresh).
   */
  completeRefresh(tokenId: string, successorId: string, now: number, graceMs?: number): Promise<void>;
  /**
   * Sets `revoked` unless the record is already in a terminal status (revoked, superseded, expired).
   * Returns the record as it was before, or undefined when nothing changed.
   */
  revokeToken(tokenId: string, reason: string, now: number): Promise<TokenRecord | undefined>;
  /** Claims an idempotency key, or reports what the earlier attempt with it did. Expired claims are replaced. */
  claimIdempotencyKey(key: string, now: number, ttlMs: number): Promise<IdempotencyClaim>;
  completeIdempotencyKey(key: string, sealedReply: string): Promise<void>;
  /** Frees a key whose mint failed, so a retry may try again. */
  releaseIdempotencyKey(key: string): Promise<void>;
}
