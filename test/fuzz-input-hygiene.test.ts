/**
 * Property tests of the input-hygiene rules (issue #8, point 5) over real HTTP, with the harness of
 * test/fuzz.test.ts: mint takes only `Content-Type: application/json` (415 otherwise), text fields refuse
 * control, format, separator, private-use and noncharacter code points and count lengths in code points,
 * and heartbeat, refresh and self-revoke refuse any body. Every reply is below 500, and every refusal changes nothing.
 */
import fc from 'fast-check';
import type { IssuedToken } from '../functions/core/contract';
import { keepBusy } from './support/busy';
import { mintEvent } from './support/events';
import {
  headerValue,
  json,
  labelled,
  refusedByTheRule,
  useServedBroker,
  validBody,
} from './support/httpFuzz';

const fuzz = useServedBroker();
const { served, send, sendAndCheck } = fuzz;

/** `text` with each letter in upper or lower case, as fast-check picks. */
const anyCase = (text: string) =>
  fc
    .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
    .map((upper) => [...text].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

const ows = fc.constantFrom('', ' ', '\t', '  ');

/** Every spelling of JSON in UTF-8 the broker accepts: any case, optional whitespace and parameters. */
const acceptedType = fc
  .tuple(
    anyCase('application/json'),
    ows,
    fc.option(
      fc
        .tuple(anyCase('charset'), fc.constantFrom('utf-8', 'utf8', '"utf-8"'))
        .chain(([name, value]) => anyCase(value).map((spelled) => `${name}=${spelled}`)),
      { nil: undefined },
    ),
    fc.option(fc.constantFrom('version=1', 'foo="a;b"', ''), { nil: undefined }),
  )
  .map(([essence, space, charset, other]) =>
    [essence + space, ...[charset, other].filter((p) => p !== undefined)].join(`;${space}`),
  );

/** What a web page, a form, a vendor type or a mistake sends; `undefined` sends no Content-Type. */
const refusedType = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=----x',
    'application/jsonp',
    'application/json5',
    'application/vnd.api+json',
    'application/problem+json',
    'text/json',
    'json',
    '*/*',
    'application/*',
    'application/json, text/plain',
    'application/json text/plain',
  ),
  fc
    .constantFrom('latin1', 'iso-8859-1', 'utf-16', 'us-ascii', 'utf-8x', '')
    .map((charset) => `application/json; charset=${charset}`),
  headerValue(80).filter((value) => !/json/i.test(value)),
);

/** A code point the rule refuses, from each of its kinds, and then any at all. */
const refusedCodePoint = fc.oneof(
  fc.integer({ min: 0x00, max: 0x1f }), // C0 controls
  fc.integer({ min: 0x7f, max: 0x9f }), // DEL and C1 controls
  fc.integer({ min: 0x202a, max: 0x202e }), // bidi embeddings and overrides
  fc.integer({ min: 0x2066, max: 0x2069 }), // bidi isolates
  fc.constantFrom(0x00ad, 0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0xfeff, 0xe0001), // format
  fc.constantFrom(0x2028, 0x2029), // line and paragraph separators
  fc.integer({ min: 0xd800, max: 0xdfff }), // lone surrogates
  fc.integer({ min: 0xe000, max: 0xf8ff }), // private use
  fc.integer({ min: 0xf0000, max: 0x10fffd }), // supplementary private use (and two noncharacters)
  fc.integer({ min: 0xfdd0, max: 0xfdef }), // noncharacters
  fc.integer({ min: 0, max: 16 }).map((plane) => plane * 0x10000 + 0xfffe), // noncharacters
  fc.integer({ min: 0, max: 0x10ffff }).filter(refusedByTheRule),
);

const hex = (codePoint: number) => codePoint.toString(16).toUpperCase().padStart(4, '0');

/** A valid body with `text` inserted at `at` in one text field; the field the error message must name. */
function bodyWith(field: string, text: string, at: number): { body: unknown; named: string } {
  const insert = (value: string) =>
    value.slice(0, at % (value.length + 1)) + text + value.slice(at % (value.length + 1));
  const body = validBody();
  switch (field) {
    case 'installId':
      return { body: { ...body, installId: insert(body.installId) }, named: 'installId' };
    case 'app.name':
      return { body: { ...body, app: { ...body.app, name: insert(body.app.name) } }, named: 'app.name' };
    case 'app.version':
      return {
        body: { ...body, app: { ...body.app, version: insert(body.app.version) } },
        named: 'app.version',
      };
    case 'platform':
      return { body: { ...body, platform: insert(body.platform) }, named: 'platform' };
    case 'metadata value':
      return { body: { ...body, metadata: { ci: insert('github') } }, named: 'metadata.ci' };
    default:
      return { body: { ...body, metadata: { [insert('ci')]: 'github' } }, named: 'metadata' };
  }
}

const TEXT_FIELDS = ['installId', 'app.name', 'app.version', 'platform', 'metadata value', 'metadata key'];

const mint = (headers: Record<string, string>, body: Buffer) =>
  sendAndCheck({ method: 'POST', path: '/v1/tokens', headers, body });

describe('fuzzing the input-hygiene rules over HTTP', () => {
  let live: IssuedToken;

  beforeAll(async () => {
    const reply = await fuzz.broker.handlers.mint(
      mintEvent({ ...validBody(), installId: 'hygiene-live-token' }),
    );
    expect(reply.statusCode).toBe(201);
    live = JSON.parse(reply.body) as IssuedToken;
  });

  it('mints for every spelling of application/json in UTF-8', () =>
    served(async () => {
      await fc.assert(
        fc.asyncProperty(acceptedType, fc.uuid(), async (type, installId) => {
          const reply = await mint({ 'content-type': type }, json({ ...validBody(), installId }));
          expect(reply.status).toBe(201);
        }),
        { numRuns: 60 },
      );
    }));

  it('answers 415 to any other Content-Type, before it reads the body, and changes nothing', () =>
    served(async () => {
      const body = fc.oneof(
        fc.constant(json(validBody())),
        fc.constant(Buffer.from('installId=3f0c9a62-6f7e-4f55&app=cli')),
        fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.from(bytes)),
      );
      await fc.assert(
        fc.asyncProperty(refusedType, body.map(labelled), async (type, payload) => {
          const reply = await mint(type === undefined ? {} : { 'content-type': type }, payload);
          expect(reply.status).toBe(415);
        }),
        { numRuns: 200 },
      );
    }));

  it('refuses a refused code point anywhere in any text field with 400 naming the field and the character', () =>
    served(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TEXT_FIELDS),
          refusedCodePoint,
          fc.nat(),
          async (field, codePoint, at) => {
            const { body, named } = bodyWith(field, String.fromCodePoint(codePoint), at);
            const reply = await mint({ 'content-type': 'application/json' }, json(body));
            expect(reply.status).toBe(400);
            const { message } = (JSON.parse(reply.text) as { error: { message: string } }).error;
            expect(message).toMatch(new RegExp(`^${named.replace('.', '\\.')}: `));
            expect(message).toContain(`must not contain U+${hex(codePoint)} (`);
          },
        ),
        { numRuns: 300 },
      );
    }));

  it('counts every length in code points: 64 emoji fit the platform, 65 do not', () =>
    served(async () => {
      // Pictographs and CJK Extension B: assigned, visible, and two UTF-16 units each.
      const astral = fc.oneof(
        fc.integer({ min: 0x1f300, max: 0x1f5ff }),
        fc.integer({ min: 0x20000, max: 0x2a6df }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(astral, { minLength: 1, maxLength: 80 }),
          fc.array(astral, { minLength: 200, maxLength: 300 }),
          fc.uuid(),
          async (platform, value, installId) => {
            const body = {
              ...validBody(),
              installId,
              platform: String.fromCodePoint(...platform),
              metadata: { note: String.fromCodePoint(...value) },
            };
            const reply = await mint({ 'content-type': 'application/json' }, json(body));
            const fits = platform.length <= 64 && value.length <= 256;
            expect({ status: reply.status, fits }).toEqual({ status: fits ? 201 : 400, fits });
          },
        ),
        { numRuns: 60 },
      );
    }));

  it('refuses any body on heartbeat, refresh and self-revoke with 400, even with the right secret, and the secret stays good', () =>
    served(async () => {
      const anyBody = fc.oneof(
        fc
          .constantFrom('{}', ' ', '\n', '\r\n', 'null', '""', '[]', '0', '{"status":"active"}')
          .map((text) => Buffer.from(text)),
        fc.jsonValue().map(json),
        fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('heartbeat', 'refresh', 'revoke'),
          anyBody.map(labelled),
          fc.option(
            fc.oneof(
              acceptedType,
              refusedType.filter((t) => t !== undefined),
            ),
            { nil: undefined },
          ),
          fc.boolean(),
          async (action, body, type, chunked) => {
            const reply = await sendAndCheck({
              method: 'POST',
              path: `/v1/tokens/${live.tokenId}/${action}`,
              headers: {
                authorization: `Bearer ${live.clientSecret}`,
                ...(type ? { 'content-type': type } : {}),
              },
              body,
              chunked,
            });
            expect(reply.status).toBe(400);
            expect(reply.text).toContain('this route takes no body');
          },
        ),
        { numRuns: 200 },
      );
      // Assess: the secret was never spent nor its token revoked, so the real, bodiless refresh works
      const refreshed = await send({
        method: 'POST',
        path: `/v1/tokens/${live.tokenId}/refresh`,
        headers: { authorization: `Bearer ${live.clientSecret}`, 'content-type': 'text/plain' },
      });
      expect(refreshed.status).toBe(200);
      live = JSON.parse(refreshed.text) as IssuedToken;
    }));

  it('lets concurrent refreshes with a body, racing one without, on a busy machine, spend nothing and revoke nothing', () =>
    served(async () => {
      // Prepare: a token of its own, and a machine kept busy for the race
      const minted = await fuzz.broker.handlers.mint(
        mintEvent({ ...validBody(), installId: 'hygiene-race-owner' }),
      );
      const token = JSON.parse(minted.body) as IssuedToken;
      const busy = await keepBusy(30_000, 2);
      try {
        const path = `/v1/tokens/${token.tokenId}/refresh`;
        const headers = { authorization: `Bearer ${token.clientSecret}` };
        // Act: 40 refreshes with a body, sent in pieces so they interleave in the server, and one without
        const withBody = Array.from({ length: 40 }, (_, i) =>
          send(
            {
              method: 'POST',
              path,
              headers,
              body: Buffer.from(i % 2 ? '{}' : ' '.repeat(200)),
              chunked: true,
            },
            20_000,
          ),
        );
        const [refused, real] = await Promise.all([
          Promise.all(withBody),
          send({ method: 'POST', path, headers }, 20_000),
        ]);
        // Assess: only the bodiless one counted; reuse detection did not revoke the chain
        expect(refused.map((reply) => reply.status)).toEqual(Array(40).fill(400));
        expect(real.status).toBe(200);
        const next = JSON.parse(real.text) as IssuedToken;
        const beat = await send({
          method: 'POST',
          path: `/v1/tokens/${next.tokenId}/heartbeat`,
          headers: { authorization: `Bearer ${next.clientSecret}` },
        });
        expect(JSON.parse(beat.text)).toMatchObject({ status: 'active' });
      } finally {
        busy.stop();
      }
    }));
});
