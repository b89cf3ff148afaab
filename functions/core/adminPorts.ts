/**
 * What the admin API needs from the store beyond the token lifecycle (docs/admin-api.md): bulk jobs, the
 * second factor's state and the mint allowlist's run-time override. `TokenStore` extends this port;
 * DynamoDB is the adapter (functions/adapters/store/adminItems.ts).
 */
import type { AdminFilter } from './adminContract';
import type { AnomalyActionRecord } from './anomalies/ports';
import type { KeyRange } from './indexKeys';
import type { TokenRecord } from './model';
import type { Page } from './ports';

export type { AdminFilter } from './adminContract';

/** A bulk pause or revoke by filter, run one page per call (`POST /v1/admin/bulk/{jobId}/run`). */
export interface BulkJob {
  jobId: string;
  action: 'pause' | 'revoke';
  filter: AdminFilter;
  reason: string;
  /** Tokens that matched the filter so far, changed or not. */
  matched: number;
  /** Tokens read and tested so far. */
  processed: number;
  changed: number;
  done: boolean;
  createdBy: string;
  createdAt: string;
  /** Pages run so far: a run advances the job only from the page it read (concurrent runs). */
  pages: number;
  /** Where the next page starts; absent before the first and after the last. */
  cursor?: string;
}

/** The second factor's state: the last step used and the recent failures. */
export interface OtpState {
  lastStep?: number;
  failures: number;
  failWindowStart?: number;
  lockedUntil?: number;
}

export interface AdminStore {
  listByAppVersion(range: KeyRange, limit: number, cursor?: string): Promise<Page<TokenRecord>>;
  listBySource(range: KeyRange, limit: number, cursor?: string): Promise<Page<TokenRecord>>;
  listAnomalyActions(limit: number, cursor?: string): Promise<Page<AnomalyActionRecord>>;
  createBulkJob(job: BulkJob): Promise<void>;
  getBulkJob(jobId: string): Promise<BulkJob | undefined>;
  /**
   * Adds one page's counts, if the job is still at page `pages` (else another run did this page: undefined).
   * Returns the job as it is now.
   */
  advanceBulkJob(
    jobId: string,
    pages: number,
    page: { matched: number; processed: number; changed: number; cursor?: string },
  ): Promise<BulkJob | undefined>;
  /**
   * Takes one of the `maxFailures` attempts of the failure window (one conditional write): the attempt counts
   * as a failure until `useOtpStep` gives it back. Refused while locked or once the window's attempts are
   * taken; then `retryAt` says when the next may be.
   */
  takeOtpAttempt(
    now: number,
    limits: { windowMs: number; maxFailures: number },
  ): Promise<{ taken: true; failures: number } | { taken: false; retryAt: number }>;
  /**
   * Records `step` as used and gives the attempt back, only if no later or equal step was used and the
   * second factor is not locked. False when the code was already used (or a lock came first).
   */
  useOtpStep(step: number, now: number): Promise<boolean>;
  /** Locks the second factor until `until`. */
  lockOtp(until: number): Promise<void>;
  /** The mint allowlist the operator set at run time, or undefined for the configured one. */
  getMintAllowOverride(): Promise<string[] | undefined>;
  /** Sets (a list, possibly empty: everyone) or drops (null) the run-time mint allowlist. */
  putMintAllowOverride(cidrs: string[] | null, now: number): Promise<void>;
}
