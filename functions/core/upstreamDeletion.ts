/**
 * Deleting write tokens at Logfire, durably. The store queues a deletion in the same conditional write
 * that withdraws a token (revoke, reclaim, pause in direct mode, end of a refresh's grace), so no crash
 * loses one; this module performs it, dequeues it on success, and on failure moves it later with an
 * exponential backoff. A failed deletion is never dropped: it stays in the queue until Logfire confirms.
 */
import { UPSTREAM_LIVES_ON, withdrawnEntry, type AuditActor, type AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import { errorName, UpstreamUnavailable } from './errors';
import type { TokenRecord } from './model';

const MINUTE = 60_000;
/** The longest wait between two attempts; the sweep runs every 15 minutes anyway. */
export const MAX_DELETE_BACKOFF_MS = 60 * MINUTE;

/** What happened to the upstream token. */
/** `relay_only`: a relay-mode token has no Logfire token of its own; it stops at the broker at once. */
export type UpstreamEffect = 'deleted' | 'delete_queued' | 'not_revocable' | 'relay_only';

/** The queue entry or the record being deleted: what the deletion needs to know. */
export interface DeletionTarget {
  tokenId: string;
  upstreamId?: string;
  installId?: string;
  chainId?: string;
  /** Failed attempts so far. */
  attempts?: number;
  status?: string;
  /** Set on relay-mode tokens (docs/relay.md): nothing of theirs exists at Logfire. */
  relayTokenHash?: string;
}

/**
 * When to try again after `attempts` failures: 1, 2, 4 … minutes, at most an hour, and never sooner than
 * Logfire's Retry-After.
 * @example deletionBackoffMs(0) // 60_000
 */
export function deletionBackoffMs(attempts: number, error?: unknown): number {
  const exponential = Math.min(MAX_DELETE_BACKOFF_MS, MINUTE * 2 ** Math.min(attempts, 16));
  const retryAfter = error instanceof UpstreamUnavailable ? error.retryAfterSeconds * 1000 : 0;
  return Math.min(MAX_DELETE_BACKOFF_MS, Math.max(exponential, retryAfter));
}

/**
 * Deletes the upstream token of a token the store has already withdrawn (and so queued), then takes it off
 * the queue. In user-token mode nothing can be deleted: the entry says so and the token lives on at
 * Logfire until its own expiry. Returns the effect and the audit entries to append (never throws for a
 * Logfire failure: the deletion stays queued with a backoff; a store error is thrown).
 *
 * @example
 * const before = await deps.store.revokeToken(tokenId, reason, now);
 * if (before) { const { effect, entries } = await deleteUpstreamNow(deps, before, 'admin:arn:…', now); }
 */
export async function deleteUpstreamNow(
  deps: BrokerDeps,
  target: DeletionTarget,
  actor: AuditActor,
  now: number,
): Promise<{ effect: UpstreamEffect; entries: AuditEntry[] }> {
  const about = {
    at: now,
    actor,
    tokenId: target.tokenId,
    installId: target.installId,
    chainId: target.chainId,
  };
  if (target.relayTokenHash && !target.upstreamId) return { effect: 'relay_only', entries: [] };
  if (!target.upstreamId || !deps.upstream.canRevoke) {
    // Queued under an API key that the broker no longer uses (mode switch): nothing more can be done.
    if (target.upstreamId) await deps.store.markUpstreamDeleted(target.tokenId, now);
    return {
      effect: 'not_revocable',
      entries: [{ ...about, action: 'upstream.not_revocable', reason: UPSTREAM_LIVES_ON }],
    };
  }
  try {
    await deps.upstream.deleteWriteToken(target.upstreamId);
  } catch (error) {
    const attempts = target.attempts ?? 0;
    const retryAt = now + deletionBackoffMs(attempts, error);
    // False when the entry left the queue meanwhile (another worker finished it): nothing to defer.
    await deps.store.deferUpstreamDeletion(target.tokenId, retryAt);
    deps.log.warn('upstream delete failed; queued for retry', {
      tokenId: target.tokenId,
      upstreamId: target.upstreamId,
      attempts: attempts + 1,
      retryAt: new Date(retryAt).toISOString(),
      cause: errorName(error),
    });
    return {
      effect: 'delete_queued',
      entries: [
        {
          ...about,
          action: 'upstream.delete_failed',
          reason: errorName(error),
          details: { upstreamId: target.upstreamId, attempts: attempts + 1, retryAt },
        },
      ],
    };
  }
  await deps.store.markUpstreamDeleted(target.tokenId, now);
  const details: Record<string, string | number> = { upstreamId: target.upstreamId };
  if (target.status) details.previousStatus = target.status;
  return { effect: 'deleted', entries: [{ ...about, action: 'upstream.deleted', details }] };
}

/**
 * Revokes one token and deletes (or queues) its upstream token. Returns the record as it was and the
 * audit entries to append (the revocation first), or undefined when the token was already terminal.
 * @example const done = await revokeWithUpstream(deps, tokenId, 'system:reuse-detection', 'client secret reused', now);
 */
export async function revokeWithUpstream(
  deps: BrokerDeps,
  tokenId: string,
  actor: AuditActor,
  reason: string,
  now: number,
): Promise<{ before: TokenRecord; entries: AuditEntry[] } | undefined> {
  const before = await deps.store.revokeToken(tokenId, reason, now);
  if (!before) return undefined;
  const revoked = withdrawnEntry(before, 'token.revoked', actor, reason, now, deps.upstream.canRevoke);
  const { entries } = await deleteUpstreamNow(deps, before, actor, now);
  return { before, entries: [revoked, ...entries] };
}
