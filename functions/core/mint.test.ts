import { mintEvent } from '../../test/support/events';
import { keepBusy } from '../../test/support/busy';
import { countRequests } from '../../test/support/requestCounter';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import type { IssuedToken } from './contract';
import { idempotencyRecordKey, requestHash } from './credentials';
import { claimLeaseMs } from './deps';

describe('Function: mintToken with an Idempotency-Key', () => {
  let broker: TestBroker;
  const body = { installId: 'install-0001', app: { name: 'cli', version: '1.0.0' } };
  const key = 'b1e2c3d4-0000-4000-8000-00000000000a';
  const mint = async (request: unknown, idempotencyKey = key) => {
    const result = await broker.handlers.mint(mintEvent(request, { 'idempotency-key': idempotencyKey }));
    return {
      status: result.statusCode,
      body: JSON.parse(result.body) as IssuedToken & { error?: { code: string } },
    };
  };

  beforeEach(async () => {
    broker = await startTestBroker();
  });
  afterEach(() => broker.close());

  it('refuses the same key with another body with 422, and mints nothing for it', async () => {
    const first = await mint(body);
    expect(first.status).toBe(201);
    const other = await mint({ ...body, app: { name: 'cli', version: '2.0.0' } });
    expect(other).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    expect(broker.logfire.issued).toHaveLength(1);
    // The first request, retried, still gets its token back.
    expect((await mint(body)).body.tokenId).toBe(first.body.tokenId);
  });

  it('treats the same body in another key order as the same request', async () => {
    const first = await mint(body);
    const reordered = await mint({ app: { version: '1.0.0', name: 'cli' }, installId: 'install-0001' });
    expect(reordered.status).toBe(201);
    expect(reordered.body.tokenId).toBe(first.body.tokenId);
  });

  it('lets a retry take over the claim of a mint that died, once its lease is over', async () => {
    // Prepare: an attempt claimed the key and died before minting (its claim stays pending).
    const keyHash = idempotencyRecordKey(body.installId, key);
    const claim = {
      claimId: 'the-attempt-that-died',
      requestHash: requestHash(body),
      now: broker.clock.now(),
      ttlMs: broker.deps.settings.idempotencyWindowMs,
      leaseMs: claimLeaseMs(broker.deps),
    };
    expect(await broker.store.claimIdempotencyKey(keyHash, claim)).toEqual({ state: 'claimed' });
    // Act: the client retries after the lease (before the fix it waited out the whole 10-minute window).
    broker.clock.advance(claimLeaseMs(broker.deps));
    const retry = await mint(body);
    // Assess
    expect(retry.status).toBe(201);
    expect((await mint(body)).body.tokenId).toBe(retry.body.tokenId);
    expect(broker.logfire.issued).toHaveLength(1);
  });

  it('does not let a different body take over a dead claim', async () => {
    const keyHash = idempotencyRecordKey(body.installId, key);
    await broker.store.claimIdempotencyKey(keyHash, {
      claimId: 'dead',
      requestHash: requestHash(body),
      now: broker.clock.now(),
      ttlMs: broker.deps.settings.idempotencyWindowMs,
      leaseMs: claimLeaseMs(broker.deps),
    });
    broker.clock.advance(claimLeaseMs(broker.deps));
    expect((await mint({ ...body, platform: 'linux' })).status).toBe(422);
    expect(broker.logfire.issued).toHaveLength(0);
  });

  it('makes one upstream call for 20 concurrent retries with the same key and body', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => mint(body)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.tokenId)).size).toBe(1);
    expect(broker.logfire.issued).toHaveLength(1);
  });
});

describe('Function: mintToken on a cold process', () => {
  it('reads the operator overrides once for 20 concurrent first mints, not once each, also on a busy machine', async () => {
    const broker = await startTestBroker();
    const busy = await keepBusy(20_000, 2);
    try {
      const requests = countRequests(broker.db.client);
      const minted = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          broker.handlers.mint(
            mintEvent({ installId: `cold-install-${i}`, app: { name: 'cli', version: '1.0.0' } }),
          ),
        ),
      );
      expect(minted.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
      // GetItem: the overrides item once, and the client settings item once (both cached per process).
      expect(requests.counts.GetItem).toBe(2);
    } finally {
      await busy.stop();
      await broker.close();
    }
  });
});
