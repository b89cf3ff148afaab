/**
 * What the scheduled jobs (rotation, sweep) share: a time budget, a fixed `now` per run, bounded
 * concurrency inside a page, and audit writes that never fail the job.
 */
import type { AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import { errorName } from './errors';

export interface JobOptions {
  /** The run's clock reading (epoch ms); defaults to `deps.clock.now()`. */
  now?: number;
  /** Stop starting new work after this many ms. */
  budgetMs?: number;
  /** Index entries per page (default 100). */
  pageSize?: number;
}

export const DEFAULT_PAGE_SIZE = 100;

/** Time a Lambda keeps for itself after the job's last page: a page may take several seconds. */
const LAMBDA_MARGIN_MIN_MS = 10_000;

export interface JobRun {
  now: number;
  pageSize: number;
  /** True once the budget is spent: start no new page. */
  overBudget(): boolean;
}

/**
 * Fixes a run's `now` and starts its budget. The budget is wall time (`performance.now`), not the
 * injected clock, because it guards the Lambda's real timeout.
 * @example const run = startRun(deps, { budgetMs: 60_000 }); while (!run.overBudget()) { ... }
 */
export function startRun(deps: BrokerDeps, options: JobOptions = {}): JobRun {
  const started = performance.now();
  const budget = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error('pageSize must be a whole number >= 1');
  return {
    now: options.now ?? deps.clock.now(),
    pageSize,
    overBudget: () => performance.now() - started >= budget,
  };
}

/**
 * The budget a scheduled Lambda gives its job: what remains of its timeout minus a margin for the page
 * in flight (a fifth of the time, at least 10 s).
 * @example await runSweep(deps, { budgetMs: lambdaJobBudgetMs(context.getRemainingTimeInMillis()) });
 */
export function lambdaJobBudgetMs(remainingMs: number): number {
  return Math.max(0, remainingMs - Math.max(LAMBDA_MARGIN_MIN_MS, remainingMs / 5));
}

/**
 * Runs `work` on every item with at most `limit` in flight. An item's error is logged and counted, never
 * thrown: one bad token must not stop the run (each item is one conditional write, so a failed item is
 * simply still due and the next run retries it).
 * @example const failed = await forEachLimited(deps, 'rotation', page.items, 8, (item) => mark(item));
 */
export async function forEachLimited<T extends { tokenId?: string; chainId?: string }>(
  deps: BrokerDeps,
  job: string,
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed += 1;
        deps.log.error(`${job}: item failed; the next run retries it`, {
          tokenId: item.tokenId,
          chainId: item.chainId,
          cause: errorName(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failed;
}

/**
 * Appends audit entries; a failure is logged with the entries (they never carry a secret) rather than
 * thrown, because the state change they describe has already happened and must not be retried for it.
 * @example await appendAudit(deps, entries);
 */
export async function appendAudit(
  deps: Pick<BrokerDeps, 'audit' | 'log'>,
  entries: AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  try {
    await deps.audit.append(entries);
  } catch (error) {
    deps.log.error('audit entries not written', { cause: errorName(error), entries });
  }
}
