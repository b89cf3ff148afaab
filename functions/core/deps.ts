import type { AnomalySettings } from './anomalies/settings';
import type { AuditLog } from './audit';
import type { Clock, Log, TokenStore, Upstream } from './ports';
import type { RelayDeps } from './relay';

/**
 * Quota limits (R9); 0 means no limit. The defaults are configuration (`BROKER_QUOTA_*`); an operator can
 * override any of them at run time (stored in DynamoDB, `TokenStore.getQuotaOverrides`).
 */
export interface QuotaLimits {
  mintsPerInstallPerDay: number;
  mintsPerIpPerHour: number;
  /** Per /24 (IPv4) or /48 (IPv6). */
  mintsPerNetworkPerHour: number;
  /** Across the broker: a circuit breaker for the Logfire project. */
  mintsPerDay: number;
  heartbeatsPerTokenPerHour: number;
  /** Per token chain (a refresh makes a new token, so per chain is what bounds one client). */
  refreshesPerTokenPerHour: number;
}

/** Where requests may come from (R10), beside WAF's allowlists. */
export interface IpPolicy {
  /** CIDRs allowed to mint; empty allows every address. */
  mintAllowCidrs: readonly string[];
  /** Bind each token to the network (/24, /48) it was minted from: elsewhere its requests get 403. */
  bindTokensToNetwork: boolean;
  /** Proxies whose `X-Forwarded-For` is believed; without any, the header is ignored. */
  trustedProxies: readonly string[];
}

/** The token settings the core needs (a slice of BrokerConfig, so tests can state just these). */
export interface TokenSettings extends IpPolicy {
  quotas: QuotaLimits;
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
  /** The anomaly rules the sweep runs (core/anomalies, `BROKER_ANOMALY_*`). */
  anomalies: AnomalySettings;
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
   * How long a refresh or an idempotent mint holds its claim, and how old a mint intent must be before the
   * sweep reconciles it (`claimLeaseFor`): an attempt still running after this is dead (its Lambda timed
   * out, its process was killed), so the next attempt may take the claim over.
   */
  claimLeaseMs?: number;
  /** Waits between polls of a concurrent idempotent mint; tests may shorten it. */
  sleep?: (ms: number) => Promise<void>;
  /** Relay mode (BROKER_INGEST_MODE=relay): the ingest relay's parts. Absent in direct mode. */
  relay?: RelayDeps;
  /** The admin API's parts (core/otp.ts); absent where no admin route runs. */
  admin?: AdminDeps;
}

export interface AdminDeps {
  /** The TOTP seed (base32), or undefined when none is set up: every OTP operation then answers 503. */
  otpSeed(): Promise<string | undefined>;
}

/** Room past the longest attempt, for clock differences between the processes that hold claims. */
const CLAIM_LEASE_SLACK_MS = 5_000;
/** The lease when the wiring gives none: a 25 s upstream budget, twice (a create and its compensating delete). */
const DEFAULT_CLAIM_LEASE_MS = 55_000;

/**
 * The lease for a function stopped after `functionTimeoutMs` (no attempt outlives its Lambda); without a
 * timeout (the local server), the longest an attempt's two Logfire calls may take.
 * @example claimLeaseFor(29_000, 11_600) // 34_000
 * @example claimLeaseFor(undefined, 25_000) // 55_000
 */
export function claimLeaseFor(functionTimeoutMs: number | undefined, upstreamBudgetMs: number): number {
  return (functionTimeoutMs ?? 2 * upstreamBudgetMs) + CLAIM_LEASE_SLACK_MS;
}

/** The lease the wiring chose (`BrokerDeps.claimLeaseMs`). */
export function claimLeaseMs(deps: Pick<BrokerDeps, 'claimLeaseMs'>): number {
  return deps.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
}

/** Where a request came from, as recorded with the token (R5). */
export interface RequestOrigin {
  sourceIp: string;
  userAgent?: string;
  /** The URL the request reached the broker at (`https://{domainName}/{stage}` in AWS), when known. */
  baseUrl?: string;
}
