import { selfRevoke } from '../core/selfRevoke';
import type { ProxyHandler } from '../http/reply';
import { clientSecretRoute, type DepsSource } from './shared';

/** `POST /v1/tokens/{tokenId}/revoke`: 200 `{status: "revoked"}`, the caller's own chain revoked (self-revoke). */
export function revokeHandler(deps: DepsSource): ProxyHandler {
  return clientSecretRoute(deps, selfRevoke);
}
