import type { IssuedToken } from './contract';
import { hashSecret, newClientSecret, newRelayToken, newTokenId } from './credentials';
import type { BrokerDeps, RequestOrigin } from './deps';
import { errorName } from './errors';
import type { TokenRecord } from './model';
import type { UpstreamToken } from './ports';
import { relayBaseUrl } from './relay';

/** Who the token is for; carried from a token to its successor at refresh. */
export type TokenIdentity = Pick<
  TokenRecord,
  | 'installId'
  | 'appName'
  | 'appVersion'
  | 'platform'
  | 'metadata'
  | 'boundNetwork'
  | 'clientName'
  | 'clientVersion'
>;

/** Where a token comes from: a mint starts a chain, a refresh continues one with a successor chosen at claim time. */
export interface TokenLineage {
  chainId?: string;
  parentId?: string;
  tokenId?: string;
}

/**
 * Mints an upstream write token and stores its record, so that no token exists that the broker does not
 * track (DESIGN §4):
 * - where Logfire can list its tokens (API-key and dev modes), a mint intent is written first and removed
 *   in the same batch that stores the record; one left behind by a crash or a Logfire timeout is
 *   reconciled by the sweep (core/reconcile.ts);
 * - if the record cannot be stored, the upstream token is deleted again at once.
 * In relay mode no Logfire call is made at all: the write token is a relay token the broker checks itself.
 */
export async function issueToken(
  deps: BrokerDeps,
  identity: TokenIdentity,
  origin: RequestOrigin,
  lineage: TokenLineage = {},
  /** Must hold before Logfire is asked (the mint's quotas); checked alongside the intent's write. */
  gate?: Promise<void>,
): Promise<{ record: TokenRecord; reply: IssuedToken }> {
  const { store, upstream, clock, settings } = deps;
  const tokenId = lineage.tokenId ?? newTokenId();
  const clientSecret = newClientSecret();
  const now = clock.now();
  const expiresAt = now + settings.tokenTtlMs;
  const relayToken = deps.relay && newRelayToken(tokenId);
  // Known before anything is stored: a reply that cannot be made must not leave a token behind.
  const relayIngest = deps.relay && relayBaseUrl(deps.relay, origin);
  const withIntent = !relayToken && upstream.listWriteTokens !== undefined;
  const [intent, allowed] = await Promise.allSettled([
    withIntent ? store.recordMintIntent({ tokenId, startedAt: now, expiresAt }) : undefined,
    gate,
  ]);
  if (allowed.status === 'rejected') {
    // Refused before Logfire was asked: nothing for the sweep to look for.
    if (withIntent && intent.status === 'fulfilled')
      await store.dropMintIntent(tokenId).catch(() => undefined);
    throw allowed.reason;
  }
  if (intent.status === 'rejected') throw intent.reason;
  // A create that fails may still have made a token (a timeout after Logfire acted): the intent stays, and
  // the sweep looks at Logfire's list. So does every other failure below; a look that finds nothing only
  // removes the intent.
  const upstreamToken: Partial<UpstreamToken> = relayToken
    ? {}
    : await upstream.createWriteToken({ expiresAt: new Date(expiresAt) });
  const record: TokenRecord = {
    tokenId,
    chainId: lineage.chainId ?? tokenId,
    parentId: lineage.parentId,
    upstreamId: upstreamToken.upstreamId,
    tokenPrefix: upstreamToken.tokenPrefix,
    upstreamKind: upstream.kind,
    ...identity,
    sourceIp: origin.sourceIp,
    userAgent: origin.userAgent,
    createdAt: now,
    expiresAt,
    refreshAfter: now + settings.rotateAfterMs,
    status: 'active',
    updatedAt: now,
    secretHash: hashSecret(clientSecret),
    ...(relayToken ? { relayTokenHash: hashSecret(relayToken) } : {}),
  };
  try {
    await store.createToken(
      record,
      [
        {
          at: now,
          action: lineage.parentId ? 'token.refreshed' : 'token.minted',
          actor: 'client',
          tokenId,
          installId: identity.installId,
          chainId: record.chainId,
          sourceIp: origin.sourceIp,
          details: {
            app: `${identity.appName}@${identity.appVersion}`,
            upstream: upstream.kind,
            ...(relayToken ? { ingest: 'relay' } : {}),
            ...(record.upstreamId ? { upstreamId: record.upstreamId } : {}),
            ...(record.tokenPrefix ? { tokenPrefix: record.tokenPrefix } : {}),
            ...(lineage.parentId ? { parentId: lineage.parentId } : {}),
          },
        },
      ],
      // A retried create may have left an earlier token at Logfire: the intent stays for the sweep.
      { settlesIntent: withIntent && !upstreamToken.retried },
    );
  } catch (error) {
    await compensate(deps, record, error, withIntent);
    throw error;
  }
  return {
    record,
    reply: {
      tokenId,
      writeToken: relayToken ?? upstreamToken.token!,
      clientSecret,
      expiresAt: new Date(expiresAt).toISOString(),
      refreshAfter: new Date(record.refreshAfter).toISOString(),
      heartbeatIntervalSeconds: Math.round(settings.heartbeatIntervalMs / 1000),
      ingest: { baseUrl: relayIngest ?? upstream.ingestBaseUrl },
    },
  };
}

async function compensate(
  deps: BrokerDeps,
  record: TokenRecord,
  cause: unknown,
  withIntent: boolean,
): Promise<void> {
  const { upstream, log } = deps;
  // Relay mode made no Logfire token: an unstored record leaves nothing behind.
  if (record.relayTokenHash) return;
  const context = {
    tokenId: record.tokenId,
    upstreamId: record.upstreamId,
    tokenPrefix: record.tokenPrefix,
    cause: errorName(cause),
  };
  if (!upstream.canRevoke || !record.upstreamId) {
    log.error('token record not stored; upstream token cannot be deleted and lives until it expires', {
      ...context,
      upstreamExpiresAt: new Date(record.expiresAt).toISOString(),
    });
    return;
  }
  try {
    await upstream.deleteWriteToken(record.upstreamId);
    log.warn('token record not stored; upstream token deleted again', context);
  } catch (error) {
    log.error(
      withIntent
        ? 'token record not stored and upstream token not deleted yet: the sweep will delete it'
        : 'token record not stored and upstream token could not be deleted: delete it by hand',
      { ...context, deleteError: errorName(error) },
    );
  }
}
