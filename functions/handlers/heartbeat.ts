import { heartbeat } from '../core/heartbeat';
import { bearerSecret, json, noBody, origin, route, type ProxyHandler } from '../http/reply';
import { tokenIdOf, type DepsSource } from './shared';

/** `POST /v1/tokens/{tokenId}/heartbeat`: 200 with what the client should do next. */
export function heartbeatHandler(deps: DepsSource): ProxyHandler {
  return route(
    () => deps().log,
    async (event) => {
      noBody(event);
      const secret = bearerSecret(event);
      return json(
        200,
        await heartbeat(
          deps(),
          tokenIdOf(event),
          secret,
          origin(event, deps().settings.trustedProxies).sourceIp,
        ),
      );
    },
  );
}
