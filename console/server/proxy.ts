/**
 * `/api/<path>` → the broker's `/v1/admin/<path>`, signed by the admin CLI's client (SigV4 with the
 * operator's credentials, which never reach the browser). The page gets the broker's JSON as it is, and
 * its errors as `{"error":{"code","message"}}` worded by the broker; the console's own refusals use the
 * same shape.
 */
import type { IncomingMessage } from 'node:http';
import type { AdminClient } from '../../cli/src/api/client';
import { ApiError, CliError } from '../../cli/src/errors';

/** A request body above this is refused unread; the admin API's own bound is the same 64 KiB. */
export const MAX_PROXY_BODY_BYTES = 64 * 1024;
/** The second factor, passed through as the CLI sends it. */
export const OTP_HEADER = 'x-broker-otp';

const METHODS = new Set(['GET', 'POST', 'PUT']);
/** An admin path segment: ids and route names, nothing that could climb out of `/v1/admin/`. */
const SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;

export interface ProxyReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Something about the request itself is wrong: answered without reaching the broker. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Forwards one API request and resolves with what to answer the page; never rejects.
 * @example await forward(client, request, '/api/tokens?status=paused', body)
 */
export async function forward(
  client: AdminClient,
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  log: (line: string) => void,
): Promise<ProxyReply> {
  try {
    const method = request.method ?? 'GET';
    if (!METHODS.has(method))
      throw new BadRequest(405, 'method_not_allowed', `${method} is not an admin API method.`);
    const path = adminPath(url.pathname);
    const otp = request.headers[OTP_HEADER];
    const result = await client.request<unknown>(method as 'GET' | 'POST' | 'PUT', path, {
      query: singleValues(url.searchParams),
      body: method === 'GET' ? undefined : jsonBody(request, body),
      otp: typeof otp === 'string' && otp !== '' ? otp : undefined,
    });
    return { status: 200, body: result };
  } catch (error) {
    return errorReply(error, log);
  }
}

function adminPath(pathname: string): string {
  const segments = pathname.replace(/^\/api\//, '').split('/');
  if (!segments.every((segment) => SEGMENT.test(segment))) {
    throw new BadRequest(404, 'not_found', `No admin API route at ${pathname}.`);
  }
  return segments.join('/');
}

function singleValues(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key in query) throw new BadRequest(400, 'invalid_query', `The query gives ${key} more than once.`);
    query[key] = value;
  }
  return query;
}

function jsonBody(request: IncomingMessage, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new BadRequest(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequest(400, 'invalid_json', 'The body is not valid JSON.');
  }
}

function errorReply(error: unknown, log: (line: string) => void): ProxyReply {
  if (error instanceof BadRequest) {
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof ApiError) {
    // The CLI's client appends "[status code]" for the terminal; the page shows the code on its own.
    const message = error.message.replace(` [${error.status} ${error.code}]`, '');
    return { status: error.status, body: { error: { code: error.code, message } } };
  }
  if (error instanceof CliError) {
    // The broker could not be reached, or there are no credentials: the CLI's message says what to do and
    // carries no secret.
    return { status: 502, body: { error: { code: 'broker_unreachable', message: error.message } } };
  }
  log(`console: forwarding failed (${error instanceof Error ? error.name : typeof error})`);
  return {
    status: 500,
    body: { error: { code: 'console_failed', message: 'The console could not forward this request.' } },
  };
}
