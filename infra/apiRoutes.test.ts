import { ROUTES, type RouteSpec } from '../functions/http/routes';
import { buildRouteTree, deploymentHash } from './apiRoutes';

const ADMIN: RouteSpec = {
  name: 'refresh',
  method: 'POST',
  path: '/v1/admin/tokens/{tokenId}/revoke',
  auth: 'iam',
};

/** The client routes: what the tests of the tree's shape build on, beside an admin route of their own. */
const CLIENT_ROUTES = ROUTES.filter((route) => route.auth === 'none');

describe('Function: buildRouteTree', () => {
  it('builds one method per route of ROUTES, on the resource of its path', () => {
    const { methods } = buildRouteTree();
    expect(methods.map((method) => [method.route.name, method.httpMethod, method.resourcePath])).toEqual(
      ROUTES.map((route) => [route.name, route.method, route.path]),
    );
  });

  it('creates shared path prefixes once, parents before children', () => {
    const { resources } = buildRouteTree(CLIENT_ROUTES);
    const paths = resources.map((resource) => resource.path);
    expect(paths).toEqual([
      '/v1',
      '/v1/tokens',
      '/v1/tokens/{tokenId}',
      '/v1/tokens/{tokenId}/heartbeat',
      '/v1/tokens/{tokenId}/refresh',
      '/v1/traces',
      '/v1/logs',
      '/v1/metrics',
    ]);
    for (const resource of resources) {
      expect(
        resource.parentPath === '/' || paths.indexOf(resource.parentPath) < paths.indexOf(resource.path),
      ).toBe(true);
    }
  });

  it('puts every route of the admin API behind AWS_IAM, and no client route', () => {
    const { methods } = buildRouteTree();
    const admin = methods.filter((method) => method.resourcePath.startsWith('/v1/admin'));
    expect(admin.length).toBeGreaterThanOrEqual(16);
    expect(new Set(admin.map((method) => method.authorization))).toEqual(new Set(['AWS_IAM']));
    const client = methods.filter((method) => !method.resourcePath.startsWith('/v1/admin'));
    expect(new Set(client.map((method) => method.authorization))).toEqual(new Set(['NONE']));
  });

  it('gives admin routes AWS_IAM authorization and every other route NONE', () => {
    const { methods } = buildRouteTree([...CLIENT_ROUTES, ADMIN]);
    const byPath = Object.fromEntries(methods.map((method) => [method.resourcePath, method.authorization]));
    expect(byPath).toEqual({
      '/v1/tokens': 'NONE',
      '/v1/tokens/{tokenId}/heartbeat': 'NONE',
      '/v1/tokens/{tokenId}/refresh': 'NONE',
      '/v1/traces': 'NONE',
      '/v1/logs': 'NONE',
      '/v1/metrics': 'NONE',
      '/v1/admin/tokens/{tokenId}/revoke': 'AWS_IAM',
    });
  });

  it('scopes each Lambda permission to the method and path, with * for path variables', () => {
    const { methods } = buildRouteTree([...CLIENT_ROUTES, ADMIN]);
    expect(methods.map((method) => method.sourceArnPath)).toEqual([
      '/POST/v1/tokens',
      '/POST/v1/tokens/*/heartbeat',
      '/POST/v1/tokens/*/refresh',
      '/POST/v1/traces',
      '/POST/v1/logs',
      '/POST/v1/metrics',
      '/POST/v1/admin/tokens/*/revoke',
    ]);
  });

  it('gives every resource and method a unique name', () => {
    const { resources, methods } = buildRouteTree([...CLIENT_ROUTES, ADMIN]);
    const slugs = [...resources.map((resource) => resource.slug), ...methods.map((method) => method.slug)];
    expect(new Set(slugs).size).toBe(slugs.length);
  });

  it.each([
    ['a route declared twice', [ROUTES[0]!, ROUTES[0]!], /declared twice/],
    [
      'two different path variables under one parent',
      [ROUTES[1]!, { ...ROUTES[2]!, path: '/v1/tokens/{id}/refresh' }],
      /one path variable per level/,
    ],
    ['an empty segment', [{ ...ROUTES[0]!, path: '/v1//tokens' }], /empty segment/],
    ['a trailing slash', [{ ...ROUTES[0]!, path: '/v1/tokens/' }], /empty segment/],
    ['the root path', [{ ...ROUTES[0]!, path: '/' }], /empty segment/],
    ['a greedy variable', [{ ...ROUTES[0]!, path: '/v1/{proxy+}' }], /neither a literal nor a \{variable\}/],
  ])('refuses %s', (_case, routes, message) => {
    expect(() => buildRouteTree(routes as RouteSpec[])).toThrow(message);
  });
});

describe('Function: deploymentHash', () => {
  it('changes when a route changes its authorization, so the API is redeployed', () => {
    const open = buildRouteTree([ADMIN].map((route) => ({ ...route, auth: 'none' as const })));
    const signed = buildRouteTree([ADMIN]);
    expect(deploymentHash(open)).not.toBe(deploymentHash(signed));
    expect(deploymentHash(signed)).toBe(deploymentHash(buildRouteTree([ADMIN])));
  });
});
