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

/** The upstream budget when the wiring gives none: the HTTP client's default (adapters/upstream/http.ts). */
const DEFAULT_UPSTREAM_BUDGET_MS = 25_000;
/** Room after the upstream call for the store writes (and a compensating delete) of the claim's holder. */
const CLAIM_LEASE_SLACK_MS = 5_000;

/**
 * How long a refresh or an idempotent mint holds its claim: an attempt still running after this is dead
 * (its Lambda timed out, its process was killed), so the next attempt may take the claim over.
 * @example claimLeaseMs({ upstreamBudgetMs: 25_000 }) // 30_000
 */
export function claimLeaseMs(deps: Pick<BrokerDeps, 'upstreamBudgetMs'>): number {
  return (deps.upstreamBudgetMs ?? DEFAULT_UPSTREAM_BUDGET_MS) + CLAIM_LEASE_SLACK_MS;
}

/** Where a request came from, as recorded with the token (R5). */
export interface RequestOrigin {
  sourceIp: string;
  userAgent?: string;
}
