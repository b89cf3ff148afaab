/**
 * Pause, resume and revoke (R3) as core operations for the admin surface: one token, every token of an
 * install, or every token matching a filter, in pages. Each change is one conditional write and an audit
 * entry naming the admin (`admin:<principal>`) and the reason.
 *
 * Logfire has no pause. In direct mode (API key: `upstream.canRevoke`) a pause therefore DELETES the
 * upstream write token, and resume sets `rotate`, so the client's next heartbeat makes it refresh and get
 * a new one. In user-token mode nothing can be deleted at Logfire: a pause or revoke only stops the broker
 * from vouching for the token, and the result says `upstreamStillValid: true`.
 */
import { withdrawnEntry, type AuditActor, type AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import { InvalidRequest } from './errors';
import { appendAudit, forEachLimited } from './jobs';
import { TERMINAL_STATUSES, type TokenRecord, type TokenStatus } from './model';
import type { Page } from './ports';
import { compileFilter, type TokenFilter } from './tokenFilter';
import { deleteUpstreamNow, type UpstreamEffect } from './upstreamDeletion';

export type TokenAction = 'pause' | 'resume' | 'revoke';

export interface AdminContext {
  /** `admin:<IAM principal ARN>` for the admin API; an anomaly rule passes its system actor. */
  actor: AuditActor;
  /** Why; recorded in the token (pause, revoke) and in every audit entry. */
  reason: string;
  /** The admin's address, for the audit trail. */
  sourceIp?: string;
}

export interface AdminResult {
  /** The token asked for. */
  requestedTokenId: string;
  /** The token acted on: for pause and resume, the live successor if the asked one was refreshed meanwhile. */
  tokenId: string;
  /** `unchanged`: already in the asked state; `not_applicable`: its status allows no such change. */
  outcome: 'changed' | 'unchanged' | 'not_found' | 'not_applicable';
  /** The status after the operation, when the token exists. */
  status?: TokenStatus;
  /** What happened at Logfire (pause and revoke). */
  upstream?: UpstreamEffect;
  /** Whether the client's write token still works at Logfire after a change (true in user-token mode). */
  upstreamStillValid?: boolean;
}

/** Waits for a refresh in flight (it holds the token for a few hundred ms) before giving up. */
const REFRESH_WAITS_MS = [50, 100, 200, 400, 800];
const MAX_HOPS = 20;

/**
 * Pauses a token: heartbeats answer `paused` and refresh is refused (403). Direct mode: deletes its
 * upstream token. A token refreshed meanwhile is followed to its live successor.
 * @example await pauseToken(deps, 'tok_…', { actor: 'admin:arn:aws:iam::1:user/ops', reason: 'abuse report #12' });
 */
export function pauseToken(deps: BrokerDeps, tokenId: string, context: AdminContext): Promise<AdminResult> {
  return changeToken(deps, 'pause', tokenId, context);
}

/**
 * Resumes a paused token: `active` in user-token mode; `rotate` in direct mode (its upstream token was
 * deleted at pause, so the next heartbeat makes the client refresh).
 * @example await resumeToken(deps, 'tok_…', { actor: 'admin:arn:…', reason: 'cleared' });
 */
export function resumeToken(deps: BrokerDeps, tokenId: string, context: AdminContext): Promise<AdminResult> {
  return changeToken(deps, 'resume', tokenId, context);
}

/**
 * Revokes a token for good and deletes its upstream token (now, or queued for the sweep if Logfire fails).
 * Only this token: revoke an install to reach its successors too.
 * @example await revokeToken(deps, 'tok_…', { actor: 'admin:arn:…', reason: 'leaked in a CI log' });
 */
export function revokeToken(deps: BrokerDeps, tokenId: string, context: AdminContext): Promise<AdminResult> {
  return changeToken(deps, 'revoke', tokenId, context);
}

/**
 * Applies `action` to one token. Idempotent: repeating it answers `unchanged`.
 * @example const { outcome } = await changeToken(deps, 'pause', tokenId, context);
 */
export async function changeToken(
  deps: BrokerDeps,
  action: TokenAction,
  tokenId: string,
  context: AdminContext,
): Promise<AdminResult> {
  checkContext(context);
  const requestedTokenId = tokenId;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  let id = tokenId;
  for (let waits = 0, hops = 0; ;) {
    const now = deps.clock.now();
    const changed = await write(deps, action, id, context, now);
    if (changed) return { requestedTokenId, tokenId: id, outcome: 'changed', ...changed };
    const record = await deps.store.getToken(id);
    const at = { requestedTokenId, tokenId: id, status: record?.status };
    if (!record) return { requestedTokenId, tokenId: id, outcome: 'not_found' };
    if (alreadyDone(action, record.status)) return { ...at, outcome: 'unchanged' };
    if (record.status === 'refreshing' && waits < REFRESH_WAITS_MS.length) {
      await sleep(REFRESH_WAITS_MS[waits++]!);
      continue;
    }
    // Pausing or resuming a replaced token means its client: follow the chain to the live one.
    if (action !== 'revoke' && record.status === 'refreshed' && record.successorId && hops++ < MAX_HOPS) {
      id = record.successorId;
      continue;
    }
    return { ...at, outcome: 'not_applicable' };
  }
}

export interface BulkRequest {
  /** From the previous page's result; absent for the first page. Use it with the same filter. */
  cursor?: string;
  /** Tokens read per call (default 100, at most 100). */
  pageSize?: number;
}

export interface BulkPage {
  /** One per token the action applied to. */
  results: AdminResult[];
  /** Records read and tested. */
  examined: number;
  matched: number;
  changed: number;
  itemsRead: number;
  /** Pass back to go on; absent when every token has been looked at. */
  cursor?: string;
}

/**
 * Applies `action` to every token of an install that it can apply to, one page per call (byInstall index).
 * @example for (let page = await changeInstall(deps, 'revoke', id, ctx); page.cursor; page = await changeInstall(deps, 'revoke', id, ctx, { cursor: page.cursor })) {}
 */
export function changeInstall(
  deps: BrokerDeps,
  action: TokenAction,
  installId: string,
  context: AdminContext,
  request: BulkRequest = {},
): Promise<BulkPage> {
  return changeMatching(deps, action, { installId }, context, request);
}

/**
 * Applies `action` to every token matching `filter`, one page per call; resumable with the returned cursor
 * and idempotent (a page done twice reports `unchanged`). With an installId it reads that install's tokens
 * (byInstall); otherwise every live token (the byExpireAt index, filtered here): bulk operations are not on
 * a request path and cost one read per live token.
 * @example const page = await changeMatching(deps, 'revoke', { appVersion: '>=1.2.0 <1.4.0' }, ctx);
 */
export async function changeMatching(
  deps: BrokerDeps,
  action: TokenAction,
  filter: TokenFilter,
  context: AdminContext,
  request: BulkRequest = {},
): Promise<BulkPage> {
  checkContext(context);
  const matches = compileFilter(filter);
  const limit = Math.min(request.pageSize ?? 100, 100);
  const page: Page<TokenRecord> = filter.installId
    ? await deps.store.listByInstall(filter.installId, limit, request.cursor)
    : await deps.store.listNonTerminal(limit, request.cursor);
  // A token listed as already replaced is judged on its own (its successor has its own entry).
  const targets = page.items.filter((record) => appliesTo(action, record.status) && matches(record));
  const results: AdminResult[] = [];
  await forEachLimited(deps, `bulk ${action}`, targets, 4, async (record) => {
    results.push(await changeToken(deps, action, record.tokenId, context));
  });
  return {
    results,
    examined: page.items.length,
    matched: targets.length,
    changed: results.filter((result) => result.outcome === 'changed').length,
    itemsRead: page.scannedCount,
    cursor: page.cursor,
  };
}

/** One conditional write and its follow-up; undefined when the token was not in a state it applies to. */
async function write(
  deps: BrokerDeps,
  action: TokenAction,
  tokenId: string,
  context: AdminContext,
  now: number,
): Promise<Omit<AdminResult, 'requestedTokenId' | 'tokenId' | 'outcome'> | undefined> {
  const { store, upstream } = deps;
  // Direct mode: the client holds a Logfire token, which a pause must delete (Logfire has no pause) and a
  // resume must replace. A relay token holds none: pause and resume act at the broker alone.
  const direct = upstream.canRevoke && !deps.relay;
  if (action === 'resume') {
    const after = await store.resumeToken(tokenId, now, direct ? 'rotate' : 'active');
    if (!after) return undefined;
    await appendAudit(deps, [
      {
        ...about(after, context, now),
        action: 'token.resumed',
        details: { status: after.status, upstreamStillValid: !direct },
      },
    ]);
    return { status: after.status, upstreamStillValid: !direct };
  }
  const before =
    action === 'pause'
      ? await store.pauseToken(tokenId, context.reason, now, { queueUpstreamDeletion: direct })
      : await store.revokeToken(tokenId, context.reason, now);
  if (!before) return undefined;
  const verb = action === 'pause' ? 'token.paused' : 'token.revoked';
  const entry = withdrawnEntry(before, verb, context.actor, context.reason, now, direct);
  const deletion = await deleteUpstreamNow(deps, before, context.actor, now);
  await appendAudit(deps, [
    { ...entry, sourceIp: context.sourceIp, details: { ...entry.details, previousStatus: before.status } },
    ...deletion.entries,
  ]);
  return {
    status: action === 'pause' ? 'paused' : 'revoked',
    upstream: deletion.effect,
    upstreamStillValid: deletion.effect !== 'deleted' && deletion.effect !== 'relay_only',
  };
}

function about(record: TokenRecord, context: AdminContext, now: number): Omit<AuditEntry, 'action'> {
  const { tokenId, installId, chainId } = record;
  return {
    at: now,
    actor: context.actor,
    tokenId,
    installId,
    chainId,
    sourceIp: context.sourceIp,
    reason: context.reason,
  };
}

function alreadyDone(action: TokenAction, status: TokenStatus): boolean {
  if (action === 'pause') return status === 'paused';
  if (action === 'resume') return status === 'active' || status === 'rotate';
  return status === 'revoked';
}

/** Whether a listed token is one the action is for (pause waits for a refresh in flight). */
export function appliesTo(action: TokenAction, status: TokenStatus): boolean {
  if (action === 'pause') return status === 'active' || status === 'rotate' || status === 'refreshing';
  if (action === 'resume') return status === 'paused';
  return !TERMINAL_STATUSES.includes(status);
}

/** Refuses an operation without an actor or a reason (the audit trail needs both). */
export function checkContext(context: AdminContext): void {
  if (!context.actor) throw new InvalidRequest('An admin operation needs an actor.');
  const reason = context.reason?.trim();
  if (!reason || reason.length > 500) {
    throw new InvalidRequest('An admin operation needs a reason of 1 to 500 characters.');
  }
}
