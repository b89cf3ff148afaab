import { mintToken } from '../core/mint';
import { parseIdempotencyKey, parseMintRequest } from '../core/validation';
import { header, json, jsonBody, origin, route, type ProxyHandler } from '../http/reply';
import type { DepsSource } from './shared';

/** `POST /v1/tokens`: 201 with a new token, or the stored reply of an earlier request with the same Idempotency-Key. */
export function mintHandler(deps: DepsSource): ProxyHandler {
  return route(
    () => deps().log,
    async (event) => {
      const request = parseMintRequest(jsonBody(event));
      const idempotencyKey = parseIdempotencyKey(header(event, 'idempotency-key'));
      const { reply, replayed } = await mintToken(
        deps(),
        request,
        origin(event, deps().settings.trustedProxies),
        idempotencyKey,
      );
      return json(201, reply, replayed ? { 'idempotent-replayed': 'true' } : {});
    },
  );
}
