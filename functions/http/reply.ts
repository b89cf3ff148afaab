/**
 * API Gateway REST (v1 proxy) events in, JSON replies out: the one place that shapes HTTP for every handler.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ErrorReply } from '../core/contract';
import {
  BrokerError,
  errorName,
  InvalidRequest,
  PayloadTooLarge,
  retryAfterOf,
  Unauthorized,
  UnsupportedMediaType,
} from '../core/errors';
import type { RequestOrigin } from '../core/deps';
import type { Log } from '../core/ports';
import { recordableText } from '../core/text';
import { isIP } from 'node:net';
import { addressMatcher } from '../core/network';

/** Bodies above this are refused before they are parsed (DESIGN §3). */
export const MAX_BODY_BYTES = 64 * 1024;

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // Replies carry credentials: no cache anywhere may keep them.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode: status, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** Maps an error to its reply. Errors the broker did not raise on purpose become a bare 500 and a log line. */
export function errorReply(error: unknown, log: Log): APIGatewayProxyResult {
  if (error instanceof BrokerError) {
    const body: ErrorReply = { error: { code: error.code, message: error.message } };
    const retryAfter = retryAfterOf(error);
    return json(error.status, body, retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
  }
  log.error('unhandled error', { cause: errorName(error) });
  const body: ErrorReply = {
    error: { code: 'internal_error', message: 'Something went wrong on our side.' },
  };
  return json(500, body);
}

/** A header's value, whatever its case. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** The secret of an `Authorization: Bearer <secret>` header; 401 when there is none. */
export function bearerSecret(event: APIGatewayProxyEvent): string {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header(event, 'authorization') ?? '');
  if (!match) throw new Unauthorized();
  return match[1]!;
}

export function origin(event: APIGatewayProxyEvent, trustedProxies: readonly string[] = []): RequestOrigin {
  const userAgent = header(event, 'user-agent');
  const { domainName, stage } = event.requestContext ?? {};
  return {
    sourceIp: clientAddress(event.requestContext?.identity?.sourceIp ?? 'unknown', event, trustedProxies),
    // Where API Gateway received the request: relay mode's ingest.baseUrl unless BROKER_PUBLIC_URL is set.
    ...(domainName ? { baseUrl: baseUrlOf(domainName, stage) } : {}),
    // Kept for the audit trail, never refused: bounded so a huge header cannot bloat a record, and cleaned
    // of characters that could hide or forge what an operator reads (C1 escapes arrive as Latin-1 bytes).
    userAgent: userAgent ? recordableText(userAgent, 256) : undefined,
  };
}

/**
 * The client's address: the peer's (the socket locally, API Gateway's `sourceIp` on AWS), unless the peer is
 * a proxy the operator trusts (`BROKER_TRUSTED_PROXIES`); then the right-most `X-Forwarded-For` entry that is
 * not itself a trusted proxy. Without trusted proxies the header is ignored: any client can write it.
 */
function clientAddress(peer: string, event: APIGatewayProxyEvent, trustedProxies: readonly string[]): string {
  if (trustedProxies.length === 0) return peer;
  const trusted = addressMatcher(trustedProxies);
  if (!isIP(peer) || !trusted(peer)) return peer;
  const hops = (header(event, 'x-forwarded-for') ?? '').split(',').map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return peer; // a malformed chain tells nothing: keep the proxy's own address
    if (!trusted(hop)) return hop;
  }
  return peer;
}

/**
 * The broker's URL as a client reached it: API Gateway's own host carries the stage in the path; a custom
 * domain is taken to be mapped at its root (set BROKER_PUBLIC_URL for a base path mapping).
 * @example baseUrlOf('abc123.execute-api.eu-west-1.amazonaws.com', 'api') // 'https://abc123.execute-api.eu-west-1.amazonaws.com/api'
 * @example baseUrlOf('telemetry.example.com', 'api') // 'https://telemetry.example.com'
 */
export function baseUrlOf(domainName: string, stage: string | undefined): string {
  const ownHost = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/i.test(domainName);
  return `https://${domainName}${ownHost && stage ? `/${stage}` : ''}`;
}

/** Optional whitespace around `;` and `=` in a header (RFC 9110 OWS), and nothing wider. */
const trimOws = (text: string) => text.replace(/^[ \t]+|[ \t]+$/g, '');

/** `utf-8` and the `utf8` label browsers also read as UTF-8 (WHATWG Encoding). */
const UTF8_LABELS = new Set(['utf-8', 'utf8']);

/**
 * Whether a Content-Type is JSON in UTF-8: `application/json` in any case, with any parameters, where a
 * `charset` (quoted or not, any case) must name UTF-8. `application/*+json` is refused: the routes take one schema,
 * and no client of the broker sends a vendor type. Requiring this type is also what keeps a web page out:
 * a browser sends a cross-origin POST without asking first only as `text/plain`, form-urlencoded or
 * multipart, and the broker answers no CORS preflight.
 *
 * @example isJsonMediaType('Application/JSON; charset="UTF-8"') // true
 */
export function isJsonMediaType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [essence, ...parameters] = value.split(';');
  if (trimOws(essence!).toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const equals = parameter.indexOf('=');
    const name = trimOws(equals < 0 ? parameter : parameter.slice(0, equals)).toLowerCase();
    if (name !== 'charset') return true;
    const charset = equals < 0 ? '' : trimOws(parameter.slice(equals + 1)).replace(/^"(.*)"$/, '$1');
    return UTF8_LABELS.has(charset.toLowerCase());
  });
}

/** The request body as bytes, refused with 413 above `limit` (MAX_BODY_BYTES) before anything reads it. */
export function boundedBody(event: APIGatewayProxyEvent, limit = MAX_BODY_BYTES): Buffer {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > limit) throw new PayloadTooLarge(limit);
  return bytes;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The JSON body: checked for size (413), then for its Content-Type (415), before it is parsed. Keys that
 * could pollute prototypes are refused outright rather than silently dropped.
 */
export function jsonBody(event: APIGatewayProxyEvent): unknown {
  const bytes = boundedBody(event);
  if (!isJsonMediaType(header(event, 'content-type'))) throw new UnsupportedMediaType();
  if (bytes.length === 0) throw new InvalidRequest('body: expected a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'), (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new InvalidRequest(`body: the key "${key}" is not allowed`);
      return value;
    });
  } catch (error) {
    if (error instanceof InvalidRequest) throw error;
    throw new InvalidRequest('body: not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequest('body: expected a JSON object');
  }
  return parsed;
}

/**
 * Refuses any body on routes that take none (heartbeat, refresh), without reading it: 413 above the size
 * bound, else 400 for even one byte, `{}` and whitespace included. A client that sends a body expects it
 * to mean something; saying so beats ignoring it. The Content-Type of an empty request does not matter.
 */
export function noBody(event: APIGatewayProxyEvent): void {
  if (boundedBody(event).length > 0) {
    throw new InvalidRequest('body: this route takes no body; send the request without one');
  }
}

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** Runs a route's work and turns whatever it throws into the JSON error reply. */
export function route(log: () => Log, work: ProxyHandler): ProxyHandler {
  return async (event) => {
    try {
      return await work(event);
    } catch (error) {
      return errorReply(error, log());
    }
  };
}
