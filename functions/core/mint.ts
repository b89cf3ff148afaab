import type { IssuedToken, MintRequest } from './contract';
import { randomUUID } from 'node:crypto';
import { idempotencyRecordKey, openReply, requestHash, sealReply } from './credentials';
import { claimLeaseMs, type BrokerDeps, type RequestOrigin } from './deps';
import { Conflict, errorName, Forbidden, IdempotencyKeyReused } from './errors';
import { mintAllowlist, networkOf } from './network';
import { mintAllowCidrs, takeMintQuota } from './quotas';
import { issueToken } from './issue';
import { clientSettingsLookup, withClientSettings } from './clientSettings';

/** How long a request waits for a concurrent mint with the same Idempotency-Key before answering 409. */
const CONCURRENT_MINT_WAIT_MS = 10_000;

export interface MintResult {
  reply: IssuedToken;
  /** True when this is the stored reply of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

/**
 * Mints a write token for one installation (R2). With an Idempotency-Key, a retry within the idempotency
 * window gets the same token back and Logfire is called once, even when the retries run concurrently.
 *
 * @example
 * const { reply } = await mintToken(deps, { installId, app: { name: 'mycli', version: '1.2.0' } }, { sourceIp });
 */
export async function mintToken(
  deps: BrokerDeps,
  request: MintRequest,
  origin: RequestOrigin,
  idempotencyKey?: string,
): Promise<MintResult> {
  // The operator's run-time allowlist (admin API) wins over BROKER_MINT_ALLOW_CIDRS.
  if (!mintAllowlist(await mintAllowCidrs(deps))(origin.sourceIp)) {
    throw new Forbidden('Minting is not allowed from this address.');
  }
  const identity = {
    installId: request.installId,
    appName: request.app.name,
    appVersion: request.app.version,
    platform: request.platform,
    metadata: request.metadata && Object.keys(request.metadata).length ? request.metadata : undefined,
    boundNetwork: deps.settings.bindTokensToNetwork ? networkOf(origin.sourceIp) : undefined,
    clientName: request.client?.name,
    clientVersion: request.client?.version,
  };
  // Read (at most every 30 s) while the mint does its own work; a replay gets the settings of now too.
  const lookup = clientSettingsLookup(deps);
  const withSettings = (reply: IssuedToken) => withClientSettings(lookup, identity, reply);
  // Quotas count mints that reach Logfire: a replay of an earlier reply takes none.
  const quota = () => takeMintQuota(deps, request.installId, origin.sourceIp);
  if (!idempotencyKey) {
    const { record, reply } = await issueToken(deps, identity, origin, {}, quota());
    logMint(deps, record, request, origin, false);
    return { reply: await withSettings(reply), replayed: false };
  }

  const key = idempotencyRecordKey(request.installId, idempotencyKey);
  const claimId = randomUUID();
  const replay = await claimOrReplay(deps, key, claimId, request, idempotencyKey);
  if (replay) {
    logMint(deps, { tokenId: replay.tokenId }, request, origin, true);
    return { reply: await withSettings(replay), replayed: true };
  }
  let issued;
  try {
    issued = await issueToken(deps, identity, origin, {}, quota());
  } catch (error) {
    await deps.store.releaseIdempotencyKey(key, claimId).catch(() => undefined);
    throw error;
  }
  try {
    await deps.store.completeIdempotencyKey(
      key,
      claimId,
      sealReply(issued.reply, request.installId, idempotencyKey),
    );
  } catch (error) {
    // The token is issued and tracked; a retry will mint another one rather than wait on a stuck claim.
    deps.log.warn('idempotency record not completed', {
      tokenId: issued.record.tokenId,
      cause: errorName(error),
    });
    await deps.store.releaseIdempotencyKey(key, claimId).catch(() => undefined);
  }
  logMint(deps, issued.record, request, origin, false);
  return { reply: await withSettings(issued.reply), replayed: false };
}

/**
 * Claims the key, or returns the reply of the request that claimed it first (waiting while it runs). The
 * same key with another body is refused (422); a claim whose attempt died is taken over after its lease.
 */
async function claimOrReplay(
  deps: BrokerDeps,
  key: string,
  claimId: string,
  request: MintRequest,
  idempotencyKey: string,
): Promise<IssuedToken | undefined> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  // Wall time, not the injected clock: the wait bounds how long a request really hangs.
  const deadline = performance.now() + CONCURRENT_MINT_WAIT_MS;
  const hash = requestHash(request);
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const claim = await deps.store.claimIdempotencyKey(key, {
      claimId,
      requestHash: hash,
      now: deps.clock.now(),
      ttlMs: deps.settings.idempotencyWindowMs,
      leaseMs: claimLeaseMs(deps),
    });
    if (claim.state === 'claimed') return undefined;
    // Claims written before requests were hashed carry none; their sealed reply still tells (below).
    if (claim.requestHash !== undefined && claim.requestHash !== hash) throw new IdempotencyKeyReused();
    if (claim.state === 'completed') {
      const reply = openReply<IssuedToken>(claim.sealedReply, request.installId, idempotencyKey);
      if (!reply) throw new IdempotencyKeyReused();
      return reply;
    }
    if (performance.now() + delay > deadline) {
      throw new Conflict('A mint with this Idempotency-Key is still in progress; retry shortly.', 1);
    }
    await sleep(delay);
  }
}

function logMint(
  deps: BrokerDeps,
  token: { tokenId: string; tokenPrefix?: string },
  request: MintRequest,
  origin: RequestOrigin,
  replayed: boolean,
) {
  deps.log.info(replayed ? 'mint replayed' : 'token minted', {
    tokenId: token.tokenId,
    // What Logfire's UI shows of the write token: how an operator finds this install's token there.
    tokenPrefix: token.tokenPrefix,
    installId: request.installId,
    app: `${request.app.name}@${request.app.version}`,
    sourceIp: origin.sourceIp,
  });
}
