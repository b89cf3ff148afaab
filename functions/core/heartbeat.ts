import type { HeartbeatReply, HeartbeatStatus } from './contract';
import { hashSecret, isTokenId, secretMatches } from './credentials';
import type { BrokerDeps } from './deps';
import { Unauthorized } from './errors';
import type { TokenRecord } from './model';

/**
 * A client checks in (R7): records the heartbeat and tells the client what to do next. One conditional
 * write on the happy path; a second read only when the write's condition failed, to tell why.
 *
 * @example
 * const { status } = await heartbeat(deps, tokenId, clientSecret); // 'active' | 'paused' | 'rotate' | 'revoked'
 */
export async function heartbeat(
  deps: BrokerDeps,
  tokenId: string,
  clientSecret: string,
): Promise<HeartbeatReply> {
  if (!isTokenId(tokenId)) throw new Unauthorized();
  const now = deps.clock.now();
  const updated = await deps.store.recordHeartbeat(tokenId, hashSecret(clientSecret), now);
  if (updated && secretMatches(clientSecret, updated.secretHash)) {
    return reply(deps, updated, liveStatus(updated, now));
  }
  const record = await deps.store.getToken(tokenId);
  if (!record || !secretMatches(clientSecret, record.secretHash)) throw new Unauthorized();
  // Only an explicit revocation is worth telling a proven owner; expired or replaced credentials are just invalid.
  if (record.status === 'revoked') return reply(deps, record, 'revoked');
  throw new Unauthorized();
}

/** A live token's status as the client should act on it; rotation is due once refreshAfter has passed. */
function liveStatus(record: TokenRecord, now: number): HeartbeatStatus {
  if (record.status === 'paused') return 'paused';
  if (record.status === 'rotate' || now >= record.refreshAfter) return 'rotate';
  return 'active';
}

function reply(deps: BrokerDeps, record: TokenRecord, status: HeartbeatStatus): HeartbeatReply {
  return {
    status,
    heartbeatIntervalSeconds: Math.round(deps.settings.heartbeatIntervalMs / 1000),
    expiresAt: new Date(record.expiresAt).toISOString(),
  };
}
