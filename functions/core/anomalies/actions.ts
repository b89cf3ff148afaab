/**
 * What happens when an anomaly rule fires (docs/anomalies.md). Each detection is claimed once in the store
 * under an id derived from its rule, subject and period, so the same evidence is never acted on twice, then:
 * - dry run: an `anomaly.detected` entry and nothing else;
 * - `flag`: an `anomaly.flagged` entry;
 * - `pause` / `revoke`: the admin operations of core/admin.ts with the actor `system:anomaly:<rule>` and a
 *   reason naming the rule, the evidence and the action id, then an `anomaly.actioned` entry.
 * Every one also logs a fixed line that the stack counts as a metric (infra/alarms.ts). An admin undoes an
 * action with `undoAnomalyAction`: paused tokens resume; revoked ones cannot come back.
 */
import { createHash } from 'node:crypto';
import { changeToken, checkContext, resumeToken, type AdminContext } from '../admin';
import type { AuditActor, AuditAction } from '../audit';
import type { BrokerDeps } from '../deps';
import { Conflict, NotFound } from '../errors';
import { appendAudit, forEachLimited, type JobRun } from '../jobs';
import { TERMINAL_STATUSES, type TokenRecord, type TokenStatus } from '../model';
import type { Page } from '../ports';
import type { AnomalyActionRecord } from './ports';
import type { Detection } from './rules';
import type { AnomalyRuleName, AnomalyRuleSetting } from './settings';

/** The log lines the stack's metric filters count (infra/alarms.ts `ANOMALY_MESSAGES`). */
export const ANOMALY_ACTION_MESSAGE = 'anomaly action taken';
export const ANOMALY_DRY_RUN_MESSAGE = 'anomaly detected (dry run)';

/** A pending action older than this was left by a run that died (the sweep Lambda stops after 600 s). */
export const ACTION_LEASE_MS = 10 * 60_000;
const MAX_REASON = 500;

/** `acted`: done now; `duplicate`: done before; `in_progress`: another run holds it; `incomplete`: left pending. */
export type ActOutcome = 'acted' | 'duplicate' | 'in_progress' | 'incomplete';

export const anomalyActor = (rule: AnomalyRuleName): AuditActor => `system:anomaly:${rule}`;

/**
 * The action id of a detection: the same rule, subject and period always give the same id.
 * @example anomalyActionId(detection) // 'anm_Qm9v…'
 */
export function anomalyActionId(detection: Pick<Detection, 'rule' | 'subjectKey' | 'period'>): string {
  const digest = createHash('sha256')
    .update(`${detection.rule}\n${detection.subjectKey}\n${detection.period.start}`)
    .digest('base64url');
  return `anm_${digest.slice(0, 22)}`;
}

/** The reason recorded in the audit trail and in each token it pauses or revokes (at most 500 characters). */
export function anomalyReason(detection: Detection, actionId: string): string {
  const { rule, summary, threshold, period } = detection;
  const span = `${new Date(period.start).toISOString()}–${new Date(period.end).toISOString()}`;
  const reason = `anomaly ${rule} [${actionId}]: ${summary} (more than ${threshold}) in ${span}`;
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

/**
 * Acts on one detection as its rule's setting says, once.
 * @example const outcome = await actOnDetection(deps, run, detection, { threshold: 3, action: 'pause', dryRun: false });
 */
export async function actOnDetection(
  deps: BrokerDeps,
  run: JobRun,
  detection: Detection,
  setting: AnomalyRuleSetting,
): Promise<ActOutcome> {
  const actionId = anomalyActionId(detection);
  let record: AnomalyActionRecord = {
    actionId,
    rule: detection.rule,
    action: setting.action,
    dryRun: setting.dryRun,
    subject: detection.subject,
    target: detection.target,
    reason: anomalyReason(detection, actionId),
    windowStart: detection.period.start,
    windowEnd: detection.period.end,
    createdAt: run.now,
    state: 'pending',
    tokenIds: [],
  };
  const claim = await deps.store.claimAnomalyAction(record);
  if (!claim.created) {
    if (claim.existing.state !== 'pending') return 'duplicate';
    // Pending: another run is applying it, or one died doing so; only the latter is taken over.
    const taken = await deps.store.takeOverAnomalyAction(actionId, run.now - ACTION_LEASE_MS, run.now);
    if (!taken) return 'in_progress';
    record = claim.existing; // what was decided then is what gets finished
  }
  const applied = changesTokens(record)
    ? await applyAction(deps, run, record)
    : { tokenIds: [], complete: true };
  if (!applied.complete) return 'incomplete';
  await deps.store.completeAnomalyAction(actionId, applied.tokenIds);
  await appendAudit(deps, [
    {
      at: run.now,
      action: auditActionOf(record),
      actor: anomalyActor(record.rule),
      tokenId: detection.tokenId,
      installId: detection.installId,
      chainId: detection.chainId,
      reason: record.reason,
      details: {
        actionId,
        rule: record.rule,
        action: record.action,
        dryRun: record.dryRun,
        subject: record.subject,
        count: detection.count,
        threshold: detection.threshold,
        windowStart: new Date(record.windowStart).toISOString(),
        windowEnd: new Date(record.windowEnd).toISOString(),
        tokensActedOn: applied.tokenIds.length,
        ...detection.evidence,
      },
    },
  ]);
  deps.log.warn(record.dryRun ? ANOMALY_DRY_RUN_MESSAGE : ANOMALY_ACTION_MESSAGE, {
    rule: record.rule,
    action: record.action,
    dryRun: record.dryRun,
    actionId,
    subject: record.subject,
    count: detection.count,
    threshold: detection.threshold,
    tokensActedOn: applied.tokenIds.length,
  });
  return 'acted';
}

const changesTokens = (record: AnomalyActionRecord) => !record.dryRun && record.action !== 'flag';

function auditActionOf(record: AnomalyActionRecord): AuditAction {
  if (record.dryRun) return 'anomaly.detected';
  return record.action === 'flag' ? 'anomaly.flagged' : 'anomaly.actioned';
}

/**
 * Pauses or revokes every live token of the target's chains (or install) through the admin operations, so a
 * client that refreshed since is reached too (a pause alone would follow successors; a revoke would not).
 * The tokens are listed (byChain, byInstall) and changed one at a time rather than through `changeInstall`,
 * so a run that takes over a crashed one also records the tokens the first attempt had already changed.
 */
async function applyAction(
  deps: BrokerDeps,
  run: JobRun,
  record: AnomalyActionRecord,
): Promise<{ tokenIds: string[]; complete: boolean }> {
  const action = record.action === 'revoke' ? 'revoke' : 'pause';
  const context: AdminContext = { actor: anomalyActor(record.rule), reason: record.reason };
  const acted = new Set<string>();
  let complete = true;
  const changeListed = async (list: (cursor?: string) => Promise<Page<TokenRecord>>) => {
    let cursor: string | undefined;
    do {
      if (run.overBudget()) {
        complete = false;
        return;
      }
      const page = await list(cursor);
      for (const token of page.items.filter((t) => !TERMINAL_STATUSES.includes(t.status))) {
        const result = await changeToken(deps, action, token.tokenId, context);
        if (result.outcome === 'changed' || result.outcome === 'unchanged') acted.add(result.tokenId);
      }
      cursor = page.cursor;
    } while (cursor);
  };
  const { target } = record;
  if (target.kind === 'install') {
    await changeListed((cursor) => deps.store.listByInstall(target.installId, run.pageSize, cursor));
    return { tokenIds: [...acted], complete };
  }
  const chainIds =
    target.kind === 'chains'
      ? target.chainIds
      : [(await deps.store.getToken(target.tokenId))?.chainId].filter((id): id is string => !!id);
  const items = chainIds.map((chainId) => ({ chainId }));
  const failed = await forEachLimited(deps, `anomaly ${record.rule}`, items, 4, ({ chainId }) =>
    changeListed((cursor) => deps.store.listByChain(chainId, run.pageSize, cursor)),
  );
  return { tokenIds: [...acted], complete: complete && failed === 0 };
}

export interface UndoResult {
  actionId: string;
  rule: AnomalyRuleName;
  action: AnomalyActionRecord['action'];
  dryRun: boolean;
  /** `already_undone`: an admin undid it before; nothing changed now. */
  outcome: 'undone' | 'already_undone';
  /** Paused by this action and resumed now (direct mode: `rotate`, so the client refreshes). */
  resumed: string[];
  /** Revoked by this action: a revocation is final and cannot be undone. */
  cannotUndo: { tokenId: string; status: TokenStatus; why: string }[];
  /** Changed since by someone else (paused again, revoked, expired, refreshed away): left as they are. */
  leftAlone: { tokenId: string; status?: TokenStatus }[];
}

/**
 * Undoes an anomaly action: resumes the tokens it paused that are still paused for it. Revoked tokens stay
 * revoked (the result says so); a flag or a dry run is marked undone, which clears it. Writes
 * `anomaly.undone` with the admin as actor.
 * @example const result = await undoAnomalyAction(deps, 'anm_…', { actor: 'admin:arn:aws:iam::1:user/ops', reason: 'office NAT' });
 */
export async function undoAnomalyAction(
  deps: BrokerDeps,
  actionId: string,
  context: AdminContext,
): Promise<UndoResult> {
  checkContext(context);
  const record = await deps.store.getAnomalyAction(actionId);
  if (!record) throw new NotFound('No anomaly action with this id.');
  const base = { actionId, rule: record.rule, action: record.action, dryRun: record.dryRun };
  if (record.state === 'pending') {
    throw new Conflict('This anomaly action is still being applied; retry in a minute.', 60);
  }
  if (record.state === 'undone') {
    return { ...base, outcome: 'already_undone', resumed: [], cannotUndo: [], leftAlone: [] };
  }
  const result: UndoResult = { ...base, outcome: 'undone', resumed: [], cannotUndo: [], leftAlone: [] };
  for (const tokenId of record.tokenIds) {
    const token = await deps.store.getToken(tokenId);
    const ours = token?.statusReason?.includes(`[${actionId}]`) ?? false;
    if (token?.status === 'paused' && ours) {
      const resumed = await resumeToken(deps, tokenId, context);
      if (resumed.outcome === 'changed') {
        result.resumed.push(tokenId);
        continue;
      }
    }
    if (token?.status === 'revoked' && ours) {
      result.cannotUndo.push({ tokenId, status: token.status, why: 'revoked: a revocation is final' });
      continue;
    }
    result.leftAlone.push({ tokenId, status: token?.status });
  }
  // False when a concurrent undo got there first; its entry tells the story, and resumes are idempotent.
  if (await deps.store.markAnomalyActionUndone(actionId, deps.clock.now())) {
    await appendAudit(deps, [
      {
        at: deps.clock.now(),
        action: 'anomaly.undone',
        actor: context.actor,
        ...(record.target.kind === 'token' ? { tokenId: record.target.tokenId } : {}),
        ...(record.target.kind === 'install' ? { installId: record.target.installId } : {}),
        sourceIp: context.sourceIp,
        reason: context.reason,
        details: {
          actionId,
          rule: record.rule,
          action: record.action,
          resumed: result.resumed.length,
          cannotUndo: result.cannotUndo.length,
          leftAlone: result.leftAlone.length,
        },
      },
    ]);
  }
  return result;
}
