/**
 * Property tests of the public routes over real HTTP: the local server (functions/local/server.ts) in this
 * process, in front of the real handlers, the DynamoDB store on dynalite and the API-key upstream against
 * the fake Logfire. Whatever a client sends, the broker answers with a JSON reply below 500, and a request
 * it refuses changes nothing: no call to Logfire, no new item in the table.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IssuedToken } from '../functions/core/contract';
import { createLocalServer } from '../functions/local/server';
import { startTestBroker, type TestBroker } from './support/broker';
import { mintEvent } from './support/events';

const LIMIT = 64 * 1024;
const VALID_INSTALL = '3f0c9a62-6f7e-4f55-9d8e-1b1e0c1f2a3b';
const validBody = () => ({
  installId: VALID_INSTALL,
  app: { name: '@acme/cli', version: '2.1.0' },
  platform: 'linux-x64',
  metadata: { ci: 'github' },
});

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

let broker: TestBroker;
let port = 0;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  agent.destroy();
  await broker?.close();
});

/**
 * Runs `work` against a local server started inside the test itself. Node runs a request handler in the
 * async context of the code that started the server, and jest charges an unhandled rejection to the test
 * or hook of that context: a server started in `beforeAll` would fail every test of the file for one
 * request the server mishandles, this one fails only the test that sent it.
 */
async function served(work: () => Promise<void>): Promise<void> {
  const server = createLocalServer({ handlers: broker.handlers, log: broker.deps.log, mode: 'api-key' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  try {
    await work();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Sends the body in pieces without a content-length (Transfer-Encoding: chunked). */
  chunked?: boolean;
}

interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTP request as any client could send it (node:http validates only what HTTP itself forbids). */
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
    const page = await broker.db.doc.send(
      new ScanCommand({ TableName: broker.db.tableName, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/**
 * Sends the request and checks what every reply must satisfy: below 500; an error is JSON
 * `{"error":{"code","message"}}` whose code matches the status; a refused request (4xx) called Logfire
 * zero times and stored nothing.
 */
async function sendAndCheck(req: RawRequest, timeoutMs?: number): Promise<RawReply> {
  const upstreamBefore = broker.logfire.requests.length;
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
    expect(broker.logfire.requests.length).toBe(upstreamBefore);
    expect(await tableItemCount()).toBe(itemsBefore);
  }
  return reply;
}

// ---------------------------------------------------------------------------------------------------------
// Generators

/** Characters a client may put in a header value (node:http refuses the rest before sending). */
const headerValue = (maxLength = 300) =>
  fc
    .array(
      fc.oneof(fc.constant(9), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })),
      {
        maxLength,
      },
    )
    .map((codes) => String.fromCharCode(...codes));

const junkHeaders = fc.record(
  {
    'idempotency-key': fc.oneof(
      headerValue(),
      fc.stringMatching(/^[A-Za-z0-9._:-]{0,15}$/), // too short
      fc.stringMatching(/^[A-Za-z0-9._:-]{256,300}$/), // too long
      fc.constantFrom('', ' ', 'null', '../../etc/passwd', 'a'.repeat(16) + ' ', '%00'.repeat(8)),
    ),
    authorization: fc.oneof(
      headerValue(),
      headerValue(600).map((value) => `Bearer ${value}`),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        'bearer lfb_cs_x',
        `Bearer lfb_cs_${'A'.repeat(43)}`,
      ),
    ),
    'content-type': fc.oneof(
      headerValue(80),
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
      ),
    ),
    'user-agent': headerValue(2000),
    'x-forwarded-for': headerValue(60),
  },
  { requiredKeys: [] },
);

/** Random extra headers with unremarkable names. */
const extraHeaders = fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerValue(100), {
  maxKeys: 4,
});

const headers = fc
  .tuple(junkHeaders, extraHeaders)
  .map(([known, extra]) => ({ ...extra, ...known }) as Record<string, string>);

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

/** A value of the wrong kind for any field. */
const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    '',
    [],
    {},
    'a'.repeat(5000),
    '\u0000',
    'x\u0000y',
    '\n',
    '\u202e',
  ),
);

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** A valid body with one field replaced, removed, or joined by an extra one. */
const mutatedBody = fc.oneof(
  fc
    .tuple(fc.constantFrom('installId', 'app', 'platform', 'metadata'), wrongValue)
    .map(([field, value]) => json({ ...validBody(), [field]: value })),
  fc
    .tuple(fc.constantFrom('name', 'version'), wrongValue)
    .map(([field, value]) => json({ ...validBody(), app: { ...validBody().app, [field]: value } })),
  fc
    .tuple(fc.string({ maxLength: 70 }), wrongValue)
    .map(([key, value]) => json({ ...validBody(), metadata: { [key]: value } })),
  fc.constantFrom('installId', 'app', 'platform', 'metadata').map((field) => {
    const body: Record<string, unknown> = validBody();
    delete body[field];
    return json(body);
  }),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 30 }), wrongValue)
    .filter(([key]) => !['installId', 'app', 'platform', 'metadata'].includes(key))
    .map(([key, value]) => json({ ...validBody(), [key]: value })),
  fc.record({ entries: fc.integer({ min: 21, max: 60 }) }).map(({ entries }) =>
    json({
      ...validBody(),
      metadata: Object.fromEntries(Array.from({ length: entries }, (_, i) => [`k${i}`, 'v'])),
    }),
  ),
);

/** Keys that could pollute prototypes, at the top, inside `app`, or inside `metadata`. */
const pollutingBody = fc
  .tuple(
    fc.constantFrom(...FORBIDDEN),
    fc.constantFrom('top', 'app', 'metadata'),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([key, where, value]) => {
    const inner = `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`;
    const { installId, platform } = validBody();
    const text =
      where === 'top'
        ? `{${inner},"installId":"${installId}","app":{"name":"cli","version":"1"}}`
        : where === 'app'
          ? `{"installId":"${installId}","app":{"name":"cli","version":"1",${inner}}}`
          : `{"installId":"${installId}","app":{"name":"cli","version":"1"},"platform":"${platform}","metadata":{${inner}}}`;
    return Buffer.from(text, 'utf8');
  });

/** Arrays or objects nested thousands deep, within the size limit. */
const deepBody = fc
  .tuple(fc.integer({ min: 1, max: 30_000 }), fc.boolean(), fc.boolean())
  .map(([depth, arrays, wrap]) => {
    const inner = arrays
      ? '['.repeat(depth) + ']'.repeat(depth)
      : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const text = wrap
      ? `{"installId":"${VALID_INSTALL}","app":{"name":"cli","version":"1"},"metadata":${inner}}`
      : inner;
    return Buffer.from(text.slice(0, LIMIT), 'utf8');
  });

/** Strings longer than any field allows (256 is the longest), up to what the size limit allows. */
const hugeFieldBody = fc
  .tuple(
    fc.constantFrom('installId', 'platform', 'name', 'version', 'metadata'),
    fc.integer({ min: 257, max: 60_000 }),
  )
  .map(([field, size]) => {
    const big = 'a'.repeat(size);
    const body: Record<string, unknown> = validBody();
    if (field === 'name' || field === 'version') body.app = { ...validBody().app, [field]: big };
    else if (field === 'metadata') body.metadata = { key: big };
    else body[field] = big;
    return json(body);
  });

/** Shows a body as text in fast-check's counterexamples, rather than as a list of byte values. */
function labelled(bytes: Buffer): Buffer {
  const body = Buffer.from(bytes); // a copy: generators may hand out the same Buffer more than once
  const text = body.toString('utf8');
  const shown = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  return Object.defineProperty(body, fc.toStringMethod, {
    value: () => `body(${body.length} bytes: ${JSON.stringify(shown)})`,
  });
}

/** Any body at all, up to the size limit. */
const anyBody: fc.Arbitrary<Buffer> = fc
  .oneof(
    fc.jsonValue().map(json),
    fc.string({ unit: 'binary', maxLength: 500 }).map((text) => Buffer.from(text, 'utf8')),
    fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)), // NULs, invalid UTF-8
    fc.constant(Buffer.alloc(0)),
    mutatedBody,
    pollutingBody,
    deepBody,
    hugeFieldBody,
    fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 100 }))
      .map(([junk, at]) => {
        // Raw bytes (NUL, invalid UTF-8) spliced into an otherwise valid JSON text.
        const text = json(validBody());
        const cut = Math.min(at, text.length);
        return Buffer.concat([text.subarray(0, cut), Buffer.from(junk), text.subarray(cut)]);
      }),
  )
  .map(labelled);

/** Characters a client may send raw in a request-target; anything else is percent-encoded. */
const pathChar = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));

/** A path segment: printable junk, percent-encoded unicode or bytes, dot segments, very long ones. */
const segment = fc.oneof(
  fc.string({ unit: pathChar, maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => encodeURIComponent(text)),
  fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom(
    '',
    '.',
    '..',
    '%2e%2e',
    '%2F',
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    '%',
    '%zz',
    '%E0%A4%A',
    'tok_',
  ),
  fc.stringMatching(/^tok_[A-Za-z0-9_-]{22}$/),
  fc.integer({ min: 200, max: 4000 }).map((n) => 'x'.repeat(n)),
);

/** Paths on and around the public routes. */
const routePath = fc.oneof(
  segment.map((id) => `/v1/tokens/${id}/heartbeat`),
  segment.map((id) => `/v1/tokens/${id}/refresh`),
  fc.tuple(segment, segment).map(([a, b]) => `/v1/tokens/${a}/${b}`),
  segment.map((rest) => `/v1/tokens${rest}`),
  fc.constantFrom(
    '/v1/tokens',
    '/v1/tokens/',
    '/V1/TOKENS',
    '/v1/tokens?x=1',
    '/v1/tokens#frag',
    '/health',
    '/',
  ),
);

/** Any request-target a client can send: arbitrary printable ASCII, host-relative (`//x`) and absolute forms included. */
const anyPath = fc.oneof(
  routePath,
  fc.array(segment, { maxLength: 6 }).map((segments) => `/${segments.join('/')}`),
  fc.string({ unit: pathChar, minLength: 1, maxLength: 80 }).map((text) => `/${text}`),
  fc.string({ unit: pathChar, maxLength: 40 }).map((text) => `//${text}`),
  // Absolute form, as sent to a proxy; the authority is kept to what Node's HTTP parser accepts.
  fc
    .tuple(fc.stringMatching(/^[a-z0-9.:%-]{0,20}$/), routePath)
    .map(([authority, path]) => `http://${authority}${path}`),
);

const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE');

// ---------------------------------------------------------------------------------------------------------

describe('fuzzing the public routes over HTTP', () => {
  let live: IssuedToken;

  beforeAll(async () => {
    const reply = await broker.handlers.mint(
      mintEvent({ ...validBody(), installId: 'fuzz-live-token-owner' }),
    );
    expect(reply.statusCode).toBe(201);
    live = JSON.parse(reply.body) as IssuedToken;
  });

  it('answers any mint body and headers below 500, and a refused mint calls Logfire zero times and stores nothing', () =>
    served(async () => {
      await fc.assert(
        fc.asyncProperty(anyBody, headers, fc.boolean(), async (body, requestHeaders, chunked) => {
          const reply = await sendAndCheck({
            method: 'POST',
            path: '/v1/tokens',
            headers: requestHeaders,
            body,
            chunked,
          });
          // A mutation may leave a valid body; then it is a real mint.
          if (reply.status < 400) expect(reply.status).toBe(201);
        }),
        { numRuns: 300 },
      );
    }));

  it('answers any heartbeat or refresh below 500, never accepts a guessed secret, and leaves the real token alone', () =>
    served(async () => {
      const tokenId = fc.oneof(
        segment,
        fc.constant(live.tokenId),
        fc.constant(encodeURIComponent(live.tokenId)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('heartbeat', 'refresh'),
          tokenId,
          headers,
          fc.option(anyBody, { nil: undefined }),
          async (action, id, requestHeaders, body) => {
            const reply = await sendAndCheck({
              method: 'POST',
              path: `/v1/tokens/${id}/${action}`,
              headers: requestHeaders,
              body,
            });
            expect(reply.status).toBeGreaterThanOrEqual(400);
          },
        ),
        { numRuns: 250 },
      );
      // Assess: none of that disturbed the token whose id was used
      const after = await send({
        method: 'POST',
        path: `/v1/tokens/${live.tokenId}/heartbeat`,
        headers: { authorization: `Bearer ${live.clientSecret}` },
      });
      expect(after.status).toBe(200);
      expect(JSON.parse(after.text)).toMatchObject({ status: 'active' });
    }));

  it('answers any method on any request-target below 500 with a JSON error, and changes nothing', () =>
    served(async () => {
      await fc.assert(
        fc.asyncProperty(
          method,
          anyPath,
          headers,
          fc.option(anyBody, { nil: undefined }),
          async (verb, path, requestHeaders, body) => {
            const reply = await sendAndCheck(
              {
                method: verb,
                path,
                headers: requestHeaders,
                body: verb === 'GET' || verb === 'HEAD' ? undefined : body,
              },
              1000,
            );
            // Only a real mint or the health check may succeed.
            if (reply.status < 400) expect([200, 201]).toContain(reply.status);
          },
        ),
        // A request the server never answers costs its timeout: bound the shrinking of such a failure.
        { numRuns: 250, interruptAfterTimeLimit: 8_000 },
      );
    }));

  it('refuses any body over 64 KiB with 413 on every route, with or without a content-length', () =>
    served(async () => {
      const route = fc.constantFrom(
        '/v1/tokens',
        `/v1/tokens/${live.tokenId}/heartbeat`,
        `/v1/tokens/${live.tokenId}/refresh`,
      );
      const oversized = fc
        .tuple(fc.integer({ min: LIMIT + 1, max: 3 * LIMIT }), fc.constantFrom('json', 'spaces', 'bytes'))
        .map(([size, kind]) => {
          if (kind === 'bytes') return Buffer.alloc(size, 0xff);
          // Valid JSON, only its size is wrong.
          const start = JSON.stringify(validBody());
          if (kind === 'spaces') return Buffer.from(start + ' '.repeat(size - start.length));
          const padded = JSON.stringify({ ...validBody(), platform: 'p'.repeat(size) });
          return Buffer.from(padded);
        })
        .map(labelled);
      const withSecret = fc.boolean();
      await fc.assert(
        fc.asyncProperty(route, oversized, fc.boolean(), withSecret, async (path, body, chunked, secret) => {
          const reply = await sendAndCheck({
            method: 'POST',
            path,
            body,
            chunked,
            headers: {
              'content-type': 'application/json',
              ...(secret ? { authorization: `Bearer ${live.clientSecret}` } : {}),
            },
          });
          expect(reply.status).toBe(413);
        }),
        { numRuns: 60 },
      );
      // A refused refresh carrying the real secret did not spend it.
      const after = await send({
        method: 'POST',
        path: `/v1/tokens/${live.tokenId}/heartbeat`,
        headers: { authorization: `Bearer ${live.clientSecret}` },
      });
      expect(JSON.parse(after.text)).toMatchObject({ status: 'active' });
    }));

  it('mints for every valid body (so the fuzzing above is not only garbage)', () =>
    served(async () => {
      const identifier = (min: number, max: number, chars: string) =>
        fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
      const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      const printable = (min: number, max: number) =>
        fc
          .string({ unit: 'grapheme', minLength: min, maxLength: max })
          .filter((text) => text.length >= min && text.length <= max && !/[\p{Cc}\p{Cs}]/u.test(text));
      // The three prototype keys match the metadata key pattern but are refused on purpose (reply.ts).
      const metadataKey = identifier(1, 64, `${ALNUM}._-`).filter((key) => !FORBIDDEN.includes(key));
      const validMint = fc.record(
        {
          installId: identifier(8, 128, `${ALNUM}._:-`),
          app: fc.record({
            name: identifier(1, 100, `${ALNUM}@/._-`),
            version: identifier(1, 64, `${ALNUM}.+_-`),
          }),
          platform: printable(1, 64),
          metadata: fc.dictionary(metadataKey, printable(0, 256), { maxKeys: 20 }),
        },
        { requiredKeys: ['installId', 'app'] },
      );
      const idempotencyKey = fc.option(fc.uuid(), { nil: undefined });
      await fc.assert(
        fc.asyncProperty(validMint, idempotencyKey, async (body, key) => {
          const upstreamBefore = broker.logfire.requests.length;
          const reply = await sendAndCheck({
            method: 'POST',
            path: '/v1/tokens',
            headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
            body: json(body),
          });
          expect({ status: reply.status, body: reply.status === 201 ? 'a token' : reply.text }).toEqual({
            status: 201,
            body: 'a token',
          });
          expect(broker.logfire.requests.length).toBe(upstreamBefore + 1);
          const record = await broker.store.getToken((JSON.parse(reply.text) as IssuedToken).tokenId);
          expect(record).toMatchObject({
            installId: body.installId,
            appName: body.app.name,
            appVersion: body.app.version,
          });
        }),
        { numRuns: 150 },
      );
    }));
});

describe('refusing the examples of the issue', () => {
  const mintWith = (body: Buffer | string, extra: Partial<RawRequest> = {}) =>
    sendAndCheck({
      method: 'POST',
      path: '/v1/tokens',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      ...extra,
    });

  it.each([
    ['invalid JSON', '{"installId": "3f0c9a62-6f7e-4f55", "app": {', /not valid JSON/],
    ['a JSON array', '[1,2,3]', /expected a JSON object/],
    ['an empty body', '', /expected a JSON object/],
    ['a wrong type', JSON.stringify({ ...validBody(), installId: 42 }), /installId/],
    [
      'a wrong type inside app',
      JSON.stringify({ ...validBody(), app: { name: 'cli', version: 2 } }),
      /app\.version/,
    ],
    ['a missing field', JSON.stringify({ installId: VALID_INSTALL }), /app/],
    ['an unknown field', JSON.stringify({ ...validBody(), instalId: 'typo' }), /instalId/],
    ['an oversized field', JSON.stringify({ ...validBody(), installId: 'a'.repeat(129) }), /installId/],
    [
      'too many metadata entries',
      JSON.stringify({
        ...validBody(),
        metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])),
      }),
      /metadata/,
    ],
    ['an escaped NUL byte', JSON.stringify({ ...validBody(), platform: 'linux\u0000x64' }), /platform/],
    [
      'a newline that could forge a log line',
      JSON.stringify({ ...validBody(), platform: 'linux\n{"level":"ERROR"}' }),
      /platform/,
    ],
    [
      'a raw NUL byte',
      Buffer.concat([Buffer.from('{"installId":"'), Buffer.from([0]), Buffer.from('"}')]),
      /not valid JSON/,
    ],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"installId":"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('abcdefgh","app":{"name":"a","version":"1"}}'),
      ]),
      /installId/,
    ],
  ])('refuses %s with 400 naming the problem', (_what, body, message) =>
    served(async () => {
      // Act
      const reply = await mintWith(body);
      // Assess
      expect(reply.status).toBe(400);
      expect((JSON.parse(reply.text) as { error: { message: string } }).error.message).toMatch(message);
    }),
  );

  it.each(FORBIDDEN.flatMap((key) => ['top', 'app', 'metadata'].map((where) => [key, where] as const)))(
    'refuses the prototype-polluting key %s (in %s) without polluting anything',
    (key, where) =>
      served(async () => {
        // Prepare
        const inner = `"${key}":{"polluted":true}`;
        const text =
          where === 'top'
            ? `{${inner},"installId":"${VALID_INSTALL}","app":{"name":"cli","version":"1"}}`
            : where === 'app'
              ? `{"installId":"${VALID_INSTALL}","app":{"name":"cli","version":"1",${inner}}}`
              : `{"installId":"${VALID_INSTALL}","app":{"name":"cli","version":"1"},"metadata":{${inner}}}`;
        // Act
        const reply = await mintWith(text);
        // Assess
        expect(reply.status).toBe(400);
        expect(reply.text).toContain(key);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
  );

  it.each([
    ['a dot-dot segment', '/v1/tokens/../heartbeat'],
    ['an encoded dot-dot', '/v1/tokens/%2e%2e/heartbeat'],
    ['an encoded path traversal', '/v1/tokens/..%2F..%2Fetc%2Fpasswd/refresh'],
    ['an encoded NUL', '/v1/tokens/%00/heartbeat'],
    ['broken percent-encoding', '/v1/tokens/%E0%A4%A/heartbeat'],
    ['a lone percent sign', '/v1/tokens/%/refresh'],
    ['unicode', `/v1/tokens/${encodeURIComponent('tok_ÄÖÜ—🔥')}/heartbeat`],
    ['a very long id', `/v1/tokens/tok_${'A'.repeat(4000)}/refresh`],
    ['a well-formed unknown id', `/v1/tokens/tok_${'A'.repeat(22)}/heartbeat`],
  ])('answers %s in the token id with a JSON 4xx', (_what, path) =>
    served(async () => {
      // Act
      const reply = await sendAndCheck({
        method: 'POST',
        path,
        headers: { authorization: `Bearer lfb_cs_${'A'.repeat(43)}` },
      });
      // Assess
      expect([400, 401, 404]).toContain(reply.status);
    }),
  );

  it('refuses a body of 64 KiB + 1 byte with 413, but accepts a valid body of exactly 64 KiB', () =>
    served(async () => {
      // Prepare
      const text = JSON.stringify(validBody());
      const exactly = Buffer.from(text + ' '.repeat(LIMIT - text.length));
      const oneMore = Buffer.from(text + ' '.repeat(LIMIT + 1 - text.length));
      // Act
      const accepted = await mintWith(exactly);
      const refused = await mintWith(oneMore);
      const refusedChunked = await mintWith(oneMore, { chunked: true });
      // Assess
      expect(accepted.status).toBe(201);
      expect(refused.status).toBe(413);
      expect(refusedChunked.status).toBe(413);
      expect(JSON.parse(refusedChunked.text)).toEqual({
        error: { code: 'payload_too_large', message: expect.stringContaining(String(LIMIT)) },
      });
    }));

  it("answers a request that Node's HTTP parser refuses with a JSON error", () =>
    served(async () => {
      // Act: headers over Node's 16 KB limit, and a request-target the parser refuses
      const hugeHeader = await send({
        method: 'POST',
        path: '/v1/tokens/tok_AAAAAAAAAAAAAAAAAAAAAA/heartbeat',
        headers: { authorization: `Bearer ${'A'.repeat(20_000)}` },
      });
      const badTarget = await send({ method: 'GET', path: 'http://{/' });
      // Assess
      for (const reply of [hugeHeader, badTarget]) {
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
        expect({ contentType: reply.headers['content-type'], body: reply.text }).toEqual({
          contentType: expect.stringMatching(/^application\/json/),
          body: expect.stringMatching(/^\{"error":\{"code":"[a-z_]+","message":"/),
        });
      }
    }));

  it.each([
    ['GET', '//'],
    ['POST', '//'],
    ['GET', 'http://%zz/'],
  ])('answers %s %s with a JSON 4xx instead of never answering', (verb, path) =>
    served(async () => {
      // Act
      const reply = await send({ method: verb, path }, 1000).catch((error: unknown) => ({
        status: 0,
        headers: {},
        text: String(error),
      }));
      // Assess
      expect({ status: reply.status, text: reply.text }).toEqual({
        status: expect.any(Number),
        text: expect.stringMatching(/^\{"error":\{"code":"/),
      });
      expect([400, 404]).toContain(reply.status);
    }),
  );
});
