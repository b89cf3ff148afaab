import type { ProxyHandler } from '../http/reply';
import type { RouteName } from '../http/routes';
import { adminHandler } from './admin';
import { heartbeatHandler } from './heartbeat';
import { mintHandler } from './mint';
import { refreshHandler } from './refresh';
import { relayHandler } from './relay';
import type { DepsSource } from './shared';

export type { DepsSource } from './shared';

/** Every route's handler factory, by route name (functions/http/routes.ts). */
export const HANDLER_FACTORIES: Record<RouteName, (deps: DepsSource) => ProxyHandler> = {
  mint: mintHandler,
  heartbeat: heartbeatHandler,
  refresh: refreshHandler,
  relay: relayHandler,
  admin: adminHandler,
};
