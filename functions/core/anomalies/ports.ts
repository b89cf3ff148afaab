/**
 * What the anomaly phase needs from the store (docs/anomalies.md): the cursor of evaluated windows, one
 * record per anomaly action (idempotency and undo), and the relay's per-token usage. `TokenStore` extends
 * this port; DynamoDB is the adapter (functions/adapters/store/anomalyItems.ts).
 */
import type { Page } from '../ports';
import type { AnomalyAction, AnomalyRuleName } from './settings';

/**
 * Whom an action applies to: every live token of some refresh chains (a client, however often it refreshed
 * since), of the chain a token belongs to, or of an install.
 */
export type AnomalyTarget =
  | { kind: 'chains'; chainIds: string[] }
  | { kind: 'token'; tokenId: string }
  | { kind: 'install'; installId: string };

/**
 * One detection acted on (or recorded as a dry run). Its id is derived from the rule, the subject and the
 * window, so the same evidence can never be acted on twice.
 */
export interface AnomalyActionRecord {
  actionId: string;
  rule: AnomalyRuleName;
  action: AnomalyAction;
  dryRun: boolean;
  /** What the rule counted, in words: `network 203.0.113.0/24`, `install 3f0c…`. */
  subject: string;
  target: AnomalyTarget;
  /** The reason written into the audit trail and into each paused or revoked token. */
  reason: string;
  windowStart: number;
  windowEnd: number;
  createdAt: number;
  /** `pending` while the run that claimed it applies it; `applied` once done; `undone` by an admin. */
  state: 'pending' | 'applied' | 'undone';
  /** The tokens the action paused or revoked (filled in when it is applied). */
  tokenIds: string[];
  undoneAt?: number;
}

/** A token's relay traffic, as the ingest relay counts it on the token item. */
export interface RelayUsage {
  tokenId: string;
  /** Bytes relayed today (UTC). */
  bytesToday: number;
  /** The token's usual bytes per day over its recent days (0 when it has no history yet). */
  bytesBaseline: number;
}

export interface AnomalyStore {
  /** The end of the last evaluated window (epoch ms), or undefined before the first run. */
  getAnomalyCursor(): Promise<number | undefined>;
  /** Moves the cursor forward to `evaluatedUntil`; never back (an overlapping run may be further on). */
  advanceAnomalyCursor(evaluatedUntil: number): Promise<void>;
  /**
   * Stores `record` unless an action with its id exists: returns `created`, or the existing record (the same
   * evidence was already acted on, or another run is acting on it).
   */
  claimAnomalyAction(
    record: AnomalyActionRecord,
  ): Promise<{ created: true } | { created: false; existing: AnomalyActionRecord }>;
  /**
   * A pending action whose run died (claimed before `claimedBefore`): hands it to this run by moving
   * `createdAt` to `now`. False if it is not pending, or another run took it first.
   */
  takeOverAnomalyAction(actionId: string, claimedBefore: number, now: number): Promise<boolean>;
  /** `pending` → `applied`, with the tokens it changed. */
  completeAnomalyAction(actionId: string, tokenIds: string[]): Promise<void>;
  getAnomalyAction(actionId: string): Promise<AnomalyActionRecord | undefined>;
  /** `applied` → `undone`; false when it was not applied (already undone, or still pending). */
  markAnomalyActionUndone(actionId: string, now: number): Promise<boolean>;
  /**
   * Tokens whose relay usage changed since `since`, a page at a time. The relay keeps per-token counters on
   * the token item (issue #9 point 4); until it is wired the DynamoDB adapter returns an empty page.
   */
  listRelayUsage(since: number, limit: number, cursor?: string): Promise<Page<RelayUsage>>;
}
