/**
 * The API Gateway resource tree as plain data, built from the same route table the local server uses
 * (functions/http/routes.ts), so the deployed API and `npm start` cannot drift apart. No Pulumi here:
 * infra/api.ts turns this into resources, and the tests read it directly.
 */
import { createHash } from 'node:crypto';
import { ROUTES, type RouteSpec } from '../functions/http/routes';

/** One API Gateway resource (a path segment), created once however many routes share it. */
export interface ResourceNode {
  /** Full path, e.g. `/v1/tokens/{tokenId}`. */
  path: string;
  /** Path of the parent resource; `/` is the API's root resource. */
  parentPath: string;
  pathPart: string;
  /** Stable, unique suffix for the Pulumi resource name. */
  slug: string;
}

/** One route's method on its resource. */
export interface MethodNode {
  route: RouteSpec;
  resourcePath: string;
  httpMethod: string;
  /** `AWS_IAM` (SigV4) for admin routes, `NONE` for client routes (the handler checks the bearer secret). */
  authorization: 'NONE' | 'AWS_IAM';
  /** `/POST/v1/tokens/*\/heartbeat`: appended to `<executionArn>/<stage>` in the Lambda permission. */
  sourceArnPath: string;
  slug: string;
}

export interface RouteTree {
  /** Parents before children, so each resource can point at an already declared parent. */
  resources: ResourceNode[];
  methods: MethodNode[];
}

// API Gateway path parts: letters, digits and `-._~`, or one `{name}` variable (greedy `{x+}` unused).
const LITERAL = /^[A-Za-z0-9._~-]+$/;
const VARIABLE = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * Builds the resource tree and methods of a route table, refusing what API Gateway would refuse at deploy
 * time (two different `{variables}` under one parent, duplicate routes) so `pulumi preview` fails early.
 *
 * @example
 * const { resources, methods } = buildRouteTree(); // from ROUTES
 */
export function buildRouteTree(routes: readonly RouteSpec[] = ROUTES): RouteTree {
  const resources = new Map<string, ResourceNode>();
  const variableUnder = new Map<string, string>();
  const methods: MethodNode[] = [];
  const seen = new Set<string>();

  for (const route of routes) {
    const parts = splitPath(route);
    const httpMethod = route.method.toUpperCase();
    if (!METHODS.has(httpMethod))
      throw new Error(`route ${route.name}: unsupported method "${route.method}"`);

    let parentPath = '/';
    for (const pathPart of parts) {
      const path = `${parentPath === '/' ? '' : parentPath}/${pathPart}`;
      if (VARIABLE.test(pathPart)) {
        const other = variableUnder.get(parentPath);
        if (other && other !== pathPart) {
          throw new Error(
            `route ${route.name}: ${pathPart} and ${other} under ${parentPath}: API Gateway allows one path variable per level`,
          );
        }
        variableUnder.set(parentPath, pathPart);
      }
      if (!resources.has(path)) resources.set(path, { path, parentPath, pathPart, slug: slugOf(path) });
      parentPath = path;
    }

    const key = `${httpMethod} ${parentPath}`;
    if (seen.has(key)) throw new Error(`route ${route.name}: ${key} is declared twice`);
    seen.add(key);
    methods.push({
      route,
      resourcePath: parentPath,
      httpMethod,
      authorization: route.auth === 'iam' ? 'AWS_IAM' : 'NONE',
      sourceArnPath: `/${httpMethod}${parentPath.replace(/\{[^}]+\}/g, '*')}`,
      slug: `${httpMethod.toLowerCase()}-${slugOf(parentPath)}`,
    });
  }
  return { resources: [...resources.values()], methods };
}

/** The arguments of a route's `aws.apigateway.Method`, besides the API and resource ids. */
export function methodArgs(node: MethodNode) {
  return { httpMethod: node.httpMethod, authorization: node.authorization };
}

/**
 * The arguments of a route's `aws.apigateway.Integration`, besides the API and resource ids: infra/api.ts
 * passes exactly these to the resource and into the deployment's hash, so no argument can change without
 * a redeployment.
 * @example integrationArgs(node, alias.invokeArn) // { type: 'AWS_PROXY', integrationHttpMethod: 'POST', uri }
 */
export function integrationArgs<U>(node: MethodNode, uri: U) {
  return {
    httpMethod: node.httpMethod,
    type: 'AWS_PROXY' as const,
    // Lambda is always invoked with POST, whatever the client's method.
    integrationHttpMethod: 'POST' as const,
    uri,
  };
}

/**
 * A hash of everything that needs a new deployment when it changes: the tree, every argument of each
 * method and integration, the gateway responses. Used as the Deployment's trigger.
 */
export function deploymentHash(definition: unknown): string {
  // Keys sorted: the same arguments in another order are the same deployment.
  const canonical = JSON.stringify(definition, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
  return createHash('sha256').update(canonical).digest('hex');
}

function splitPath(route: RouteSpec): string[] {
  const parts = route.path.split('/').slice(1);
  if (!route.path.startsWith('/') || parts.length === 0 || parts.some((part) => part === '')) {
    throw new Error(
      `route ${route.name}: path "${route.path}" must be /segment[/segment...] with no empty segment`,
    );
  }
  for (const part of parts) {
    if (!LITERAL.test(part) && !VARIABLE.test(part)) {
      throw new Error(`route ${route.name}: path segment "${part}" is neither a literal nor a {variable}`);
    }
  }
  return parts;
}

/** `/v1/tokens/{tokenId}` → `v1-tokens-{tokenId}`: braces keep `/{a}` and `/a` apart. */
function slugOf(path: string): string {
  return path.slice(1).replace(/\//g, '-');
}
