/**
 * The public routes as data: the local server routes by this table, and the Pulumi stack builds the
 * API Gateway resources from it, so the two cannot drift apart.
 */
import { RELAY_MAX_BODY_BYTES } from '../core/relay';

export type RouteName = 'mint' | 'heartbeat' | 'refresh' | 'relay' | 'admin';

export interface RouteSpec {
  name: RouteName;
  method: 'GET' | 'POST' | 'PUT';
  /** API Gateway resource path, with `{param}` segments. */
  path: string;
  /** IAM-signed admin route (SigV4) or open to clients. */
  auth: 'none' | 'iam';
  /** Bodies are bytes (OTLP protobuf, gzip): handed over base64-encoded, as API Gateway does. */
  binary?: boolean;
  /** The body bound when it is not MAX_BODY_BYTES (functions/http/reply.ts). */
  maxBodyBytes?: number;
}

/** Where every admin route lives: the local server checks SigV4 on anything under it, route or not. */
export const ADMIN_PREFIX = '/v1/admin';

/** The admin API's methods and paths under ADMIN_PREFIX (docs/admin-api.md). */
const ADMIN_ROUTES: ReadonlyArray<[RouteSpec['method'], string]> = [
  ['GET', '/tokens'],
  ['GET', '/tokens/{tokenId}'],
  ['POST', '/tokens/{tokenId}/pause'],
  ['POST', '/tokens/{tokenId}/resume'],
  ['POST', '/tokens/{tokenId}/revoke'],
  ['POST', '/bulk'],
  ['GET', '/bulk/{jobId}'],
  ['POST', '/bulk/{jobId}/run'],
  ['GET', '/quotas'],
  ['PUT', '/quotas'],
  ['GET', '/allowlist'],
  ['PUT', '/allowlist'],
  ['GET', '/anomalies'],
  ['POST', '/anomalies/{actionId}/undo'],
  ['GET', '/audit'],
  ['GET', '/stats'],
];

export const ROUTES: readonly RouteSpec[] = [
  { name: 'mint', method: 'POST', path: '/v1/tokens', auth: 'none' },
  { name: 'heartbeat', method: 'POST', path: '/v1/tokens/{tokenId}/heartbeat', auth: 'none' },
  { name: 'refresh', method: 'POST', path: '/v1/tokens/{tokenId}/refresh', auth: 'none' },
  // The ingest relay (relay mode): OTLP/HTTP at the root of the broker's URL, as Logfire serves it.
  ...(['traces', 'logs', 'metrics'] as const).map((signal): RouteSpec => ({
    name: 'relay',
    method: 'POST',
    path: `/v1/${signal}`,
    auth: 'none',
    binary: true,
    maxBodyBytes: RELAY_MAX_BODY_BYTES,
  })),
  // The admin API (docs/admin-api.md): one function serves them all; AWS_IAM (SigV4) in front of each.
  ...ADMIN_ROUTES.map(([method, path]): RouteSpec => ({
    name: 'admin',
    method,
    path: `/v1/admin${path}`,
    auth: 'iam',
  })),
];

/** The routes a deployment serves: the relay's only in relay mode. */
export function routesFor(
  ingestMode: 'direct' | 'relay',
  routes: readonly RouteSpec[] = ROUTES,
): RouteSpec[] {
  return routes.filter((route) => ingestMode === 'relay' || route.name !== 'relay');
}

/** Matches a concrete path against a route path; returns the path parameters, or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      if (!have[i]) return undefined;
      try {
        params[segment.slice(1, -1)] = decodeURIComponent(have[i]!);
      } catch {
        return undefined;
      }
    } else if (segment !== have[i]) {
      return undefined;
    }
  }
  return params;
}
