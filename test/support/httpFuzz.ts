/**
 * The harness of the HTTP property tests (test/fuzz*.test.ts): a test broker (startTestBroker) behind the
 * local server (functions/local/server.ts), raw requests as any client could send them, and the check
 * every reply must pass: below 500, an error in the broker's JSON shape with the code of its status, and
 * a refused request that called Logfire zero times and stored nothing. Call `useServedBroker()` at the top
 * of the file; it registers beforeAll/afterAll.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalServer } from '../../functions/local/server';
import { startTestBroker, type TestBroker } from './broker';

export const BODY_LIMIT = 64 * 1024;
export const VALID_INSTALL = '3f0c9a62-6f7e-4f55-9d8e-1b1e0c1f2a3b';
export const validBody = () => ({
  installId: VALID_INSTALL,
  app: { name: '@acme/cli', version: '2.1.0' },
  platform: 'linux-x64',
  metadata: { ci: 'github' },
});
export const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** The error code each status must carry (functions/core/errors.ts). */
const CODE_OF_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'quota_exceeded',
};

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Sends the body in pieces without a content-length (Transfer-Encoding: chunked). */
  chunked?: boolean;
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface ServedBroker {
  readonly broker: TestBroker;
  /**
   * Runs `work` against a local server started inside the test itself. Node runs a request handler in the
   * async context of the code that started the server, and jest charges an unhandled rejection to the test
   * or hook of that context: a server started in `beforeAll` would fail every test of the file for one
   * request the server mishandles, this one fails only the test that sent it.
   */
  served(work: () => Promise<void>): Promise<void>;
  /** One HTTP request as any client could send it (node:http validates only what HTTP itself forbids). */
  send(req: RawRequest, timeoutMs?: number): Promise<RawReply>;
  /** Sends the request and checks what every reply must satisfy (see the top of this file). */
  sendAndCheck(req: RawRequest, timeoutMs?: number): Promise<RawReply>;
}

export function useServedBroker(): ServedBroker {
  let broker: TestBroker | undefined;
  let port = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    agent.destroy();
    await broker?.close();
  });

  async function served(work: () => Promise<void>): Promise<void> {
    const server = createLocalServer({ handlers: broker!.handlers, log: broker!.deps.log, mode: 'api-key' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    try {
      await work();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  function send(req: RawRequest, timeoutMs = 5000): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, reply?: RawReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(reply!);
      };
      const fail = (error: Error) => {
        outgoing.destroy();
        finish(error);
      };
      const timer = setTimeout(
        () => fail(new Error(`no reply within ${timeoutMs} ms to ${req.method} ${req.path.slice(0, 200)}`)),
        timeoutMs,
      );
      const outgoing = httpRequest(
        { host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers, agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            finish(undefined, {
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          response.on('error', (error) => finish(error));
        },
      );
      // A server that refuses a body may close the connection while it is still being sent: what matters
      // is the reply, which arrives first.
      outgoing.on('error', (error) => finish(error));
      const body = req.body ?? Buffer.alloc(0);
      if (req.chunked && body.length > 0) {
        const piece = Math.ceil(body.length / 4);
        for (let at = 0; at < body.length; at += piece) outgoing.write(body.subarray(at, at + piece));
        outgoing.end();
      } else {
        outgoing.end(body);
      }
    });
  }

  /** Items in the tokens table (token records and idempotency items), counted in the test only. */
  async function tableItemCount(): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await broker!.db.doc.send(
        new ScanCommand({ TableName: broker!.db.tableName, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async function sendAndCheck(req: RawRequest, timeoutMs?: number): Promise<RawReply> {
    const upstreamBefore = broker!.logfire.requests.length;
    const itemsBefore = await tableItemCount();
    const reply = await send(req, timeoutMs);
    expect(reply.status).toBeGreaterThanOrEqual(200);
    expect(reply.status).toBeLessThan(500);
    if (reply.status >= 400) {
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      if (req.method !== 'HEAD') {
        const body: unknown = JSON.parse(reply.text);
        expect(body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
        expect((body as { error: { code: string } }).error.code).toBe(CODE_OF_STATUS[reply.status]);
      }
      expect(broker!.logfire.requests.length).toBe(upstreamBefore);
      expect(await tableItemCount()).toBe(itemsBefore);
    }
    return reply;
  }

  return {
    get broker() {
      return broker!;
    },
    served,
    send,
    sendAndCheck,
  };
}

/**
 * The README's rule for text fields, stated again here independently of functions/core/text.ts: a code
 * point is refused when it is a control, format, line/paragraph separator, surrogate or private-use
 * character, or a noncharacter (U+FDD0–U+FDEF, and U+xFFFE/U+xFFFF of every plane).
 */
export function refusedByTheRule(codePoint: number): boolean {
  const noncharacter = (codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe;
  return noncharacter || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}]/u.test(String.fromCodePoint(codePoint));
}

/** Text of `min` to `max` code points that the rule accepts, from graphemes of every kind. */
export const acceptedText = (min: number, max: number) =>
  fc
    .string({ unit: 'grapheme', minLength: min, maxLength: max })
    .map((text) => [...text].filter((char) => !refusedByTheRule(char.codePointAt(0)!)).slice(0, max))
    .filter((chars) => chars.length >= min)
    .map((chars) => chars.join(''));

/** Characters a client may put in a header value (node:http refuses the rest before sending). */
export const headerValue = (maxLength = 300) =>
  fc
    .array(
      fc.oneof(fc.constant(9), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })),
      { maxLength },
    )
    .map((codes) => String.fromCharCode(...codes));

/** Shows a body as text in fast-check's counterexamples, rather than as a list of byte values. */
export function labelled(bytes: Buffer): Buffer {
  const body = Buffer.from(bytes); // a copy: generators may hand out the same Buffer more than once
  const text = body.toString('utf8');
  const shown = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  return Object.defineProperty(body, fc.toStringMethod, {
    value: () => `body(${body.length} bytes: ${JSON.stringify(shown)})`,
  });
}
