/**
 * Crash-consistent minting, the sweep's half (docs/lifecycle.md). A mint writes an intent before it asks
 * Logfire for a token and removes it with the record; an intent still there after the mint's lease means
 * the process died, or Logfire timed out, in between, and Logfire may hold a token no record knows. The
 * sweep lists Logfire's write tokens once and deletes those that match the intent; every other token of
 * the project, the operator's own among them, is left alone.
 */
import type { AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import type { ListedWriteToken, MintIntent } from './ports';

/** What Logfire writes as the description of every token its public API creates (DESIGN §5). */
export const PUBLIC_API_DESCRIPTION = 'Created by Public API';
/** `expires_at` as Logfire lists it may be cut to whole seconds; the broker sends milliseconds. */
const EXPIRY_TOLERANCE_MS = 1000;
/** Logfire's clock and ours may differ; a created_at this far around the mint still counts. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The listed tokens that a mint under `intent` may have created: made by the public API, expiring at the
 * instant the intent asked for, created while that mint ran. Pure; the caller still checks that no record
 * holds them before deleting.
 * @example candidatesOf(intent, await upstream.listWriteTokens(), claimLeaseMs(deps))
 */
export function candidatesOf(
  intent: MintIntent,
  listed: readonly ListedWriteToken[],
  mintLeaseMs: number,
): ListedWriteToken[] {
  return listed.filter((token) => {
    if (token.description !== undefined && token.description !== PUBLIC_API_DESCRIPTION) return false;
    const expiresAt = token.expiresAt ? Date.parse(token.expiresAt) : NaN;
    const createdAt = token.createdAt ? Date.parse(token.createdAt) : NaN;
    if (!Number.isFinite(expiresAt) || !Number.isFinite(createdAt)) return false;
    if (Math.abs(expiresAt - intent.expiresAt) >= EXPIRY_TOLERANCE_MS) return false;
    return (
      createdAt >= intent.startedAt - CLOCK_SKEW_MS &&
      createdAt <= intent.startedAt + mintLeaseMs + CLOCK_SKEW_MS
    );
  });
}

export interface IntentOutcome {
  /** Upstream tokens deleted because no record holds them. */
  deleted: number;
  /** True when the intent is settled and was removed; false when a deletion failed (the next run retries). */
  settled: boolean;
  entries: AuditEntry[];
}

/** One sweep run's view of Logfire: its list, and the tokens this run already took care of. */
export interface Reconciliation {
  listed: readonly ListedWriteToken[];
  mintLeaseMs: number;
  /** Upstream ids another intent of this run handles (mints in the same millisecond share a fingerprint). */
  handled: Set<string>;
}

/**
 * Deletes the unrecorded tokens `intent` left at Logfire, then removes the intent. A deletion that fails
 * leaves the intent for the next run.
 * @example const outcome = await settleIntent(deps, intent, { listed, mintLeaseMs, handled: new Set() }, run.now);
 */
export async function settleIntent(
  deps: BrokerDeps,
  intent: MintIntent,
  reconciliation: Reconciliation,
  now: number,
): Promise<IntentOutcome> {
  const { listed, mintLeaseMs, handled } = reconciliation;
  const outcome: IntentOutcome = { deleted: 0, settled: false, entries: [] };
  for (const token of candidatesOf(intent, listed, mintLeaseMs)) {
    if (handled.has(token.upstreamId)) continue;
    handled.add(token.upstreamId);
    if (await deps.store.isUpstreamTokenRecorded(token.upstreamId)) continue;
    try {
      await deps.upstream.deleteWriteToken(token.upstreamId);
    } catch {
      handled.delete(token.upstreamId);
      return outcome; // Logfire failing: the intent stays, the next run tries again
    }
    outcome.deleted += 1;
    outcome.entries.push({
      at: now,
      action: 'upstream.orphan_deleted',
      actor: 'system:sweep',
      tokenId: intent.tokenId,
      reason: 'created by a mint that stopped before storing its record',
      details: {
        upstreamId: token.upstreamId,
        ...(token.tokenPrefix ? { tokenPrefix: token.tokenPrefix } : {}),
        mintStartedAt: intent.startedAt,
      },
    });
    deps.log.warn('deleted a Logfire token that a mint left untracked', {
      tokenId: intent.tokenId,
      upstreamId: token.upstreamId,
      tokenPrefix: token.tokenPrefix,
    });
  }
  await deps.store.dropMintIntent(intent.tokenId);
  outcome.settled = true;
  return outcome;
}
