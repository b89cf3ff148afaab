/**
 * The local HTTP front: turns each request into the API Gateway REST (v1) proxy event the Lambdas
 * receive, and runs the same handlers. Only this file knows it is not in AWS.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MethodNotAllowed, NotFound, PayloadTooLarge } from '../core/errors';
import type { Log } from '../core/ports';
import { errorReply, json, MAX_BODY_BYTES, type ProxyHandler } from '../http/reply';
import { matchPath, ROUTES, type RouteName } from '../http/routes';
import type { OtlpAnswer, OtlpPost, OtlpSignal } from '../adapters/upstream/dev';

/** The dev upstream's side of OTLP ingest (functions/adapters/upstream/dev.ts). */
export interface OtlpReceiver {
  receiveOtlp(post: OtlpPost): OtlpAnswer | Promise<OtlpAnswer>;
}

export interface LocalServerOptions {
  handlers: Record<RouteName, ProxyHandler>;
  log: Log;
  /** The dev upstream's OTLP endpoint, served under /dev-logfire when set. */
  devIngest?: OtlpReceiver;
  /** Reported by GET /health. */
  mode: string;
}

/** OTLP batches may be far larger than API bodies; Logfire takes up to 100 MB, the dev upstream 20 MB. */
const MAX_OTLP_BYTES = 20 * 1024 * 1024;
const DEV_INGEST = /^\/dev-logfire\/v1\/(traces|logs|metrics)$/;

class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super('body too large');
  }
}

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
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
  // A refused body may still be arriving: close the connection rather than read it.
  if (result.statusCode === 413) headers.connection = 'close';
  response.writeHead(result.statusCode, headers);
  response.end(result.body);
}

function toEvent(
  request: IncomingMessage,
  path: string,
  resource: string,
  pathParameters: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(',') : value;
  }
  const sourceIp = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
  return {
    httpMethod: request.method ?? 'GET',
    path,
    resource,
    pathParameters,
    headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: body.length ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      requestId: randomUUID(),
      identity: { sourceIp, userAgent: headers['user-agent'] ?? null },
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

/** @example const server = createLocalServer({ handlers, log, mode: 'dev' }); server.listen(8787, '127.0.0.1'); */
export function createLocalServer(options: LocalServerOptions): Server {
  const { handlers, log, devIngest, mode } = options;
  const server = createServer((request, response) => {
    void (async () => {
      try {
        const path = requestPath(request.url);
        if (path === '/health' && request.method === 'GET')
          return send(response, json(200, { status: 'ok', mode }));
        const ingest = DEV_INGEST.exec(path);
        if (ingest && devIngest) {
          if (request.method !== 'POST') throw new MethodNotAllowed();
          const body = await readBody(request, MAX_OTLP_BYTES);
          const result = await devIngest.receiveOtlp({
            signal: ingest[1] as OtlpSignal,
            authorization: request.headers.authorization,
            contentType: request.headers['content-type'],
            body,
          });
          return send(response, json(result.status, result.body));
        }
        const matches = ROUTES.map((spec) => ({ spec, params: matchPath(spec.path, path) })).filter(
          (m) => m.params,
        );
        if (!matches.length) throw new NotFound();
        const match = matches.find((m) => m.spec.method === request.method);
        if (!match) throw new MethodNotAllowed();
        const body = await readBody(request, MAX_BODY_BYTES);
        const event = toEvent(request, path, match.spec.path, match.params!, body);
        send(response, await handlers[match.spec.name](event));
      } catch (error) {
        send(
          response,
          errorReply(error instanceof BodyTooLarge ? new PayloadTooLarge(error.limit) : error, log),
        );
      }
    })();
  });
  // Requests Node's parser refuses (oversized headers, malformed targets) get a JSON error too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: tooLarge
        ? { code: 'payload_too_large', message: 'The request headers are too large.' }
        : { code: 'invalid_request', message: 'The request is not valid HTTP.' },
    });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
