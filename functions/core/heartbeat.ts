import type { HeartbeatReply, HeartbeatStatus } from './contract';
import { hashSecret, isTokenId, secretMatches } from './credentials';
import type { BrokerDeps } from './deps';
import { Unauthorized } from './errors';
import { appendAudit } from './jobs';
import { checkBoundNetwork } from './network';
import { quotaCounter, quotaExceeded } from './quota';
import type { TokenRecord } from './model';
import { clientSettingsLookup } from './clientSettings';
import type { ClientSettings } from './contract';

/**
 * A client checks in (R7): records the heartbeat and tells the client what to do next. Exactly one
 * conditional write, refused or not: it counts the heartbeat against the hourly quota (R9) and answers a
 * revoked token's owner as well, so a flood of wrong secrets costs no more than good traffic. The one
 * exception is a token's first refusal of an hour, which also appends the heartbeat-storm signal.
 *
 * @example
 * const { status } = await heartbeat(deps, tokenId, clientSecret); // 'active' | 'paused' | 'rotate' | 'revoked'
 */
export async function heartbeat(
  deps: BrokerDeps,
  tokenId: string,
  clientSecret: string,
  sourceIp?: string,
): Promise<HeartbeatReply> {
  if (!isTokenId(tokenId)) throw new Unauthorized();
  const now = deps.clock.now();
  // The configured limit: reading the operator's overrides would cost the hot path a request per process.
  const limit = deps.settings.quotas.heartbeatsPerTokenPerHour;
  // The settings' rules are read (at most every 30 s per process) beside the one write, never after it.
  const [updated, lookup] = await Promise.all([
    deps.store.recordHeartbeat(tokenId, hashSecret(clientSecret), now, { countHour: limit > 0 }),
    clientSettingsLookup(deps),
  ]);
  // Expired or replaced credentials are just invalid; only an explicit revocation is told its owner.
  if (!updated || !secretMatches(clientSecret, updated.record.secretHash)) throw new Unauthorized();
  const { record, beatsThisHour } = updated;
  const settings = lookup(record);
  if (record.status === 'revoked') return reply(deps, record, 'revoked', settings);
  if (sourceIp !== undefined) checkBoundNetwork(record, sourceIp);
  if (beatsThisHour !== undefined && beatsThisHour > limit) {
    if (beatsThisHour === limit + 1) await recordQuotaExceeded(deps, record, limit, now, sourceIp);
    throw quotaExceeded(
      quotaCounter('heartbeat:token', tokenId, 'hour', limit, now),
      'heartbeats of this token',
      now,
    );
  }
  return reply(deps, record, liveStatus(record, now), settings);
}

/** Logged once per token and hour, at its first refusal; the log metric and the heartbeat-storm rule count it. */
export const HEARTBEAT_QUOTA_EXCEEDED_MESSAGE = 'heartbeat quota exceeded';

/**
 * The heartbeat-storm signal (core/anomalies): at the FIRST refusal of an hour only, a log line and one
 * audit entry. The one extra write falls on the abuse path alone; every other heartbeat stays one request.
 */
async function recordQuotaExceeded(
  deps: BrokerDeps,
  record: TokenRecord,
  limit: number,
  now: number,
  sourceIp: string | undefined,
): Promise<void> {
  const { tokenId, installId, chainId } = record;
  deps.log.warn(HEARTBEAT_QUOTA_EXCEEDED_MESSAGE, { tokenId, installId, limit });
  await appendAudit(deps, [
    {
      at: now,
      action: 'token.heartbeat_quota_exceeded',
      actor: 'client',
      tokenId,
      installId,
      chainId,
      sourceIp,
      details: { limit },
    },
  ]);
}

/** A live token's status as the client should act on it; rotation is due once refreshAfter has passed. */
function liveStatus(record: TokenRecord, now: number): HeartbeatStatus {
  if (record.status === 'paused') return 'paused';
  if (record.status === 'rotate' || now >= record.refreshAfter) return 'rotate';
  return 'active';
}

function reply(
  deps: BrokerDeps,
  record: TokenRecord,
  status: HeartbeatStatus,
  settings: ClientSettings,
): HeartbeatReply {
  return {
    status,
    heartbeatIntervalSeconds: Math.round(deps.settings.heartbeatIntervalMs / 1000),
    expiresAt: new Date(record.expiresAt).toISOString(),
    settings,
  };
}
