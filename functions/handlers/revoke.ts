import { selfRevoke } from '../core/selfRevoke';
import { bearerSecret, json, noBody, origin, route, type ProxyHandler } from '../http/reply';
import { tokenIdOf, type DepsSource } from './shared';

/** `POST /v1/tokens/{tokenId}/revoke`: 200 `{status: "revoked"}`, the caller's own chain revoked (self-revoke). */
export function revokeHandler(deps: DepsSource): ProxyHandler {
  return route(
    () => deps().log,
    async (event) => {
      noBody(event);
      const secret = bearerSecret(event);
      return json(
        200,
        await selfRevoke(
          deps(),
          tokenIdOf(event),
          secret,
          origin(event, deps().settings.trustedProxies).sourceIp,
        ),
      );
    },
  );
}
