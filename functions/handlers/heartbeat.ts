import { heartbeat } from '../core/heartbeat';
import type { ProxyHandler } from '../http/reply';
import { clientSecretRoute, type DepsSource } from './shared';

/** `POST /v1/tokens/{tokenId}/heartbeat`: 200 with what the client should do next. */
export function heartbeatHandler(deps: DepsSource): ProxyHandler {
  return clientSecretRoute(deps, heartbeat);
}
