import { startDynalite, type TestDynamo } from '../../../test/support/dynalite';
import { DynamoTokenStore } from './dynamoTokenStore';

const T0 = 1_700_000_000_000;
const WINDOW = 600_000;

let db: TestDynamo;
let store: DynamoTokenStore;
let keys = 0;
const newKey = () => `key-hash-${++keys}`;

beforeAll(async () => {
  db = await startDynalite();
  store = new DynamoTokenStore({ client: db.doc, tableName: db.tableName });
});
afterAll(() => db.close());

describe('Method: claimIdempotencyKey', () => {
  it('claims a new key', async () => {
    expect(await store.claimIdempotencyKey(newKey(), T0, WINDOW)).toEqual({ state: 'claimed' });
  });

  it('reports a running claim as pending with its start time', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, T0, WINDOW);
    expect(await store.claimIdempotencyKey(key, T0 + 1000, WINDOW)).toEqual({
      state: 'pending',
      startedAt: T0,
    });
  });

  it('reports a completed claim with its sealed reply', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, T0, WINDOW);
    await store.completeIdempotencyKey(key, 'sealed-reply');
    expect(await store.claimIdempotencyKey(key, T0 + 1000, WINDOW)).toEqual({
      state: 'completed',
      sealedReply: 'sealed-reply',
    });
  });

  it('replaces a claim whose window has passed (no reliance on DynamoDB TTL)', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, T0, WINDOW);
    await store.completeIdempotencyKey(key, 'old-reply');
    expect(await store.claimIdempotencyKey(key, T0 + WINDOW, WINDOW)).toEqual({ state: 'claimed' });
    expect(await store.claimIdempotencyKey(key, T0 + WINDOW + 1, WINDOW)).toEqual({
      state: 'pending',
      startedAt: T0 + WINDOW,
    });
  });
});

describe('Method: releaseIdempotencyKey', () => {
  it('frees a pending claim so a retry may claim again', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, T0, WINDOW);
    await store.releaseIdempotencyKey(key);
    expect(await store.claimIdempotencyKey(key, T0 + 1, WINDOW)).toEqual({ state: 'claimed' });
  });

  it('keeps a completed key, so its reply is still served', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, T0, WINDOW);
    await store.completeIdempotencyKey(key, 'reply');
    await store.releaseIdempotencyKey(key);
    expect((await store.claimIdempotencyKey(key, T0 + 1, WINDOW)).state).toBe('completed');
  });

  it('does nothing for an unknown key', async () => {
    await expect(store.releaseIdempotencyKey(newKey())).resolves.toBeUndefined();
  });
});

describe('Method: completeIdempotencyKey', () => {
  it('does not resurrect a released claim', async () => {
    const key = newKey();
    await store.claimIdempotencyKey(key, T0, WINDOW);
    await store.releaseIdempotencyKey(key);
    await store.completeIdempotencyKey(key, 'late');
    expect(await store.claimIdempotencyKey(key, T0 + 1, WINDOW)).toEqual({ state: 'claimed' });
  });
});
