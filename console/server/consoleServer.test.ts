/**
 * The console's local server over real HTTP on 127.0.0.1: who may load the page and drive the proxy, and
 * what reaches the broker. The broker here is a recording HTTP server (the browser suite,
 * console/test/console.browser.test.ts, runs against the real local broker); the client is the CLI's real
 * signing client.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminClient } from '../../cli/src/api/client';
import { send } from '../test/http';
import { loadAssets, TOKEN_PLACEHOLDER } from './assets';
import { startConsoleServer, type ConsoleServer } from './consoleServer';

const SECRET_ACCESS_KEY = 'console-test-secret-key-0123456789';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the console server', () => {
  const seen: Seen[] = [];
  let brokerReply: { status: number; body: unknown } = { status: 200, body: { ok: true } };
  let broker: Server;
  let server: ConsoleServer;
  let assetsDir: string;
  let logged: string[];

  beforeAll(async () => {
    broker = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          method: request.method!,
          url: request.url!,
          headers: request.headers,
          body: Buffer.concat(chunks).toString(),
        });
        response.writeHead(brokerReply.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(brokerReply.body));
      });
    });
    broker.listen(0, '127.0.0.1');
    await new Promise((done) => broker.once('listening', done));
    assetsDir = mkdtempSync(join(tmpdir(), 'console-assets-'));
    writeFileSync(
      join(assetsDir, 'index.html'),
      `<meta name="console-token" content="${TOKEN_PLACEHOLDER}">`,
    );
    writeFileSync(join(assetsDir, 'app.js'), 'console.log(1)');
    logged = [];
    server = await startConsoleServer({
      client: createAdminClient({
        endpoint: new URL(`http://127.0.0.1:${(broker.address() as AddressInfo).port}`),
        region: 'us-east-1',
        credentials: async () => ({ accessKeyId: 'AKIDCONSOLETEST', secretAccessKey: SECRET_ACCESS_KEY }),
      }),
      assets: loadAssets(assetsDir),
      log: (line) => logged.push(line),
    });
  });

  afterAll(async () => {
    await server.close();
    await new Promise((done) => broker.close(done));
    rmSync(assetsDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen.length = 0;
    brokerReply = { status: 200, body: { ok: true } };
  });

  const key = () => new URL(server.url).searchParams.get('key')!;
  const pageHeaders = () => ({
    origin: `http://127.0.0.1:${server.port}`,
    'sec-fetch-site': 'same-origin',
    'x-console-token': key(),
  });

  it('serves the page, with its token, only at the URL it printed', async () => {
    const page = await send(server.port, { path: `/?key=${key()}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`content="${key()}"`);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['cache-control']).toBe('no-store');

    for (const path of ['/', '/?key=wrong', '/index.html']) {
      const refused = await send(server.port, { path });
      expect(refused.status).toBe(403);
      expect(refused.text).not.toContain(key());
    }
  });

  it('serves built files and nothing else', async () => {
    expect((await send(server.port, { path: '/app.js' })).text).toBe('console.log(1)');
    expect((await send(server.port, { path: '/index.html.bak' })).status).toBe(404);
    expect((await send(server.port, { path: '/../../etc/passwd' })).status).toBe(404);
  });

  it('refuses a Host that is not its own, as a DNS-rebinding page sends', async () => {
    const host = `rebind.example:${server.port}`;
    const page = await send(server.port, { path: `/?key=${key()}`, headers: { host } });
    const api = await send(server.port, {
      path: '/api/stats',
      headers: { ...pageHeaders(), host, origin: `http://${host}` },
    });
    expect([page.status, api.status]).toEqual([403, 403]);
    expect(api.json()).toEqual({ error: { code: 'host_refused', message: expect.any(String) } });
    expect(page.text).not.toContain(key());
    expect(seen).toEqual([]);
  });

  it('refuses API calls from another origin, even with the right token', async () => {
    const replies = await Promise.all([
      send(server.port, {
        method: 'POST',
        path: '/api/tokens/tok_1/revoke',
        headers: { ...pageHeaders(), origin: 'http://evil.example' },
      }),
      // A cross-site GET carries no Origin; its Sec-Fetch-Site gives it away.
      send(server.port, {
        path: '/api/stats',
        headers: { 'sec-fetch-site': 'cross-site', 'x-console-token': key() },
      }),
      // Neither header: not a browser page of this server (curl, another program).
      send(server.port, { path: '/api/stats', headers: { 'x-console-token': key() } }),
      send(server.port, {
        method: 'POST',
        path: '/api/tokens/tok_1/revoke',
        headers: { ...pageHeaders(), origin: 'null' },
      }),
    ]);
    for (const reply of replies) {
      expect(reply.status).toBe(403);
      expect(reply.json()).toMatchObject({ error: { code: 'origin_refused' } });
    }
    expect(seen).toEqual([]);
  });

  it('refuses API calls without this start’s token', async () => {
    for (const token of [undefined, 'wrong', `${key()}x`]) {
      const headers: Record<string, string> = { ...pageHeaders() };
      if (token === undefined) delete headers['x-console-token'];
      else headers['x-console-token'] = token;
      const reply = await send(server.port, { path: '/api/stats', headers });
      expect(reply.status).toBe(403);
      expect(reply.json()).toMatchObject({ error: { code: 'console_token_invalid' } });
    }
    expect(seen).toEqual([]);
  });

  it('forwards a page call to /v1/admin signed with SigV4, with its query, body and one-time code', async () => {
    brokerReply = { status: 201, body: { job: { jobId: 'job_1', done: false } } };
    const reply = await send(server.port, {
      method: 'POST',
      path: '/api/bulk?note=a%20b',
      headers: { ...pageHeaders(), 'content-type': 'application/json', 'x-broker-otp': '123456' },
      body: JSON.stringify({ action: 'revoke', filter: { app: 'hello' }, reason: 'leak' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ job: { jobId: 'job_1', done: false } });
    expect(seen).toHaveLength(1);
    const [forwarded] = seen;
    expect(forwarded!.method).toBe('POST');
    expect(forwarded!.url).toBe('/v1/admin/bulk?note=a%20b');
    expect(forwarded!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDCONSOLETEST\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[^,]*x-broker-otp[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(forwarded!.headers['x-broker-otp']).toBe('123456');
    expect(JSON.parse(forwarded!.body)).toEqual({
      action: 'revoke',
      filter: { app: 'hello' },
      reason: 'leak',
    });
    // The page's token and origin are the console's business, not the broker's.
    expect(forwarded!.headers['x-console-token']).toBeUndefined();
  });

  it('answers with the broker’s error as the broker worded it', async () => {
    brokerReply = {
      status: 401,
      body: { error: { code: 'otp_invalid', message: 'The code is wrong, or was used already.' } },
    };
    const reply = await send(server.port, {
      method: 'PUT',
      path: '/api/quotas',
      headers: { ...pageHeaders(), 'content-type': 'application/json', 'x-broker-otp': '000000' },
      body: '{"mintsPerInstallPerDay":5}',
    });
    expect(reply.status).toBe(401);
    expect(reply.json()).toEqual(brokerReply.body);
  });

  it('refuses bad requests itself, before anything reaches the broker', async () => {
    const cases: Array<[Parameters<typeof send>[1], number, string]> = [
      [{ path: '/api/tokens/..' }, 404, 'not_found'],
      [{ path: '/api/%2e%2e/health' }, 404, 'not_found'],
      [{ path: '/api/tokens?status=a&status=b' }, 400, 'invalid_query'],
      [{ method: 'DELETE', path: '/api/tokens/tok_1' }, 405, 'method_not_allowed'],
      [{ method: 'POST', path: '/api/bulk', body: '{"action":' }, 400, 'invalid_json'],
      [
        { method: 'POST', path: '/api/bulk', body: 'x', headers: { 'content-type': 'text/plain' } },
        415,
        'unsupported_media_type',
      ],
      [{ method: 'POST', path: '/api/bulk', body: `"${'x'.repeat(70 * 1024)}"` }, 413, 'payload_too_large'],
    ];
    for (const [request, status, code] of cases) {
      const reply = await send(server.port, {
        ...request,
        headers: { ...pageHeaders(), 'content-type': 'application/json', ...request.headers },
      });
      expect([request.path, reply.status, reply.json()]).toEqual([
        request.path,
        status,
        { error: { code, message: expect.any(String) } },
      ]);
    }
    expect(seen).toEqual([]);
  });

  it('says the broker cannot be reached, without any credential in the reply or its log', async () => {
    const closed = await startConsoleServer({
      client: createAdminClient({
        endpoint: new URL('http://127.0.0.1:9'),
        region: 'us-east-1',
        credentials: async () => ({ accessKeyId: 'AKIDCONSOLETEST', secretAccessKey: SECRET_ACCESS_KEY }),
      }),
      assets: loadAssets(assetsDir),
      log: (line) => logged.push(line),
    });
    try {
      const token = new URL(closed.url).searchParams.get('key')!;
      const reply = await send(closed.port, {
        path: '/api/stats',
        headers: { origin: `http://127.0.0.1:${closed.port}`, 'x-console-token': token },
      });
      expect(reply.status).toBe(502);
      expect(reply.json()).toMatchObject({ error: { code: 'broker_unreachable' } });
      expect(reply.text + logged.join('\n')).not.toContain(SECRET_ACCESS_KEY);
    } finally {
      await closed.close();
    }
  });
});
