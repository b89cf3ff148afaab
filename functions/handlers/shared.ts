/**
 * What every handler shares. Handlers are thin: read the event, call the core, shape the reply; Lambda
 * entry points (functions/lambda/) and the local server build them from the factories next to this file.
 * One file per route, so a Lambda bundles only what its route needs.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { BrokerDeps } from '../core/deps';
import { Unauthorized } from '../core/errors';
import { bearerSecret, json, noBody, origin, route, type ProxyHandler } from '../http/reply';

/** Deps are resolved per request so a Lambda builds them once, at init, and tests can swap them. */
export type DepsSource = () => BrokerDeps;

/** The `{tokenId}` path parameter; a request without one cannot name a token. */
export function tokenIdOf(event: APIGatewayProxyEvent): string {
  const tokenId = event.pathParameters?.tokenId;
  if (!tokenId) throw new Unauthorized();
  return tokenId;
}

/**
 * A route on one token with its client secret and no body (heartbeat, self-revoke): 200 with what `call`
 * answers, given the token id, the Bearer secret and the caller's address.
 */
export function clientSecretRoute(
  deps: DepsSource,
  call: (deps: BrokerDeps, tokenId: string, secret: string, sourceIp: string) => Promise<unknown>,
): ProxyHandler {
  return route(
    () => deps().log,
    async (event) => {
      noBody(event);
      const secret = bearerSecret(event);
      const broker = deps();
      return json(
        200,
        await call(broker, tokenIdOf(event), secret, origin(event, broker.settings.trustedProxies).sourceIp),
      );
    },
  );
}
