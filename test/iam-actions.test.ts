/**
 * The IAM grants of infra/handlers.ts against what the handlers really do. Each handler runs through its
 * happy and failure paths against dynalite, the DynamoDB operations it sends are counted on the wire, and:
 * - every operation observed is declared (else the deployed function gets AccessDenied), and
 * - every action declared was observed on some path (else the role grants more than the code uses).
 * Whether a handler calls Logfire at all decides whether it may read the upstream secret.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { IssuedToken } from '../functions/core/contract';
import { HANDLERS } from '../infra/handlers';
import { startTestBroker, type TestBroker } from './support/broker';
import { heartbeatEvent, mintEvent, refreshEvent } from './support/events';
import { countRequests, type RequestCounter } from './support/requestCounter';

const body = { installId: 'iam-check-install-0001', app: { name: 'cli', version: '1.0.0' } };
const key = (n: number) => `iam-check-idempotency-key-${n}-0123456789`;

describe('IAM actions declared in infra/handlers.ts', () => {
  let broker: TestBroker;
  let requests: RequestCounter;
  const observed: Record<string, Set<string>> = {};
  const logfireCalls: Record<string, number> = {};
  let paths = 0;

  /** Runs one path of `handler`; only the requests of `call` are counted, not those of its setup. */
  async function path(handler: string, expectedStatus: number, call: () => Promise<APIGatewayProxyResult>) {
    requests.reset();
    const before = broker.logfire.requests.length;
    const result = await call();
    expect(result.statusCode).toBe(expectedStatus);
    observed[handler] ??= new Set();
    for (const operation of Object.keys(requests.counts)) observed[handler].add(`dynamodb:${operation}`);
    logfireCalls[handler] = (logfireCalls[handler] ?? 0) + broker.logfire.requests.length - before;
    paths += 1;
  }

  const mint = async (headers: Record<string, string> = {}) =>
    JSON.parse((await broker.handlers.mint(mintEvent(body, headers))).body) as IssuedToken;

  beforeAll(async () => {
    broker = await startTestBroker();
    requests = countRequests(broker.db.client);

    // mint: plain, idempotent, replayed, failed upstream (the claim is released), invalid input.
    await path('mint', 201, () => broker.handlers.mint(mintEvent(body)));
    await path('mint', 201, () => broker.handlers.mint(mintEvent(body, { 'idempotency-key': key(1) })));
    await path('mint', 201, () => broker.handlers.mint(mintEvent(body, { 'idempotency-key': key(1) })));
    broker.logfire.failNext(3, 500);
    await path('mint', 503, () => broker.handlers.mint(mintEvent(body, { 'idempotency-key': key(2) })));
    await path('mint', 400, () => broker.handlers.mint(mintEvent({ installId: 'x' })));

    // heartbeat: live token, wrong secret, revoked token (a proven owner hears "revoked").
    const live = await mint();
    await path('heartbeat', 200, () =>
      broker.handlers.heartbeat(heartbeatEvent(live.tokenId, live.clientSecret)),
    );
    await path('heartbeat', 401, () =>
      broker.handlers.heartbeat(heartbeatEvent(live.tokenId, 'lfb_cs_wrong')),
    );
    const revoked = await mint();
    await broker.store.revokeToken(revoked.tokenId, 'test', broker.clock.now());
    await path('heartbeat', 200, () =>
      broker.handlers.heartbeat(heartbeatEvent(revoked.tokenId, revoked.clientSecret)),
    );

    // refresh: success, spent secret (reuse detection revokes the chain), failed upstream, paused token.
    const first = await mint();
    await path('refresh', 200, () =>
      broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret)),
    );
    await path('refresh', 401, () =>
      broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret)),
    );
    const other = await mint();
    broker.logfire.failNext(3, 500);
    await path('refresh', 503, () =>
      broker.handlers.refresh(refreshEvent(other.tokenId, other.clientSecret)),
    );
    await broker.store.pauseToken(other.tokenId, 'hold', broker.clock.now());
    await path('refresh', 403, () =>
      broker.handlers.refresh(refreshEvent(other.tokenId, other.clientSecret)),
    );
  });
  afterAll(() => broker?.close());

  it('exercises every deployed handler', () => {
    expect(paths).toBeGreaterThanOrEqual(12);
    expect(Object.keys(observed).sort()).toEqual(HANDLERS.map((handler) => handler.name).sort());
  });

  it.each(HANDLERS.map((handler) => [handler.name, handler]))(
    'declares every DynamoDB action %s performs, and none it never performs',
    (name, handler) => {
      const declared = [...handler.tokens.actions, ...(handler.audit?.actions ?? [])].sort();
      expect([...(observed[name] ?? [])].sort()).toEqual(declared);
    },
  );

  it.each(HANDLERS.map((handler) => [handler.name, handler]))(
    'lets %s read the upstream secret exactly when it calls Logfire',
    (name, handler) => {
      expect(handler.readsUpstreamSecret).toBe((logfireCalls[name] ?? 0) > 0);
    },
  );

  it('needs no index for the v1 routes: no handler queried one', () => {
    for (const operations of Object.values(observed)) {
      expect([...operations].filter((op) => op === 'dynamodb:Query' || op === 'dynamodb:Scan')).toEqual([]);
    }
  });
});
