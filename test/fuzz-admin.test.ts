/**
 * Bad input to the admin API: random bodies, query parameters and path parameters on every admin route
 * answer a 4xx JSON error and change nothing (the token stays as it was, no override is stored, and no admin
 * action reaches the audit trail).
 */
import fc from 'fast-check';
import { ROUTES } from '../functions/http/routes';
import { startTestBroker, type TestBroker } from './support/broker';
import { adminEvent, mintEvent } from './support/events';
import type { IssuedToken } from '../functions/core/contract';

jest.setTimeout(120_000);

let broker: TestBroker;
let token: IssuedToken;
beforeAll(async () => {
  broker = await startTestBroker();
  const reply = await broker.handlers.mint(
    mintEvent({ installId: 'fuzz-admin-install-0001', app: { name: 'fuzzy', version: '1.0.0' } }),
  );
  token = JSON.parse(reply.body) as IssuedToken;
});
afterAll(() => broker.close());

const ADMIN = ROUTES.filter((route) => route.name === 'admin');
const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);
const KEYS = [
  'reason',
  'action',
  'filter',
  'dryRun',
  'mintAllowCidrs',
  'mintsPerDay',
  'app',
  'x',
  '__proto__',
];

it('answers bad input on every admin route with a 4xx JSON error and changes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ADMIN),
      fc.dictionary(fc.constantFrom(...KEYS), junk, { maxKeys: 4 }),
      fc.dictionary(
        fc.constantFrom('limit', 'cursor', 'version', 'network', 'status', 'app', 'zzz'),
        fc.string({ maxLength: 30 }),
        { maxKeys: 3 },
      ),
      fc.oneof(fc.constant(token.tokenId), fc.string({ minLength: 1, maxLength: 60 })),
      async (route, body, query, id) => {
        // Valid calls are not what this test is about: a read with a good query may answer 200.
        const event = adminEvent(route.method, route.path, {
          pathParameters: { tokenId: id, jobId: id, actionId: id },
          query,
          // A field no route takes keeps every write invalid, however the rest of the body came out.
          body: route.method === 'GET' ? undefined : { ...body, unexpectedField: true },
          headers: { 'x-broker-otp': '000000' },
        });
        const reply = await broker.handlers.admin(event);
        if (reply.statusCode >= 500)
          throw new Error(`${route.method} ${route.path}: ${reply.statusCode} ${reply.body}`);
        const parsed = JSON.parse(reply.body) as { error?: { code: string; message: string } };
        if (route.method !== 'GET') expect(reply.statusCode).toBeGreaterThanOrEqual(400);
        if (reply.statusCode >= 400) {
          expect(reply.statusCode).toBeLessThan(500);
          expect(typeof parsed.error?.code).toBe('string');
          expect(typeof parsed.error?.message).toBe('string');
        }
      },
    ),
    { numRuns: 300 },
  );
  const record = await broker.store.getToken(token.tokenId);
  expect(record?.status).toBe('active');
  expect(await broker.store.getRuntimeOverrides()).toEqual({ limits: {} });
  const { entries } = await broker.audit.byTime({ from: 0, to: Date.now() + 86_400_000, limit: 500 });
  const changes = entries.filter((entry) =>
    /^(admin\.|token\.(paused|resumed|revoked)|otp_accepted)/.test(entry.action),
  );
  expect(changes).toEqual([]);
});
