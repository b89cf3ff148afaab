/**
 * The audit trail (R5): an append-only record of every mint, refresh, status change, revocation, sweep
 * action and admin action. Entries never carry a secret: ids, actors, addresses and reasons only.
 */

export type AuditAction =
  | 'token.minted'
  | 'token.refreshed'
  | 'token.rotation_due'
  | 'token.paused'
  | 'token.resumed'
  | 'token.revoked'
  | 'token.expired'
  | 'token.reclaimed'
  | 'token.reuse_detected'
  /** The first heartbeat of an hour past the token's quota (one per token and hour): the heartbeat-storm signal. */
  | 'token.heartbeat_quota_exceeded'
  | 'upstream.deleted'
  | 'upstream.delete_failed'
  | 'upstream.not_revocable'
  | 'upstream.orphan_deleted'
  | 'job.rotation'
  | 'job.sweep'
  /** An anomaly rule fired in dry-run mode: what it would have done; nothing changed. */
  | 'anomaly.detected'
  /** An anomaly rule fired with the action `flag`: recorded, nothing changed. */
  | 'anomaly.flagged'
  /** An anomaly rule fired and paused or revoked tokens (their own entries follow, with the same actor). */
  | 'anomaly.actioned'
  /** An admin undid an anomaly action: its paused tokens resumed. */
  | 'anomaly.undone'
  /** Admin API: a bulk job created (its tokens' own entries follow as it runs), quotas or allowlist changed. */
  | 'admin.bulk_created'
  | 'admin.quotas_changed'
  | 'admin.allowlist_changed'
  /** Every second-factor attempt, good or bad (never the code). */
  | 'otp_accepted'
  | 'otp_refused'
  | 'relay.pool_created'
  | 'relay.pool_rotated'
  | 'relay.pool_repaired';

/** Who did it: the client itself, a scheduled job, an anomaly rule (by name), or an admin (an IAM principal ARN). */
export type AuditActor =
  | 'client'
  | 'system:rotation'
  | 'system:sweep'
  | 'system:reuse-detection'
  | 'system:refresh-recovery'
  | `system:anomaly:${string}`
  | 'system:relay'
  | `admin:${string}`;

export interface AuditEntry {
  /** Epoch milliseconds. */
  at: number;
  action: AuditAction;
  actor: AuditActor;
  tokenId?: string;
  installId?: string;
  chainId?: string;
  sourceIp?: string;
  reason?: string;
  /** Small facts worth keeping (counts, upstream ids, the other token of a refresh); never a secret. */
  details?: Record<string, string | number | boolean>;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass back to read the next page; absent on the last one. */
  cursor?: string;
}

export interface AuditQuery {
  /** Inclusive range of `at`, epoch ms. */
  from?: number;
  to?: number;
  limit?: number;
  cursor?: string;
}

/** The audit trail's port; DynamoDB is the adapter (the audit table, TTL retention). */
export interface AuditLog {
  append(entries: AuditEntry[]): Promise<void>;
  byToken(tokenId: string, query?: AuditQuery): Promise<AuditPage>;
  byInstall(installId: string, query?: AuditQuery): Promise<AuditPage>;
  /** Everything in a time range, newest first. */
  byTime(query: AuditQuery & { from: number; to: number }): Promise<AuditPage>;
}

/** Said wherever a token is withdrawn but Logfire offers no way to delete its write token. */
/** A relay-mode token holds no Logfire token: withdrawing it in the broker stops it everywhere, at once. */
export const RELAY_STOPS_AT_ONCE =
  'relay token: the relay refuses it from now on; no Logfire token is involved';

export const UPSTREAM_LIVES_ON =
  'user-token mode: the Logfire write token cannot be deleted and lives until its own expiry';

/**
 * The entry for a token withdrawn by anyone (revoked, reclaimed, expired, paused): what happened and, in
 * user-token mode, that the upstream token still works.
 * @example await deps.audit.append([withdrawnEntry(record, 'token.revoked', 'system:sweep', 'stale', now, deps.upstream.canRevoke)]);
 */
export function withdrawnEntry(
  record: {
    tokenId: string;
    installId: string;
    chainId: string;
    upstreamId?: string;
    relayTokenHash?: string;
  },
  action: 'token.revoked' | 'token.reclaimed' | 'token.expired' | 'token.paused',
  actor: AuditActor,
  reason: string,
  at: number,
  upstreamRevocable: boolean,
): AuditEntry {
  return {
    at,
    action,
    actor,
    tokenId: record.tokenId,
    installId: record.installId,
    chainId: record.chainId,
    reason,
    details:
      record.relayTokenHash && !record.upstreamId
        ? { upstreamStillValid: false, note: RELAY_STOPS_AT_ONCE }
        : upstreamRevocable
          ? { upstreamStillValid: false, ...(record.upstreamId ? { upstreamId: record.upstreamId } : {}) }
          : { upstreamStillValid: true, note: UPSTREAM_LIVES_ON },
  };
}
