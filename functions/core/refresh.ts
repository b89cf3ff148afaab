import type { IssuedToken } from './contract';
import { revokeChain } from './chain';
import { revokeWithUpstream } from './upstreamDeletion';
import { hashSecret, isTokenId, newTokenId, openReply, sealReply, secretMatches } from './credentials';
import { claimLeaseMs, type BrokerDeps, type RequestOrigin } from './deps';
import { Conflict, errorName, Forbidden, Unauthorized } from './errors';
import { issueToken } from './issue';
import { checkBoundNetwork } from './network';
import { takeRefreshQuota } from './quotas';
import { LIVE_STATUSES, type TokenRecord } from './model';
import { clientSettingsLookup, withClientSettings } from './clientSettings';

/** Statuses that mean the presented secret was already spent on a refresh. */
const SPENT = new Set(['refreshing', 'refreshed', 'superseded']);
/** How long a duplicate waits for the refresh in flight with the same secret before answering 409. */
const CONCURRENT_REFRESH_WAIT_MS = 10_000;

/**
 * Replaces a token (R13): a new write token and a new client secret; the old secret stops working.
 *
 * Within `refreshGraceMs` after a refresh, the just-spent secret gets the same successor again (a reply
 * lost on the way, a duplicate request; RFC 9700 §4.14), and concurrent refreshes with one secret all get
 * that one successor. A spent secret after the grace, or an older one, is reuse: the whole chain is
 * revoked. A refresh cut short by a crash leaves a claim whose lease runs out; the next attempt with the
 * same secret takes it over (withdrawing whatever the dead attempt stored) instead of taking it for theft.
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
  const { store, clock } = deps;
  const secretHash = hashSecret(clientSecret);
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  // Wall time, not the injected clock: the wait bounds how long a request really hangs.
  const deadline = performance.now() + CONCURRENT_REFRESH_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const successorId = newTokenId();
    const claimed = await store.claimForRefresh(tokenId, secretHash, clock.now(), {
      successorId,
      leaseMs: claimLeaseMs(deps),
    });
    if (claimed && secretMatches(clientSecret, claimed.secretHash)) {
      return withSettings(deps, claimed, issueSuccessor(deps, claimed, successorId, clientSecret, origin));
    }
    const record = await store.getToken(tokenId);
    if (!record || !secretMatches(clientSecret, record.secretHash)) throw new Unauthorized();
    if (record.status === 'refreshed') {
      checkBoundNetwork(record, origin.sourceIp);
      const again = await sameSuccessor(deps, record, clientSecret);
      if (again) {
        deps.log.info('refresh repeated within the grace: same successor', {
          tokenId,
          successorId: record.successorId,
          sourceIp: origin.sourceIp,
        });
        return withSettings(deps, record, Promise.resolve(again));
      }
    }
    if (record.status === 'refreshing' && (record.refreshLeaseUntil ?? 0) > clock.now()) {
      // A refresh with this secret is in flight (a duplicate, or a retry racing its own first try): wait
      // for its successor rather than mint a second one.
      if (performance.now() + delay > deadline) {
        throw new Conflict('A refresh with this secret is still in progress; retry shortly.', 1);
      }
      await sleep(delay);
      continue;
    }
    if (record.status === 'refreshing') continue; // its lease just ran out: take it over
    return refuse(deps, record, origin);
  }
}

/** The reply with the remote client settings of now, read beside the refresh (mint's rule). */
function withSettings(
  deps: BrokerDeps,
  record: TokenRecord,
  reply: Promise<IssuedToken>,
): Promise<IssuedToken> {
  return withClientSettings(clientSettingsLookup(deps), record, reply);
}

/** Issues the successor under the claim, seals its reply for the grace, and completes the refresh. */
async function issueSuccessor(
  deps: BrokerDeps,
  claimed: TokenRecord,
  successorId: string,
  clientSecret: string,
  origin: RequestOrigin,
): Promise<IssuedToken> {
  const { store, clock, log } = deps;
  const { tokenId } = claimed;
  if (claimed.status === 'refreshing' && claimed.refreshSuccessorId) {
    await withdrawAbandoned(deps, claimed, claimed.refreshSuccessorId);
  }
  const from = claimed.status === 'refreshing' ? (claimed.refreshFrom ?? 'active') : claimed.status;
  let issued;
  try {
    // Policy before Logfire is asked (alongside the intent's write); a refusal gives the claim back below.
    const allowed = (async () => {
      checkBoundNetwork(claimed, origin.sourceIp);
      await takeRefreshQuota(deps, claimed.chainId);
    })();
    issued = await issueToken(
      deps,
      identityOf(claimed),
      origin,
      { chainId: claimed.chainId, parentId: tokenId, tokenId: successorId },
      allowed,
    );
  } catch (error) {
    await store
      .releaseRefreshClaim(tokenId, { successorId, from }, clock.now())
      .catch((releaseError: unknown) =>
        log.error('refresh claim not released', { tokenId, cause: errorName(releaseError) }),
      );
    throw error;
  }
  try {
    await store.completeRefresh(tokenId, successorId, clock.now(), {
      graceMs: deps.settings.rotationGraceMs,
      sealedSuccessor: sealReply(issued.reply, tokenId, clientSecret, 'refresh successor'),
    });
  } catch (error) {
    // The claim was taken from us: reuse detection revoked the chain while we minted, or our attempt ran
    // past its lease and a retry took over. Either way our successor must not stay alive.
    log.warn('refresh lost its claim; revoking the new token', { tokenId, cause: errorName(error) });
    const done = await revokeWithUpstream(
      deps,
      successorId,
      'system:reuse-detection',
      'refresh lost its claim',
      clock.now(),
    );
    if (done) await deps.audit.append(done.entries);
    throw new Unauthorized();
  }
  log.info('token refreshed', {
    tokenId,
    successorId,
    tokenPrefix: issued.record.tokenPrefix,
    sourceIp: origin.sourceIp,
  });
  return issued.reply;
}

/**
 * The reply of the refresh that spent this secret, while the grace lasts and that successor is still the
 * chain's live end; undefined otherwise (then the secret counts as reused).
 */
async function sameSuccessor(
  deps: BrokerDeps,
  record: TokenRecord,
  clientSecret: string,
): Promise<IssuedToken | undefined> {
  const { refreshedAt, sealedSuccessor, successorId } = record;
  if (refreshedAt === undefined || !sealedSuccessor || !successorId) return undefined;
  if (deps.clock.now() >= refreshedAt + deps.settings.refreshGraceMs) return undefined; // 0s: no grace
  const successor = await deps.store.getToken(successorId);
  // Refreshed again since: this secret is an older one, not the just-spent one.
  if (!successor || !LIVE_STATUSES.includes(successor.status)) return undefined;
  return openReply<IssuedToken>(sealedSuccessor, record.tokenId, clientSecret, 'refresh successor');
}

/**
 * A refresh died holding the claim. If it had stored its successor, nobody holds that successor's secret
 * (the reply never left): revoke it, so the takeover's successor is the only live end of the chain.
 */
async function withdrawAbandoned(deps: BrokerDeps, claimed: TokenRecord, abandonedId: string) {
  const abandoned = await deps.store.getToken(abandonedId);
  deps.log.warn('refresh takes over a claim left by an attempt that died', {
    tokenId: claimed.tokenId,
    abandonedSuccessorId: abandoned ? abandonedId : undefined,
  });
  if (!abandoned) return;
  const done = await revokeWithUpstream(
    deps,
    abandonedId,
    'system:refresh-recovery',
    'successor of a refresh that died before replying',
    deps.clock.now(),
  );
  if (done) await deps.audit.append(done.entries);
}

async function refuse(deps: BrokerDeps, record: TokenRecord, origin: RequestOrigin): Promise<never> {
  if (SPENT.has(record.status)) {
    deps.log.warn('spent client secret presented again: revoking its chain', {
      tokenId: record.tokenId,
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
  const { installId, appName, appVersion, platform, metadata, boundNetwork, clientName, clientVersion } =
    record;
  return { installId, appName, appVersion, platform, metadata, boundNetwork, clientName, clientVersion };
}
