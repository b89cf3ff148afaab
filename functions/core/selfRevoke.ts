/**
 * Self-revoke (issue #10, point 5): `POST /v1/tokens/{tokenId}/revoke` with the client secret revokes the
 * caller's own chain, so a logout really logs out. In direct mode the Logfire write tokens are deleted at
 * once (or queued for the sweep), as an admin revoke does; the audit entries name the actor `client`.
 */
import { revokeChain } from './chain';
import type { SelfRevokeReply } from './contract';
import { isTokenId, secretMatches } from './credentials';
import type { BrokerDeps } from './deps';
import { Unauthorized } from './errors';

export const SELF_REVOKE_REASON = 'revoked by its client (self-revoke)';

/**
 * Revokes the chain of `tokenId` if `clientSecret` is its secret; 401 as heartbeat for an unknown token or
 * a wrong secret. Any secret the token was given counts, a spent one too (a client that lost a refresh
 * reply still logs out), and a second call with it answers the same: revoking only ever withdraws a token.
 * The bound network is not checked: a revoke from elsewhere can only stop the token.
 *
 * @example await selfRevoke(deps, 'tok_…', clientSecret, sourceIp); // { status: 'revoked' }
 */
export async function selfRevoke(
  deps: BrokerDeps,
  tokenId: string,
  clientSecret: string,
  sourceIp?: string,
): Promise<SelfRevokeReply> {
  if (!isTokenId(tokenId)) throw new Unauthorized();
  const record = await deps.store.getToken(tokenId);
  if (!record || !secretMatches(clientSecret, record.secretHash)) throw new Unauthorized();
  await revokeChain(deps, record, SELF_REVOKE_REASON, sourceIp, 'client');
  return { status: 'revoked' };
}
