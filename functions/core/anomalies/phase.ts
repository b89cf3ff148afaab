/**
 * The sweep's last phase (docs/anomalies.md): the anomaly rules over the audit trail, one closed window at a
 * time. A window is read once through the byTime index (never a Scan), every enabled rule looks at it, each
 * detection is acted on once (actions.ts), and the cursor moves past it. A window is evaluated only once
 * it has settled: an entry's `at` is when its request started, which may be a claim lease before it is
 * written. A run looks back at most an hour; a window that a failed rule or action left incomplete is read
 * again by the next run (actions are idempotent), until it falls out of that hour.
 */
import type { AuditAction, AuditEntry } from '../audit';
import { claimLeaseMs, type BrokerDeps } from '../deps';
import { errorName } from '../errors';
import type { JobRun } from '../jobs';
import { actOnDetection } from './actions';
import { relayVolumeDetections } from './relayVolume';
import { AUDIT_RULES, type AnomalyWindow, type Detection } from './rules';
import { MAX_ANOMALY_WINDOW_MS, type AnomalyRuleSetting, type AnomalySettings } from './settings';

/** What the phase adds to the sweep's report. */
export interface AnomalyCounts {
  /** Windows evaluated completely (every enabled rule ran and every action was taken). */
  anomalyWindows: number;
  /** Audit entries (and relay usage items) read: apart from `itemsRead`, which counts the token indexes. */
  auditEntriesRead: number;
  /** Detections, dry runs included, and the actions taken for them now (not those done before). */
  anomaliesDetected: number;
  anomalyActions: number;
}

export const NO_ANOMALIES: Readonly<AnomalyCounts> = {
  anomalyWindows: 0,
  auditEntriesRead: 0,
  anomaliesDetected: 0,
  anomalyActions: 0,
};

export interface AnomalyPhaseReport extends AnomalyCounts {
  /** False when the budget ran out, or a rule or an action failed: the next run evaluates the window again. */
  done: boolean;
}

/** How long after a window ends its entries are all written: the longest claim lease, and a minute for the index. */
export const settleMs = (deps: BrokerDeps) => claimLeaseMs(deps) + 60_000;

/**
 * Evaluates every closed window since the cursor, at most an hour back. Never throws: a failure is logged
 * and leaves `done: false`, so the other sweep phases' work stands.
 * @example const report = await runAnomalyPhase(deps, startRun(deps, { budgetMs: 60_000 }));
 */
export async function runAnomalyPhase(deps: BrokerDeps, run: JobRun): Promise<AnomalyPhaseReport> {
  const report: AnomalyPhaseReport = { ...NO_ANOMALIES, done: false };
  try {
    const settings = deps.settings.anomalies;
    if (Object.keys(settings.rules).length === 0) return { ...report, done: true };
    const windowMs = settings.windowMs;
    const closedUntil = Math.floor((run.now - settleMs(deps)) / windowMs) * windowMs;
    const earliest = closedUntil - MAX_ANOMALY_WINDOW_MS;
    const cursor = await deps.store.getAnomalyCursor();
    if (cursor !== undefined && cursor < earliest) {
      deps.log.warn('anomaly rules skip windows older than an hour', {
        from: new Date(cursor).toISOString(),
        to: new Date(earliest).toISOString(),
      });
    }
    // A window left incomplete holds the cursor back, but the later ones are still evaluated: one failing
    // rule must not blind the others. After a change of BROKER_ANOMALY_WINDOW the cursor may sit inside a
    // window: the first one is shorter.
    let holdsCursor = false;
    for (let start = Math.max(cursor ?? earliest, earliest); start < closedUntil;) {
      const end = Math.min(Math.floor(start / windowMs) * windowMs + windowMs, closedUntil);
      if (run.overBudget()) return report;
      if (await evaluateWindow(deps, run, { start, end }, settings, report)) {
        report.anomalyWindows += 1;
        if (!holdsCursor) await deps.store.advanceAnomalyCursor(end);
      } else holdsCursor = true;
      start = end;
    }
    report.done = !holdsCursor;
  } catch (error) {
    deps.log.error('anomaly rules failed; the next sweep evaluates the window again', {
      cause: errorName(error),
    });
  }
  return report;
}

/** Reads one window, runs every enabled rule on it and acts; true when all of it is done. */
async function evaluateWindow(
  deps: BrokerDeps,
  run: JobRun,
  window: AnomalyWindow,
  settings: AnomalySettings,
  report: AnomalyPhaseReport,
): Promise<boolean> {
  const rules = AUDIT_RULES.filter((rule) => settings.rules[rule.name]);
  const wanted = new Set<AuditAction>(rules.flatMap((rule) => rule.reads));
  const entries = wanted.size > 0 ? await readWindow(deps, run, window, wanted, report) : [];
  if (!entries) return false;
  let complete = true;
  const found: Array<[Detection, AnomalyRuleSetting]> = [];
  for (const rule of rules) {
    const setting = settings.rules[rule.name]!;
    try {
      const relevant = entries.filter((entry) => rule.reads.includes(entry.action));
      for (const detection of rule.detect(relevant, setting.threshold, window))
        found.push([detection, setting]);
    } catch (error) {
      complete = false;
      deps.log.error('anomaly rule failed', { rule: rule.name, cause: errorName(error) });
    }
  }
  const relay = settings.rules['relay-volume'];
  if (relay) {
    try {
      const usage = await relayVolumeDetections(deps, run, window, relay.threshold);
      report.auditEntriesRead += usage.itemsRead;
      complete &&= usage.complete;
      for (const detection of usage.detections) found.push([detection, relay]);
    } catch (error) {
      complete = false;
      deps.log.error('anomaly rule failed', { rule: 'relay-volume', cause: errorName(error) });
    }
  }
  report.anomaliesDetected += found.length;
  for (const [detection, setting] of found) {
    if (run.overBudget()) return false;
    try {
      const outcome = await actOnDetection(deps, run, detection, setting);
      if (outcome === 'acted') report.anomalyActions += 1;
      if (outcome === 'in_progress' || outcome === 'incomplete') complete = false;
    } catch (error) {
      complete = false;
      deps.log.error('anomaly action failed; the next sweep tries again', {
        rule: detection.rule,
        subject: detection.subject,
        cause: errorName(error),
      });
    }
  }
  return complete;
}

/** Every entry of the window with one of the `wanted` actions, or undefined when the budget ran out first. */
async function readWindow(
  deps: BrokerDeps,
  run: JobRun,
  window: AnomalyWindow,
  wanted: ReadonlySet<AuditAction>,
  report: AnomalyPhaseReport,
): Promise<AuditEntry[] | undefined> {
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    if (run.overBudget()) return undefined;
    const page = await deps.audit.byTime({
      from: window.start,
      to: window.end - 1,
      limit: run.pageSize,
      cursor,
    });
    report.auditEntriesRead += page.entries.length;
    for (const entry of page.entries) if (wanted.has(entry.action)) entries.push(entry);
    cursor = page.cursor;
  } while (cursor);
  return entries.reverse(); // oldest first: evidence lists what was seen first, first
}
