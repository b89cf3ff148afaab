import type { AuditLog } from './audit';
import type { Clock, Log, TokenStore, Upstream } from './ports';

/** The token settings the core needs (a slice of BrokerConfig, so tests can state just these). */
export interface TokenSettings {
  tokenTtlMs: number;
  rotateAfterMs: number;
  heartbeatIntervalMs: number;
  idempotencyWindowMs: number;
  /** How long an old upstream token keeps working after its refresh (clients may still be exporting). */
  rotationGraceMs: number;
  /**
   * How long after a refresh the just-spent client secret still gets the same successor back (a lost reply,
   * a duplicate request), instead of counting as reuse (RFC 9700 §4.14, Auth0's rotation overlap).
   */
  refreshGraceMs: number;
  /** A token whose last heartbeat is older than this is reclaimed by the sweep. */
  staleAfterMs: number;
}

/** Everything the core logic touches outside itself, passed in: the same core runs in Lambda, locally and in tests. */
export interface BrokerDeps {
  store: TokenStore;
  audit: AuditLog;
  upstream: Upstream;
  clock: Clock;
  log: Log;
  settings: TokenSettings;
  /**
   * The longest one upstream call may take, retries included (BrokerConfig.upstreamBudgetMs). Claims on
   * an Idempotency-Key or a refresh are leased for about this long: a claim older than that was left by a
   * crash, and the next attempt takes it over.
   */
  upstreamBudgetMs?: number;
  /** Waits between polls of a concurrent idempotent mint; tests may shorten it. */
  sleep?: (ms: number) => Promise<void>;
}

/** Where a request came from, as recorded with the token (R5). */
export interface RequestOrigin {
  sourceIp: string;
  userAgent?: string;
}
