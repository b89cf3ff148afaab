import type { IssuedToken, MintRequest } from './contract';
import { idempotencyRecordKey, openReply, sealReply } from './credentials';
import type { BrokerDeps, RequestOrigin } from './deps';
import { Conflict, errorName } from './errors';
import { issueToken } from './issue';

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
  const identity = {
    installId: request.installId,
    appName: request.app.name,
    appVersion: request.app.version,
    platform: request.platform,
    metadata: request.metadata && Object.keys(request.metadata).length ? request.metadata : undefined,
  };
  if (!idempotencyKey) {
    const { record, reply } = await issueToken(deps, identity, origin);
    logMint(deps, record.tokenId, request, origin, false);
    return { reply, replayed: false };
  }

  const key = idempotencyRecordKey(request.installId, idempotencyKey);
  const replay = await claimOrReplay(deps, key, request.installId, idempotencyKey);
  if (replay) {
    logMint(deps, replay.tokenId, request, origin, true);
    return { reply: replay, replayed: true };
  }
  let issued;
  try {
    issued = await issueToken(deps, identity, origin);
  } catch (error) {
    await deps.store.releaseIdempotencyKey(key).catch(() => undefined);
    throw error;
  }
  try {
    await deps.store.completeIdempotencyKey(key, sealReply(issued.reply, request.installId, idempotencyKey));
  } catch (error) {
    // The token is issued and tracked; a retry will mint another one rather than wait on a stuck claim.
    deps.log.warn('idempotency record not completed', {
      tokenId: issued.record.tokenId,
      cause: errorName(error),
    });
    await deps.store.releaseIdempotencyKey(key).catch(() => undefined);
  }
  logMint(deps, issued.record.tokenId, request, origin, false);
  return { reply: issued.reply, replayed: false };
}

/** Claims the key, or returns the reply of the request that claimed it first (waiting while it runs). */
async function claimOrReplay(
  deps: BrokerDeps,
  key: string,
  installId: string,
  idempotencyKey: string,
): Promise<IssuedToken | undefined> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const deadline = deps.clock.now() + CONCURRENT_MINT_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const claim = await deps.store.claimIdempotencyKey(
      key,
      deps.clock.now(),
      deps.settings.idempotencyWindowMs,
    );
    if (claim.state === 'claimed') return undefined;
    if (claim.state === 'completed') {
      const reply = openReply<IssuedToken>(claim.sealedReply, installId, idempotencyKey);
      if (!reply) throw new Conflict('This Idempotency-Key was used for another request.');
      return reply;
    }
    if (deps.clock.now() + delay > deadline) {
      throw new Conflict('A mint with this Idempotency-Key is still in progress; retry shortly.', 1);
    }
    await sleep(delay);
  }
}

function logMint(
  deps: BrokerDeps,
  tokenId: string,
  request: MintRequest,
  origin: RequestOrigin,
  replayed: boolean,
) {
  deps.log.info(replayed ? 'mint replayed' : 'token minted', {
    tokenId,
    installId: request.installId,
    app: `${request.app.name}@${request.app.version}`,
    sourceIp: origin.sourceIp,
  });
}
