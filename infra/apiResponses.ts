/**
 * What API Gateway itself answers and logs, as plain data: gateway responses in the broker's error shape
 * and the stage's JSON access-log format. No Pulumi here; infra/api.ts applies them.
 */
import type { ErrorCode } from '../functions/core/contract';

/** One API Gateway response type rewritten into `{"error":{"code","message"}}`. */
export interface GatewayResponseSpec {
  /** https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html */
  type: string;
  /** Status to answer with; omitted keeps API Gateway's own. */
  statusCode?: string;
  code: ErrorCode;
  /** A fixed message, or `undefined` to pass API Gateway's message through. */
  message?: string;
  /** Extra headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

/**
 * Every error the client library may see has the broker's shape, whoever produced it. The specific types
 * come first; DEFAULT_4XX / DEFAULT_5XX catch the rest. Statuses follow the HTTP contract (DESIGN §3).
 */
export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  // REST APIs answer an unknown path or method with 403 "Missing Authentication Token"; the contract
  // (and the local server) says 404. An admin request without a SigV4 signature lands here too.
  {
    type: 'MISSING_AUTHENTICATION_TOKEN',
    statusCode: '404',
    code: 'not_found',
    message: 'No such route (admin routes also need a SigV4 signature).',
  },
  { type: 'INVALID_SIGNATURE', statusCode: '401', code: 'unauthorized' },
  { type: 'EXPIRED_TOKEN', statusCode: '401', code: 'unauthorized' },
  { type: 'UNAUTHORIZED', statusCode: '401', code: 'unauthorized' },
  {
    type: 'ACCESS_DENIED',
    statusCode: '403',
    code: 'forbidden',
    message: 'This identity may not call this route.',
  },
  // WAF blocks that carry no custom response of their own (the managed rule groups).
  {
    type: 'WAF_FILTERED',
    statusCode: '403',
    code: 'forbidden',
    message: 'The request was refused by the firewall.',
  },
  // Stage throttling (rate/burst): the client library backs off on 429 + Retry-After.
  {
    type: 'THROTTLED',
    statusCode: '429',
    code: 'quota_exceeded',
    message: 'Too many requests; retry after the delay.',
    headers: { 'Retry-After': '1' },
  },
  {
    type: 'QUOTA_EXCEEDED',
    statusCode: '429',
    code: 'quota_exceeded',
    message: 'Too many requests; retry after the delay.',
    headers: { 'Retry-After': '60' },
  },
  // API Gateway's own 10 MB limit; bodies over 64 KiB are already refused by WAF and the handler.
  { type: 'REQUEST_TOO_LARGE', statusCode: '413', code: 'payload_too_large' },
  { type: 'UNSUPPORTED_MEDIA_TYPE', statusCode: '415', code: 'unsupported_media_type' },
  { type: 'BAD_REQUEST_BODY', statusCode: '400', code: 'invalid_request' },
  { type: 'BAD_REQUEST_PARAMETERS', statusCode: '400', code: 'invalid_request' },
  // Lambda throttled, crashed or ran past API Gateway's 29 s: transient, so 503 + Retry-After tells the
  // client library to come back later instead of treating it as a verdict on its token.
  {
    type: 'INTEGRATION_FAILURE',
    statusCode: '503',
    code: 'upstream_unavailable',
    message: 'The broker is briefly unavailable; retry after the delay.',
    headers: { 'Retry-After': '5' },
  },
  {
    type: 'INTEGRATION_TIMEOUT',
    statusCode: '503',
    code: 'upstream_unavailable',
    message: 'The broker is briefly unavailable; retry after the delay.',
    headers: { 'Retry-After': '5' },
  },
  { type: 'DEFAULT_4XX', code: 'forbidden' },
  { type: 'DEFAULT_5XX', code: 'internal_error', message: 'Something went wrong on our side.' },
];

/** The headers every gateway response carries, as on the broker's own replies (functions/http/reply.ts). */
export const GATEWAY_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The `application/json` template of a gateway response. These templates are not VTL, only simple
 * `$context` substitution; `$context.error.messageString` is API Gateway's message already JSON-quoted.
 */
export function gatewayResponseTemplate(spec: GatewayResponseSpec): string {
  if (spec.message !== undefined && /[$#\\]/.test(spec.message)) {
    throw new Error(`gateway response ${spec.type}: the message may not contain $, # or \\`);
  }
  const message = spec.message === undefined ? '$context.error.messageString' : JSON.stringify(spec.message);
  return `{"error":{"code":${JSON.stringify(spec.code)},"message":${message}}}`;
}

/** `responseParameters` of a gateway response: header values are single-quoted literals. */
export function gatewayResponseParameters(spec: GatewayResponseSpec): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...GATEWAY_RESPONSE_HEADERS, ...spec.headers })) {
    parameters[`gatewayresponse.header.${name}`] = `'${value}'`;
  }
  return parameters;
}

/**
 * One JSON object per request. Every value is quoted: API Gateway writes `-` for a missing value, which
 * would break unquoted JSON numbers. Request and response headers are never logged (Authorization
 * carries the client secret); the path holds a token id, which is not a credential.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  // The SigV4 caller of admin routes; `-` for client routes.
  caller: '$context.identity.userArn',
  method: '$context.httpMethod',
  path: '$context.path',
  resourcePath: '$context.resourcePath',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integration.latency',
  integrationStatus: '$context.integration.status',
  errorType: '$context.error.responseType',
  errorMessage: '$context.error.message',
  wafResponseCode: '$context.wafResponseCode',
  wafStatus: '$context.waf.status',
  wafError: '$context.waf.error',
  wafLatency: '$context.waf.latency',
};

/** The stage's access-log format: a single line of JSON. */
export function accessLogFormat(): string {
  return JSON.stringify(ACCESS_LOG_FIELDS);
}
