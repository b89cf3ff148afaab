import { startDynalite, type TestDynamo } from '../../../test/support/dynalite';
import type { IdempotencyClaimRequest } from '../../core/ports';
import { DynamoTokenStore } from './dynamoTokenStore';

const T0 = 1_700_000_000_000;
const WINDOW = 600_000;
const LEASE = 30_000;

let db: TestDynamo;
let store: DynamoTokenStore;
let keys = 0;
const newKey = () => `key-hash-${++keys}`;
/** A claim by attempt `claimId` for the request `requestHash` at `now`. */
const claim = (now: number, claimId = 'attempt-1', requestHash = 'body-1'): IdempotencyClaimRequest => ({
  claimId,
  requestHash,
  now,
  ttlMs: WINDOW,
  leaseMs: LEASE,
});

beforeAll(async () => {
  db = await startDynalite();
  store = new DynamoTokenStore({ client: db.doc, tableName: db.tableName });
});
afterAll(() => db.close());

describe('Method: claimIdempotencyKey', () => {
  it('claims a new key', async () => {
    expect(await store.claimIdempotencyKey(newKey(), claim(T0))).toEqual({ state: 'claimed' });
  });

  it('reports a running claim as pending with its start time and request hash', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0));
    expect(await store.claimIdempotencyKey(key, claim(T0 + 1000, 'attempt-2'))).toEqual({
      state: 'pending',
      startedAt: T0,
      requestHash: 'body-1',
    });
  });

  it('reports a completed claim with its sealed reply', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0));
    await store.completeIdempotencyKey(key, 'attempt-1', 'sealed-reply');
    expect(await store.claimIdempotencyKey(key, claim(T0 + 1000, 'attempt-2'))).toEqual({
      state: 'completed',
      sealedReply: 'sealed-reply',
      requestHash: 'body-1',
    });
  });

  it('replaces a claim whose window has passed (no reliance on DynamoDB TTL)', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0));
    await store.completeIdempotencyKey(key, 'attempt-1', 'old-reply');
    expect(await store.claimIdempotencyKey(key, claim(T0 + WINDOW, 'attempt-2'))).toEqual({
      state: 'claimed',
    });
    expect(await store.claimIdempotencyKey(key, claim(T0 + WINDOW + 1, 'attempt-3'))).toMatchObject({
      state: 'pending',
      startedAt: T0 + WINDOW,
    });
  });

  it('takes over a pending claim once its lease is over: the attempt that held it died', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0, 'crashed'));
    expect((await store.claimIdempotencyKey(key, claim(T0 + LEASE - 1, 'retry'))).state).toBe('pending');
    expect(await store.claimIdempotencyKey(key, claim(T0 + LEASE, 'retry'))).toEqual({ state: 'claimed' });
    // The dead attempt, should it wake up, can neither complete nor release what is no longer its claim.
    await store.completeIdempotencyKey(key, 'crashed', 'stale-reply');
    await store.releaseIdempotencyKey(key, 'crashed');
    await store.completeIdempotencyKey(key, 'retry', 'fresh-reply');
    expect(await store.claimIdempotencyKey(key, claim(T0 + LEASE + 1, 'later'))).toMatchObject({
      state: 'completed',
      sealedReply: 'fresh-reply',
    });
  });

  it('never takes over a stale claim for another request body', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0, 'first', 'body-1'));
    expect(await store.claimIdempotencyKey(key, claim(T0 + LEASE + 1, 'other', 'body-2'))).toEqual({
      state: 'pending',
      startedAt: T0,
      requestHash: 'body-1',
    });
  });

  it('lets exactly one of 20 concurrent takeovers of a stale claim win', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0, 'crashed'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.claimIdempotencyKey(key, claim(T0 + LEASE, `retry-${i}`))),
    );
    expect(results.filter((r) => r.state === 'claimed')).toHaveLength(1);
  });
});

describe('Method: releaseIdempotencyKey', () => {
  it('frees a pending claim so a retry may claim again', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0));
    await store.releaseIdempotencyKey(key, 'attempt-1');
    expect(await store.claimIdempotencyKey(key, claim(T0 + 1, 'attempt-2'))).toEqual({ state: 'claimed' });
  });

  it('keeps a completed key, so its reply is still served', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0));
    await store.completeIdempotencyKey(key, 'attempt-1', 'reply');
    await store.releaseIdempotencyKey(key, 'attempt-1');
    expect((await store.claimIdempotencyKey(key, claim(T0 + 1, 'attempt-2'))).state).toBe('completed');
  });

  it('does nothing for an unknown key', async () => {
    await expect(store.releaseIdempotencyKey(newKey(), 'attempt-1')).resolves.toBeUndefined();
  });
});

describe('Method: completeIdempotencyKey', () => {
  it('does not resurrect a released claim', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, claim(T0));
    await store.releaseIdempotencyKey(key, 'attempt-1');
    await store.completeIdempotencyKey(key, 'attempt-1', 'late');
    expect(await store.claimIdempotencyKey(key, claim(T0 + 1, 'attempt-2'))).toEqual({ state: 'claimed' });
  });
});
