import type { IssuedToken } from './contract';
import { revokeChain } from './chain';
import { revokeWithUpstream } from './upstreamDeletion';
import { hashSecret, isTokenId, secretMatches } from './credentials';
import type { BrokerDeps, RequestOrigin } from './deps';
import { errorName, Forbidden, Unauthorized } from './errors';
import { issueToken } from './issue';
import type { TokenRecord } from './model';

/** Statuses that mean the presented secret was already spent on a refresh. */
const SPENT = new Set(['refreshing', 'refreshed', 'superseded']);

/**
 * Replaces a token (R13): a new write token and a new client secret; the old secret stops working.
 * Presenting a spent secret again revokes the whole chain (refresh-token reuse detection).
 *
 * @example
 * const next = await refreshToken(deps, tokenId, clientSecret, { sourceIp });
 */
export async function refreshToken(
  deps: BrokerDeps,
  tokenId: string,
  clientSecret: string,
  origin: RequestOrigin,
): Promise<IssuedToken> {
  if (!isTokenId(tokenId)) throw new Unauthorized();
  const { store, clock, log } = deps;
  const claimed = await store.claimForRefresh(tokenId, hashSecret(clientSecret), clock.now());
  if (!claimed || !secretMatches(clientSecret, claimed.secretHash)) {
    return refuse(deps, tokenId, clientSecret, origin);
  }

  let issued;
  try {
    issued = await issueToken(deps, identityOf(claimed), origin, {
      chainId: claimed.chainId,
      parentId: tokenId,
    });
  } catch (error) {
    await store
      .releaseRefreshClaim(tokenId, claimed.status, clock.now())
      .catch((releaseError: unknown) =>
        log.error('refresh claim not released', { tokenId, cause: errorName(releaseError) }),
      );
    throw error;
  }
  try {
    await store.completeRefresh(tokenId, issued.record.tokenId, clock.now(), deps.settings.rotationGraceMs);
  } catch (error) {
    // The claim was taken from us: reuse detection revoked the chain while we minted. Our new token
    // belongs to that chain, so it goes too.
    log.warn('refresh lost its claim; revoking the new token', { tokenId, cause: errorName(error) });
    const actor = 'system:reuse-detection';
    const done = await revokeWithUpstream(
      deps,
      issued.record.tokenId,
      actor,
      'chain revoked during refresh',
      clock.now(),
    );
    if (done) await deps.audit.append(done.entries);
    throw new Unauthorized();
  }
  log.info('token refreshed', { tokenId, successorId: issued.record.tokenId, sourceIp: origin.sourceIp });
  return issued.reply;
}

async function refuse(
  deps: BrokerDeps,
  tokenId: string,
  clientSecret: string,
  origin: RequestOrigin,
): Promise<never> {
  const record = await deps.store.getToken(tokenId);
  if (!record || !secretMatches(clientSecret, record.secretHash)) throw new Unauthorized();
  if (SPENT.has(record.status)) {
    deps.log.warn('spent client secret presented again: revoking its chain', {
      tokenId,
      chainId: record.chainId,
      sourceIp: origin.sourceIp,
    });
    await revokeChain(deps, record, 'client secret reused', origin.sourceIp);
    throw new Unauthorized();
  }
  if (record.status === 'paused') throw new Forbidden('This token is paused by the broker operator.');
  throw new Unauthorized();
}

function identityOf(record: TokenRecord) {
  const { installId, appName, appVersion, platform, metadata } = record;
  return { installId, appName, appVersion, platform, metadata };
}
