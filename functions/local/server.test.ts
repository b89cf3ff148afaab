/**
 * The local server's own behaviour, on real sockets at 127.0.0.1: timeouts, the connection cap, and dev
 * ingest (served only when the dev upstream is configured, with the token checked before the body).
 */
import { connect } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureLog } from '../../test/support/log';
import { keepBusy } from '../../test/support/busy';
import { DevUpstream, MAX_OTLP_BYTES } from '../adapters/upstream/dev';
import { createLocalServer, type LocalServerOptions } from './server';

interface Exchange {
  /** Everything the server sent before it closed the connection. */
  text: string;
  status: number;
  body: unknown;
  /** From connecting to the server's close. */
  ms: number;
}

const servers: Server[] = [];

async function startServer(options: Partial<LocalServerOptions> = {}): Promise<number> {
  const server = createLocalServer({ log: captureLog().log, mode: 'dev', ...options });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((done) => server.close(done));
    }),
  );
});

function parse(text: string, ms: number): Exchange {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Left as text.
  }
  return { text, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body: parsed, ms };
}

/**
 * Writes `parts` to a raw connection `gapMs` apart (a slow client), and resolves once the server closes
 * it, or `settleMs` after the first reply byte when the server leaves it open.
 */
function exchange(port: number, parts: Array<string | Buffer>, gapMs = 0, settleMs = 300): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(text, Date.now() - started));
    };
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      timer ??= setTimeout(finish, settleMs);
    });
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? finish() : reject(error),
    );
    void (async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

const health = 'GET /health HTTP/1.1\r\nhost: local\r\n\r\n';

describe('createLocalServer', () => {
  describe('timeouts', () => {
    it('answers 408 (not 400) in JSON to a client that sends its headers too slowly', async () => {
      // Prepare
      const port = await startServer({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 2000 } });
      const trickle = [
        'GET /health HTTP/1.1\r\n',
        ...Array.from({ length: 30 }, (_, i) => `x-slow-${i}: 1\r\n`),
      ];
      // Act
      const reply = await exchange(port, trickle, 100);
      // Assess
      expect(reply.status).toBe(408);
      expect(reply.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
      expect(reply.ms).toBeGreaterThanOrEqual(250);
      expect(reply.ms).toBeLessThan(2000);
    });

    it('answers 408 in JSON to a client that sends its body too slowly', async () => {
      // Prepare
      const dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: 'http://127.0.0.1' });
      const { token } = await dev.createWriteToken({ expiresAt: new Date(Date.now() + 60_000) });
      const { log, lines } = captureLog();
      const port = await startServer({
        log,
        devIngest: dev,
        limits: { headersTimeoutMs: 300, requestTimeoutMs: 800 },
      });
      const head =
        `POST /v1/traces HTTP/1.1\r\nhost: local\r\nauthorization: ${token}\r\n` +
        'content-type: application/json\r\ncontent-length: 1000\r\n\r\n';
      // Act
      const reply = await exchange(port, [head, ...Array.from({ length: 40 }, () => 'x')], 100);
      // Assess
      expect(reply.status).toBe(408);
      expect(reply.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(reply.ms).toBeGreaterThanOrEqual(700);
      expect(reply.ms).toBeLessThan(3000);
      // The abandoned request is not mistaken for a server fault
      expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    });

    it('closes with a 408 a connection that never sends a request', async () => {
      const port = await startServer({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 2000 } });

      const reply = await exchange(port, []);

      expect(reply.status).toBe(408);
      expect(reply.ms).toBeLessThan(2000);
    });
  });

  describe('malformed requests', () => {
    it('answers 400 in JSON to a malformed request that follows a served one on the same connection', async () => {
      // Prepare
      const port = await startServer();
      // Act: a keep-alive request, then a request line Node's parser refuses
      const reply = await exchange(port, [health, 'GET /health HTTP/1.1\r\nno colon here\r\n\r\n'], 200);
      // Assess: both are answered; the connection is not just dropped
      expect(reply.text).toMatch(/^HTTP\/1\.1 200 [^]*HTTP\/1\.1 400 Bad Request[^]*"invalid_request"/);
    });
  });

  describe('connection cap', () => {
    it('serves up to maxConnections connections at once and drops the rest unread, under load', async () => {
      // Prepare: 20 clients at once, each holding its connection with an unfinished request
      const busy = await keepBusy(20_000, 2);
      try {
        const port = await startServer({ limits: { maxConnections: 8 } });
        const sockets = Array.from({ length: 20 }, () => connect(port, '127.0.0.1'));
        const outcomes = sockets.map(
          (socket) =>
            new Promise<string>((resolve) => {
              let text = '';
              socket.on('data', (chunk) => (text += chunk.toString('latin1')));
              socket.on('error', () => undefined);
              socket.on('close', () => resolve(text));
            }),
        );
        await Promise.all(sockets.map((socket) => new Promise((r) => socket.once('connect', r))));
        for (const socket of sockets) socket.write('GET /health HTTP/1.1\r\nhost: local\r\n');
        // Act: the held connections finish their requests
        await new Promise((r) => setTimeout(r, 500));
        for (const socket of sockets) if (!socket.destroyed) socket.end('connection: close\r\n\r\n');
        const replies = await Promise.all(outcomes);
        // Assess: exactly the cap was served; every other connection was closed without a reply
        expect(replies.filter((text) => text.startsWith('HTTP/1.1 200')).length).toBe(8);
        expect(replies.filter((text) => text === '').length).toBe(12);
        // ... and once they are gone, a new connection is served again
        expect((await exchange(port, [health])).status).toBe(200);
      } finally {
        await busy.stop();
      }
    });
  });

  describe('dev ingest', () => {
    let dev: DevUpstream;
    let token: string;
    beforeEach(async () => {
      dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: 'http://127.0.0.1' });
      ({ token } = await dev.createWriteToken({ expiresAt: new Date(Date.now() + 60_000) }));
    });

    it('is not served without the dev upstream (API-key mode): a JSON 404, old path included', async () => {
      const port = await startServer({ mode: 'api-key' });

      for (const path of ['/v1/traces', '/v1/logs', '/dev-logfire/v1/traces', '/v1/info']) {
        const method = path.endsWith('info') ? 'GET' : 'POST';
        const reply = await exchange(port, [
          `${method} ${path} HTTP/1.1\r\nhost: local\r\nauthorization: ${token}\r\ncontent-length: 2\r\n\r\n{}`,
        ]);
        expect(reply).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      }
    });

    it('checks the token before it reads the body: a huge export with a bad token gets 401 at once', async () => {
      // Prepare: a request timeout far away, so only an early answer can arrive in time
      const port = await startServer({ devIngest: dev, limits: { requestTimeoutMs: 30_000 } });
      const head =
        'POST /v1/traces HTTP/1.1\r\nhost: local\r\nauthorization: dev_wt_not-a-token\r\n' +
        `content-type: application/x-protobuf\r\ncontent-length: ${MAX_OTLP_BYTES - 1}\r\n\r\n`;
      // Act: the headers and 64 KiB of a 20 MiB body, then nothing more
      const reply = await exchange(port, [head, Buffer.alloc(64 * 1024)]);
      // Assess
      expect(reply).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      expect(reply.ms).toBeLessThan(2000);
    });

    it('refuses with 413 an export declared larger than the limit, unread, even with a valid token', async () => {
      const port = await startServer({ devIngest: dev });
      const head =
        `POST /v1/traces HTTP/1.1\r\nhost: local\r\nauthorization: ${token}\r\n` +
        `content-type: application/x-protobuf\r\ncontent-length: ${MAX_OTLP_BYTES + 1}\r\n\r\n`;

      const reply = await exchange(port, [head]);

      expect(reply).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
      expect(reply.text).toMatch(/connection: close/i);
    });

    it('on its own port, serves ingest and health but none of the broker routes', async () => {
      const port = await startServer({ devIngest: dev });

      const info = await exchange(port, [
        `GET /v1/info HTTP/1.1\r\nhost: local\r\nauthorization: ${token}\r\n\r\n`,
      ]);
      const mint = await exchange(port, [
        'POST /v1/tokens HTTP/1.1\r\nhost: local\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
      ]);

      expect(info).toMatchObject({ status: 200, body: { project_name: 'dev-upstream' } });
      expect(mint).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      expect((await exchange(port, [health])).status).toBe(200);
    });
  });
});
