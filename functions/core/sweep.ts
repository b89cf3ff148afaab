/**
 * The sweep (DESIGN §4), every 15 minutes. In order, each phase paged through a sparse index (never a Scan):
 * 1. chains: finishes chain revocations that reuse detection began (a walk cut short leaves no live member);
 * 2. stale: reclaims live tokens silent for `staleAfterMs` (→ `expired`, upstream token deleted);
 * 3. expiry: marks `expired` the non-terminal tokens past expiresAt (Logfire expires them by itself);
 * 4. mints: reconciles mint intents left by a crash with Logfire's list (core/reconcile.ts);
 * 5. deletions: deletes the queued upstream tokens that are due (grace over, revoked, failed before);
 * 6. anomalies: the anomaly rules over the audit trail's closed windows (core/anomalies/phase.ts).
 * Every step is one conditional write, so a run cut short anywhere leaves each token consistent and still
 * listed where its remaining work is: the next run finishes it.
 */
import { withdrawnEntry, type AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import { appendAudit, forEachLimited, startRun, type JobOptions, type JobRun } from './jobs';
import { TERMINAL_STATUSES } from './model';
import { claimLeaseMs } from './deps';
import type { Page } from './ports';
import { settleIntent, type Reconciliation } from './reconcile';
import { NO_ANOMALIES, runAnomalyPhase, type AnomalyCounts } from './anomalies/phase';
import { deleteUpstreamNow } from './upstreamDeletion';

export interface SweepReport extends AnomalyCounts {
  reclaimed: number;
  expired: number;
  upstreamDeleted: number;
  upstreamDeleteFailed: number;
  chainsCompleted: number;
  /** Mint intents settled, and the untracked Logfire tokens they had left that were deleted. */
  intentsSettled: number;
  orphansDeleted: number;
  /** Index entries and records read from DynamoDB. */
  itemsRead: number;
  /** False when the budget ran out, Logfire kept failing, or an item failed: the next run goes on. */
  done: boolean;
}

const CONCURRENCY = 8;
/** Logfire's management API is rate limited (~50/min for a public client): few deletions at once. */
const DELETE_CONCURRENCY = 4;
/** After this many failed deletions in a row, Logfire is likely down: leave the rest for the next run. */
const DELETE_FAILURE_STREAK = 5;
export const CHAIN_REVOCATION_REASON = 'chain revoked: client secret reused (finished by the sweep)';

/**
 * Runs the phases within the budget; stops starting pages once it is spent (done: false).
 * @example const report = await runSweep(deps, { budgetMs: 480_000 });
 */
export async function runSweep(deps: BrokerDeps, options: JobOptions = {}): Promise<SweepReport> {
  const run = startRun(deps, options);
  const report: SweepReport = {
    reclaimed: 0,
    expired: 0,
    upstreamDeleted: 0,
    upstreamDeleteFailed: 0,
    chainsCompleted: 0,
    intentsSettled: 0,
    orphansDeleted: 0,
    itemsRead: 0,
    ...NO_ANOMALIES,
    done: false,
  };
  const sweep = { deps, run, report, failed: 0 };
  const finished =
    (await finishChains(sweep)) &&
    (await reclaimStale(sweep)) &&
    (await expireOverdue(sweep)) &&
    (await reconcileMints(sweep)) &&
    (await deleteQueued(sweep));
  // Not chained to the phases above: the rules read the audit trail, and must run while Logfire is down.
  const { done: anomaliesDone, ...anomalies } = await runAnomalyPhase(deps, run);
  Object.assign(report, anomalies);
  report.done = finished && anomaliesDone && sweep.failed === 0;
  await appendAudit(deps, [
    { at: run.now, action: 'job.sweep', actor: 'system:sweep', details: { ...report, failed: sweep.failed } },
  ]);
  deps.log.info('sweep run', { ...report, failed: sweep.failed });
  return report;
}

interface Sweep {
  deps: BrokerDeps;
  run: JobRun;
  report: SweepReport;
  /** Items that threw; they stay due, so the run is not `done`. */
  failed: number;
}

/**
 * Pages through one listing until it ends (true) or the budget is spent or `handle` asks to stop (false).
 * Items are handled with bounded concurrency, and each page's audit entries are written in one batch.
 */
async function eachPage<T extends { tokenId?: string; chainId?: string }>(
  sweep: Sweep,
  phase: string,
  list: (cursor: string | undefined) => Promise<Page<T>>,
  handle: (item: T, entries: AuditEntry[]) => Promise<void>,
  options: { concurrency?: number; stop?: () => boolean } = {},
): Promise<boolean> {
  let cursor: string | undefined;
  for (;;) {
    if (sweep.run.overBudget() || options.stop?.()) return false;
    const page = await list(cursor);
    sweep.report.itemsRead += page.scannedCount;
    const entries: AuditEntry[] = [];
    sweep.failed += await forEachLimited(
      sweep.deps,
      `sweep ${phase}`,
      page.items,
      options.concurrency ?? CONCURRENCY,
      (item) => handle(item, entries),
    );
    await appendAudit(sweep.deps, entries);
    cursor = page.cursor;
    if (!cursor) return true;
  }
}

/** Revokes every member of each noted chain that is not terminal yet, then drops the note. */
async function finishChains(sweep: Sweep): Promise<boolean> {
  const { deps, run, report } = sweep;
  return eachPage(
    sweep,
    'chains',
    (cursor) => deps.store.listChainRevocations(run.pageSize, cursor),
    async ({ chainId, queuedAt }, entries) => {
      let cursor: string | undefined;
      do {
        const members = await deps.store.listByChain(chainId, run.pageSize, cursor);
        report.itemsRead += members.scannedCount;
        for (const member of members.items) {
          if (TERMINAL_STATUSES.includes(member.status)) continue;
          const before = await deps.store.revokeToken(member.tokenId, CHAIN_REVOCATION_REASON, run.now);
          if (!before) continue;
          entries.push(
            withdrawnEntry(
              before,
              'token.revoked',
              'system:sweep',
              CHAIN_REVOCATION_REASON,
              run.now,
              deps.upstream.canRevoke,
            ),
          );
          await deleteAndCount(sweep, before, entries);
        }
        cursor = members.cursor;
      } while (cursor);
      await deps.store.finishChainRevocation(chainId, queuedAt);
      report.chainsCompleted += 1;
    },
  );
}

async function reclaimStale(sweep: Sweep): Promise<boolean> {
  const { deps, run, report } = sweep;
  const seenBefore = run.now - deps.settings.staleAfterMs;
  const reason = `reclaimed: no heartbeat since before ${new Date(seenBefore).toISOString()}`;
  return eachPage(
    sweep,
    'stale',
    (cursor) => deps.store.listStale(seenBefore, run.pageSize, cursor),
    async ({ tokenId }, entries) => {
      // The condition re-checks the silence: a heartbeat since the listing keeps the token.
      const before = await deps.store.reclaimToken(tokenId, seenBefore, reason, run.now);
      // Not live any more: a heartbeat from its revoked owner put it back in the index; take it out.
      if (!before) return deps.store.leaveStaleIndex(tokenId);
      report.reclaimed += 1;
      const entry = withdrawnEntry(
        before,
        'token.reclaimed',
        'system:sweep',
        reason,
        run.now,
        deps.upstream.canRevoke,
      );
      const lastSeenAt = before.lastHeartbeatAt ?? before.createdAt;
      entries.push({ ...entry, details: { ...entry.details, previousStatus: before.status, lastSeenAt } });
      await deleteAndCount(sweep, before, entries);
    },
  );
}

async function expireOverdue(sweep: Sweep): Promise<boolean> {
  const { deps, run, report } = sweep;
  const reason = 'past its expiry';
  return eachPage(
    sweep,
    'expiry',
    (cursor) => deps.store.listExpired(run.now, run.pageSize, cursor),
    async ({ tokenId }, entries) => {
      const before = await deps.store.expireToken(tokenId, run.now);
      if (!before) return;
      report.expired += 1;
      // No deletion: Logfire was given the same expires_at (API-key mode) and drops the token itself.
      const entry = withdrawnEntry(
        before,
        'token.expired',
        'system:sweep',
        reason,
        run.now,
        deps.upstream.canRevoke,
      );
      entries.push({ ...entry, details: { ...entry.details, previousStatus: before.status } });
    },
  );
}

/**
 * Settles the mint intents whose mint can no longer be running. Logfire's list is read once per run, and
 * only when there is an intent to settle (its management API is rate limited).
 */
async function reconcileMints(sweep: Sweep): Promise<boolean> {
  const { deps, run, report } = sweep;
  const list = deps.upstream.listWriteTokens?.bind(deps.upstream);
  if (!list) return true; // user-token mode: no intents are written (docs/lifecycle.md)
  const leaseMs = claimLeaseMs(deps);
  let reconciliation: Promise<Reconciliation> | undefined;
  return eachPage(
    sweep,
    'mints',
    (cursor) => deps.store.listMintIntents(run.now - leaseMs, run.pageSize, cursor),
    async (intent, entries) => {
      reconciliation ??= list().then((listed) => ({ listed, mintLeaseMs: leaseMs, handled: new Set() }));
      const outcome = await settleIntent(deps, intent, await reconciliation, run.now);
      entries.push(...outcome.entries);
      report.orphansDeleted += outcome.deleted;
      if (outcome.settled) report.intentsSettled += 1;
      else sweep.failed += 1;
    },
    { concurrency: DELETE_CONCURRENCY },
  );
}

async function deleteQueued(sweep: Sweep): Promise<boolean> {
  const { deps, run } = sweep;
  let streak = 0;
  const completed = await eachPage(
    sweep,
    'deletions',
    (cursor) => deps.store.listPendingUpstreamDeletions(run.now, run.pageSize, cursor),
    async (pending, entries) => {
      if (streak >= DELETE_FAILURE_STREAK) return; // still due: the next run tries again
      const effect = await deleteAndCount(sweep, pending, entries);
      streak = effect === 'delete_queued' ? streak + 1 : 0;
    },
    { concurrency: DELETE_CONCURRENCY, stop: () => streak >= DELETE_FAILURE_STREAK },
  );
  if (streak >= DELETE_FAILURE_STREAK) {
    deps.log.warn('sweep: Logfire keeps failing deletions; the rest wait for the next run', { streak });
    return false;
  }
  return completed;
}

async function deleteAndCount(
  sweep: Sweep,
  target: Parameters<typeof deleteUpstreamNow>[1],
  entries: AuditEntry[],
) {
  const { effect, entries: more } = await deleteUpstreamNow(
    sweep.deps,
    target,
    'system:sweep',
    sweep.run.now,
  );
  entries.push(...more);
  if (effect === 'deleted') sweep.report.upstreamDeleted += 1;
  if (effect === 'delete_queued') sweep.report.upstreamDeleteFailed += 1;
  return effect;
}
