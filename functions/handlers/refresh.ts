import { refreshToken } from '../core/refresh';
import { bearerSecret, json, noBody, origin, route, type ProxyHandler } from '../http/reply';
import { tokenIdOf, type DepsSource } from './shared';

/** `POST /v1/tokens/{tokenId}/refresh`: 200 with a new token and client secret; the old secret is spent. */
export function refreshHandler(deps: DepsSource): ProxyHandler {
  return route(
    () => deps().log,
    async (event) => {
      noBody(event);
      const secret = bearerSecret(event);
      return json(
        200,
        await refreshToken(deps(), tokenIdOf(event), secret, origin(event, deps().settings.trustedProxies)),
      );
    },
  );
}
