/**
 * The rotation job (R13, DESIGN §4), hourly: marks `rotate` every active token whose refreshAfter has
 * passed. Rotation is lazy: no Logfire call here. The client's next heartbeat answers `rotate`, its refresh
 * mints the successor, and the old upstream token is deleted by the sweep once the grace period is over.
 */
import type { AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import { errorName } from './errors';
import { appendAudit, forEachLimited, startRun, type JobOptions } from './jobs';
import { rotateUpstreamPool } from './relayPool';

export type { JobOptions } from './jobs';

export interface RotationReport {
  /** Index entries listed as due. */
  examined: number;
  /** Tokens moved to `rotate` by this run. */
  marked: number;
  /** Index entries read from DynamoDB (the byRotateAt index only: never a Scan). */
  itemsRead: number;
  /** False when the budget ran out or an item failed: the next run picks up what is left. */
  done: boolean;
}

/** Marks in flight at once: enough to hide DynamoDB latency, few enough not to throttle a small table. */
const CONCURRENCY = 8;

/**
 * Marks the due tokens, page by page through the sparse byRotateAt index, which holds only `active`
 * tokens: each marked token leaves it, so a run that stops early (budget, crash) leaves exactly the
 * unmarked ones for the next. Each mark is one conditional write, so a concurrent refresh, pause or
 * revoke simply wins and the mark is skipped.
 *
 * @example
 * const report = await runRotation(deps, { budgetMs: 240_000 });
 * // { examined: 12, marked: 12, itemsRead: 12, done: true }
 */
export async function runRotation(deps: BrokerDeps, options: JobOptions = {}): Promise<RotationReport> {
  const run = startRun(deps, options);
  const report: RotationReport = { examined: 0, marked: 0, itemsRead: 0, done: false };
  let failed = 0;
  let cursor: string | undefined;
  for (;;) {
    if (run.overBudget()) break;
    const page = await deps.store.listDueForRotation(run.now, run.pageSize, cursor);
    report.itemsRead += page.scannedCount;
    report.examined += page.items.length;
    const entries: AuditEntry[] = [];
    failed += await forEachLimited(deps, 'rotation', page.items, CONCURRENCY, async ({ tokenId, dueAt }) => {
      if (!(await deps.store.markForRotation(tokenId, run.now))) return;
      report.marked += 1;
      entries.push({
        at: run.now,
        action: 'token.rotation_due',
        actor: 'system:rotation',
        tokenId,
        details: { refreshAfter: dueAt },
      });
    });
    await appendAudit(deps, entries);
    cursor = page.cursor;
    if (!cursor) {
      report.done = failed === 0;
      break;
    }
  }
  // Relay mode: the upstream pool rotates on the same schedule (docs/relay.md).
  const pool = await rotateUpstreamPool(deps, run.now).catch((error: unknown) => {
    failed += 1;
    deps.log.error('rotation: the relay pool was not rotated; the next run retries', {
      cause: errorName(error),
    });
    return 'failed' as const;
  });
  if (pool === 'failed') report.done = false;
  await appendAudit(deps, [
    {
      at: run.now,
      action: 'job.rotation',
      actor: 'system:rotation',
      details: { ...report, failed, ...(deps.relay ? { pool } : {}) },
    },
  ]);
  deps.log.info('rotation run', { ...report, failed, ...(deps.relay ? { pool } : {}) });
  return report;
}
