/** API Gateway REST (v1) proxy events as the Lambdas receive them, for handler tests. */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export interface EventOptions {
  path: string;
  resource?: string;
  pathParameters?: Record<string, string>;
  body?: unknown;
  /** Sent as is when a string; JSON-encoded otherwise. */
  rawBody?: string | null;
  headers?: Record<string, string>;
  sourceIp?: string;
  method?: string;
}

export function apiEvent(options: EventOptions): APIGatewayProxyEvent {
  const body =
    options.rawBody !== undefined
      ? options.rawBody
      : options.body === undefined
        ? null
        : JSON.stringify(options.body);
  return {
    httpMethod: options.method ?? 'POST',
    path: options.path,
    resource: options.resource ?? options.path,
    pathParameters: options.pathParameters ?? null,
    headers: { 'content-type': 'application/json', 'user-agent': 'test-cli/1.0', ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'test',
      identity: { sourceIp: options.sourceIp ?? '203.0.113.7' },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export const mintEvent = (body: unknown, headers: Record<string, string> = {}, sourceIp?: string) =>
  apiEvent({ path: '/v1/tokens', body, headers, sourceIp });

export const heartbeatEvent = (tokenId: string, secret: string | undefined) =>
  apiEvent({
    path: `/v1/tokens/${tokenId}/heartbeat`,
    resource: '/v1/tokens/{tokenId}/heartbeat',
    pathParameters: { tokenId },
    headers: secret === undefined ? {} : { authorization: `Bearer ${secret}` },
  });

export const refreshEvent = (tokenId: string, secret: string | undefined, sourceIp?: string) =>
  apiEvent({
    path: `/v1/tokens/${tokenId}/refresh`,
    resource: '/v1/tokens/{tokenId}/refresh',
    pathParameters: { tokenId },
    headers: secret === undefined ? {} : { authorization: `Bearer ${secret}` },
    sourceIp,
  });

export interface AdminEventOptions {
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The caller API Gateway's AWS_IAM authorization proved. */
  userArn?: string;
}

/** An admin route's event as API Gateway hands it over after checking the SigV4 signature. */
export function adminEvent(
  method: string,
  resource: string,
  options: AdminEventOptions = {},
): APIGatewayProxyEvent {
  let path = resource;
  for (const [name, value] of Object.entries(options.pathParameters ?? {}))
    path = path.replace(`{${name}}`, value);
  const event = apiEvent({
    method,
    path,
    resource,
    pathParameters: options.pathParameters,
    body: options.body,
    headers: options.headers,
  });
  const query = options.query ?? {};
  if (Object.keys(query).length) {
    event.queryStringParameters = query;
    event.multiValueQueryStringParameters = Object.fromEntries(
      Object.entries(query).map(([k, v]) => [k, [v]]),
    );
  }
  (event.requestContext.identity as { userArn?: string | null }).userArn =
    options.userArn ?? 'arn:aws:iam::123456789012:user/ops';
  return event;
}
