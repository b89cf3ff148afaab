/**
 * The local HTTP front: turns each request into the API Gateway REST (v1) proxy event the Lambdas
 * receive, and runs the same handlers; with the dev upstream it also serves Logfire-style ingest at its
 * root. Only this file knows it is not in AWS.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Forbidden, MethodNotAllowed, NotFound, PayloadTooLarge } from '../core/errors';
import type { Log } from '../core/ports';
import { errorReply, json, MAX_BODY_BYTES, type ProxyHandler } from '../http/reply';
import { ADMIN_PREFIX, matchPath, ROUTES, type RouteName } from '../http/routes';
import type { SigV4Verifier } from './sigv4';
import {
  MAX_OTLP_BYTES,
  type OtlpAnswer,
  type OtlpPost,
  type OtlpSignal,
  type ProjectInfo,
} from '../adapters/upstream/dev';

/** The dev upstream's side of ingest (functions/adapters/upstream/dev.ts); it throws BrokerErrors. */
export interface DevIngest {
  receiveOtlp(post: OtlpPost): Promise<OtlpAnswer>;
  projectInfo(authorization: string | undefined): ProjectInfo;
}

/** What keeps a slow or greedy client from holding the server. */
export interface ServerLimits {
  /** A request's headers must have arrived this long after it began (or after connecting); else 408. */
  headersTimeoutMs: number;
  /** The whole request, body included, must have arrived in this time; else 408. */
  requestTimeoutMs: number;
  /** Open connections; connections beyond are closed as soon as they are accepted. */
  maxConnections: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  // 20 MiB of OTLP at well under 1 MB/s still fits.
  requestTimeoutMs: 60_000,
  maxConnections: 256,
};

export interface LocalServerOptions {
  /** The broker's routes; without them this server only serves dev ingest (its own port). */
  handlers?: Record<RouteName, ProxyHandler>;
  log: Log;
  /** Dev ingest at this server's root: `POST /v1/{traces,logs,metrics}` and `GET /v1/info`. */
  devIngest?: DevIngest;
  /** Reported by GET /health. */
  mode: string;
  limits?: Partial<ServerLimits>;
  /**
   * Checks the SigV4 signature of every `/v1/admin/*` request, as API Gateway's AWS_IAM authorization does.
   * Without one, every admin request is refused (403).
   */
  adminSignatures?: SigV4Verifier;
}

/** `/dev-logfire` was the ingest base before clients that join paths at the root were served (kept for now). */
const INGEST = /^(?:\/dev-logfire)?\/v1\/(traces|logs|metrics|info)$/;

class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super('body too large');
  }
}

/** The client went away mid-request: there is nobody to answer. */
class RequestAborted extends Error {}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new BodyTooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge(limit));
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    request.on('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks));
    });
    // 'close' follows every request, read or not: an error (and its stack) only for one cut short.
    const aborted = () => ended || reject(new RequestAborted());
    request.on('error', aborted);
    request.on('close', aborted);
  });
}

function send(response: ServerResponse, result: APIGatewayProxyResult): void {
  if (response.destroyed) return;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
  // A refused body may still be arriving: close the connection rather than read it. (A body refused for
  // its token is drained by Node instead, so the client reliably reads the 401 before the connection ends.)
  if (result.statusCode === 413) headers.connection = 'close';
  // Binary replies (the relay's OTLP answers) come base64-encoded, as API Gateway expects them.
  const body = Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  response.writeHead(result.statusCode, headers);
  response.end(body);
}

/** The decoded query string, one value per name (the last, as API Gateway) and every value per name. */
function queryOf(target: string | undefined): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  try {
    for (const [name, value] of new URL(target ?? '/', 'http://local').searchParams) {
      single[name] = value;
      (multi[name] ??= []).push(value);
    }
  } catch {
    // requestPath already refused a target that is no URL.
  }
  return { single, multi };
}

function toEvent(
  request: IncomingMessage,
  path: string,
  resource: string,
  pathParameters: Record<string, string>,
  body: Buffer,
  binary = false,
  principal?: string,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(',') : value;
  }
  const sourceIp = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
  const query = queryOf(request.url);
  const hasQuery = Object.keys(query.single).length > 0;
  return {
    httpMethod: request.method ?? 'GET',
    path,
    resource,
    pathParameters,
    headers,
    multiValueHeaders: {},
    queryStringParameters: hasQuery ? query.single : null,
    multiValueQueryStringParameters: hasQuery ? query.multi : null,
    stageVariables: null,
    // Binary routes get their body base64-encoded, as API Gateway hands over binary media types.
    body: body.length ? body.toString(binary ? 'base64' : 'utf8') : null,
    isBase64Encoded: binary && body.length > 0,
    requestContext: {
      requestId: randomUUID(),
      // What API Gateway's AWS_IAM authorization puts there: the caller the signature proved.
      identity: { sourceIp, userAgent: headers['user-agent'] ?? null, userArn: principal ?? null },
      httpMethod: request.method ?? 'GET',
      path,
      resourcePath: resource,
      stage: 'local',
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/** The path of a request target; a target that is no URL path names no route. */
function requestPath(target: string | undefined): string {
  if (!target?.startsWith('/') || target.startsWith('//')) throw new NotFound();
  try {
    return new URL(target, 'http://local').pathname;
  } catch {
    throw new NotFound();
  }
}

/** The path as the client sent it, still percent-encoded: what its signature covers. */
function rawPath(target: string | undefined): string {
  const path = (target ?? '/').split('?')[0]!;
  return path || '/';
}

async function serveIngest(
  devIngest: DevIngest,
  route: string,
  request: IncomingMessage,
): Promise<APIGatewayProxyResult> {
  const authorization = request.headers.authorization;
  if (route === 'info') {
    if (request.method !== 'GET') throw new MethodNotAllowed();
    return json(200, devIngest.projectInfo(authorization));
  }
  if (request.method !== 'POST') throw new MethodNotAllowed();
  const answer = await devIngest.receiveOtlp({
    signal: route as OtlpSignal,
    authorization,
    contentType: request.headers['content-type'],
    contentEncoding: request.headers['content-encoding'],
    readBody: () => readBody(request, MAX_OTLP_BYTES),
  });
  return { statusCode: 200, headers: { 'content-type': answer.contentType }, body: answer.body };
}

/**
 * @example
 * const server = createLocalServer({ handlers, log, mode: 'dev', devIngest });
 * server.listen(8787, '127.0.0.1');
 */
export function createLocalServer(options: LocalServerOptions): Server {
  const { handlers, log, devIngest, mode, adminSignatures } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  /** The latest response on each connection, so an error reply never cuts into one being written. */
  const responses = new WeakMap<Socket, ServerResponse>();

  const route = async (request: IncomingMessage): Promise<APIGatewayProxyResult> => {
    const path = requestPath(request.url);
    if (path === '/health' && request.method === 'GET') return json(200, { status: 'ok', mode });
    const ingest = devIngest && INGEST.exec(path);
    if (ingest) return serveIngest(devIngest, ingest[1]!, request);
    if (!handlers) throw new NotFound();
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) return serveAdmin(request, path);
    const matches = ROUTES.map((spec) => ({ spec, params: matchPath(spec.path, path) })).filter(
      (m) => m.params,
    );
    if (!matches.length) throw new NotFound();
    const match = matches.find((m) => m.spec.method === request.method);
    if (!match) throw new MethodNotAllowed();
    const body = await readBody(request, match.spec.maxBodyBytes ?? MAX_BODY_BYTES);
    const event = toEvent(request, path, match.spec.path, match.params!, body, match.spec.binary);
    return handlers[match.spec.name](event);
  };

  /**
   * An admin request: the signature first, whether or not the route exists (as API Gateway), then the route.
   * An unsigned request is refused before its body is read.
   */
  const serveAdmin = async (request: IncomingMessage, path: string): Promise<APIGatewayProxyResult> => {
    const refuse = (problem: string) => {
      log.warn('admin request refused: no valid signature', { problem, method: request.method, path });
      return new Forbidden('The request is not signed with valid admin credentials (AWS Signature V4).');
    };
    if (!adminSignatures || !request.headers.authorization) throw refuse('unsigned');
    const body = await readBody(request, MAX_BODY_BYTES);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(',') : value;
    }
    const check = await adminSignatures.check({
      method: request.method ?? 'GET',
      path: rawPath(request.url),
      query: queryOf(request.url).multi,
      headers,
      body,
    });
    if (!check.ok) throw refuse(check.problem);
    const matches = ROUTES.map((spec) => ({ spec, params: matchPath(spec.path, path) })).filter(
      (m) => m.params,
    );
    if (!matches.length) throw new NotFound();
    const match = matches.find((m) => m.spec.method === request.method);
    if (!match) throw new MethodNotAllowed();
    const event = toEvent(request, path, match.spec.path, match.params!, body, false, check.principal);
    return handlers![match.spec.name](event);
  };

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node looks for requests past those timeouts (its default, 30 s, would triple a 10 s one).
      connectionsCheckingInterval: Math.min(1000, Math.max(50, limits.headersTimeoutMs / 5)),
    },
    (request, response) => {
      responses.set(request.socket, response);
      void route(request)
        .catch((error: unknown) => {
          if (error instanceof RequestAborted) return undefined;
          return errorReply(error instanceof BodyTooLarge ? new PayloadTooLarge(error.limit) : error, log);
        })
        .then((result) => result && send(response, result));
    },
  );
  // Node drops connections beyond this on accept, before any byte is read.
  server.maxConnections = limits.maxConnections;

  // Requests Node's parser refuses (oversized headers, malformed targets, too slow) get a JSON error too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A reply half written cannot be followed by another; a finished one (keep-alive) can.
    const current = responses.get(socket);
    if (!socket.writable || (current?.headersSent && !current.writableEnded)) return socket.destroy();
    const [status, code, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', 'payload_too_large', 'The request headers are too large.']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['408 Request Timeout', 'invalid_request', 'The request did not arrive in time.']
          : ['400 Bad Request', 'invalid_request', 'The request is not valid HTTP.'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
