/**
 * The admin console's local web server: on 127.0.0.1 at a free port, it serves the built page (with a
 * random token of this start in it) and forwards the page's `/api/*` calls to the broker's admin API,
 * signed with the operator's credentials (proxy.ts). guard.ts keeps every other page and site out.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminClient } from '../../cli/src/api/client';
import { loadAssets, type Assets } from './assets';
import { allowedHosts, checkApiCaller, checkHost, sameText, type Refusal } from './guard';
import { forward, MAX_PROXY_BODY_BYTES, type ProxyReply } from './proxy';

export interface ConsoleServerOptions {
  client: AdminClient;
  /** The built page; loadAssets() (console/dist) when not given. */
  assets?: Assets;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Where the server's own lines go (never a secret); stderr when not given. */
  log?: (line: string) => void;
}

export interface ConsoleServer {
  /**
   * `http://127.0.0.1:<port>/?key=<token>`, the URL to open: the page is served only with this start's key,
   * so another user of this machine who finds the port gets nothing from it.
   */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The page may load only what this server serves, and nobody may frame it. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  // The page holds this start's token.
  'cache-control': 'no-store',
};

/**
 * Starts the server; resolves once it listens.
 * @example const server = await startConsoleServer({ client }); console.log(server.url);
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const assets = options.assets ?? loadAssets();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const token = randomBytes(32).toString('base64url');
  let hosts = new Set<string>();

  const server = createServer((request, response) => {
    void handle(request, response).catch(() => response.destroy());
  });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const refusedHost = checkHost(request.headers, hosts);
    if (refusedHost) return sendJson(response, refusal(refusedHost));
    const url = new URL(request.url ?? '/', 'http://console');
    if (url.pathname.startsWith('/api/')) {
      const refusedCaller = checkApiCaller(request.method ?? 'GET', request.headers, token);
      if (refusedCaller) return sendJson(response, refusal(refusedCaller));
      const body = await readBody(request);
      if (body === undefined) {
        response.setHeader('connection', 'close');
        return sendJson(response, tooLarge());
      }
      return sendJson(response, await forward(options.client, request, url, body, log));
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return sendJson(response, {
        status: 405,
        body: { error: { code: 'method_not_allowed', message: 'Only the API takes writes.' } },
      });
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const key = url.searchParams.get('key');
      if (key === null || !sameText(key, token)) {
        return sendJson(response, {
          status: 403,
          body: {
            error: {
              code: 'console_key_invalid',
              message: 'Open the URL the console printed (with its key).',
            },
          },
        });
      }
      const page = assets.page(token);
      response.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' });
      return response.end(page);
    }
    const file = assets.file(url.pathname);
    if (!file) {
      return sendJson(response, {
        status: 404,
        body: { error: { code: 'not_found', message: `Nothing at ${url.pathname}.` } },
      });
    }
    // Built file names carry a content hash, and the page is never cached: keeping files is safe.
    response.writeHead(200, {
      'content-type': file.type,
      'x-content-type-options': 'nosniff',
      'cache-control': 'max-age=31536000, immutable',
    });
    response.end(request.method === 'HEAD' ? undefined : file.body);
  };

  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(port);
  return {
    url: `http://127.0.0.1:${port}/?key=${token}`,
    port,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function refusal({ status, code, message }: Refusal): ProxyReply {
  return { status, body: { error: { code, message } } };
}

function tooLarge(): ProxyReply {
  return refusal({
    status: 413,
    code: 'payload_too_large',
    message: `The body is over ${MAX_PROXY_BODY_BYTES / 1024} KiB.`,
  });
}

function sendJson(response: ServerResponse, reply: ProxyReply): void {
  const body = Buffer.from(JSON.stringify(reply.body));
  response.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  response.end(body);
}

/** The body, or undefined when it is over the bound (the rest is not read). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > MAX_PROXY_BODY_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PROXY_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
