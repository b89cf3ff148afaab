/**
 * The public routes as data: the local server routes by this table, and the Pulumi stack builds the
 * API Gateway resources from it, so the two cannot drift apart.
 */
export type RouteName = 'mint' | 'heartbeat' | 'refresh';

export interface RouteSpec {
  name: RouteName;
  method: 'POST';
  /** API Gateway resource path, with `{param}` segments. */
  path: string;
  /** IAM-signed admin route (SigV4) or open to clients. */
  auth: 'none' | 'iam';
}

export const ROUTES: readonly RouteSpec[] = [
  { name: 'mint', method: 'POST', path: '/v1/tokens', auth: 'none' },
  { name: 'heartbeat', method: 'POST', path: '/v1/tokens/{tokenId}/heartbeat', auth: 'none' },
  { name: 'refresh', method: 'POST', path: '/v1/tokens/{tokenId}/refresh', auth: 'none' },
];

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
