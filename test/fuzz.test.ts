/**
 * Property tests of the public routes over real HTTP: the local server (functions/local/server.ts) in this
 * process, in front of the real handlers, the DynamoDB store on dynalite and the API-key upstream against
 * the fake Logfire. Whatever a client sends, the broker answers with a JSON reply below 500, and a request
 * it refuses changes nothing: no call to Logfire, no new item in the table.
 */
import fc from 'fast-check';
import type { IssuedToken } from '../functions/core/contract';
import { mintEvent } from './support/events';
import {
  BODY_LIMIT as LIMIT,
  VALID_INSTALL,
  acceptedText,
  headerValue,
  json,
  labelled,
  useServedBroker,
  validBody,
  type RawRequest,
} from './support/httpFuzz';

const fuzz = useServedBroker();
const { served, send, sendAndCheck } = fuzz;

// ---------------------------------------------------------------------------------------------------------
// Generators

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
        'Application/JSON; charset="UTF-8"',
        'application/vnd.api+json',
        'text/plain; charset=utf-8',
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
  segment.map((id) => `/v1/tokens/${id}/revoke`),
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
    const reply = await fuzz.broker.handlers.mint(
      mintEvent({ ...validBody(), installId: 'fuzz-live-token-owner' }),
    );
    expect(reply.statusCode).toBe(201);
    live = JSON.parse(reply.body) as IssuedToken;
  });

  it('answers any mint body and headers below 500, and a refused mint calls Logfire zero times and stores nothing', () =>
    served(async () => {
      await fc.assert(
        fc.asyncProperty(
          anyBody,
          headers,
          fc.boolean(),
          fc.boolean(),
          async (body, junk, chunked, asJson) => {
            // Half the requests declare JSON, so the body is parsed and not only refused for its type.
            const requestHeaders = asJson ? { ...junk, 'content-type': 'application/json' } : junk;
            const reply = await sendAndCheck({
              method: 'POST',
              path: '/v1/tokens',
              headers: requestHeaders,
              body,
              chunked,
            });
            // A mutation may leave a valid body; then it is a real mint.
            if (reply.status < 400) expect(reply.status).toBe(201);
          },
        ),
        { numRuns: 300 },
      );
    }));

  it('answers any heartbeat, refresh or self-revoke below 500, never accepts a guessed secret, and leaves the real token alone', () =>
    served(async () => {
      const tokenId = fc.oneof(
        segment,
        fc.constant(live.tokenId),
        fc.constant(encodeURIComponent(live.tokenId)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('heartbeat', 'refresh', 'revoke'),
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
        `/v1/tokens/${live.tokenId}/revoke`,
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
      // A refused refresh or self-revoke carrying the real secret did not spend or revoke it.
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
      // The three prototype keys match the metadata key pattern but are refused on purpose (reply.ts).
      const metadataKey = identifier(1, 64, `${ALNUM}._-`).filter((key) => !FORBIDDEN.includes(key));
      const validMint = fc.record(
        {
          installId: identifier(8, 128, `${ALNUM}._:-`),
          app: fc.record({
            name: identifier(1, 100, `${ALNUM}@/._-`),
            version: identifier(1, 64, `${ALNUM}.+_-`),
          }),
          platform: acceptedText(1, 64),
          metadata: fc.dictionary(metadataKey, acceptedText(0, 256), { maxKeys: 20 }),
        },
        { requiredKeys: ['installId', 'app'] },
      );
      const idempotencyKey = fc.option(fc.uuid(), { nil: undefined });
      await fc.assert(
        fc.asyncProperty(validMint, idempotencyKey, async (body, key) => {
          const upstreamBefore = fuzz.broker.logfire.requests.length;
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
          expect(fuzz.broker.logfire.requests.length).toBe(upstreamBefore + 1);
          const record = await fuzz.broker.store.getToken((JSON.parse(reply.text) as IssuedToken).tokenId);
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
