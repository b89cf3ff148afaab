import { InvalidRequest } from '../../core/errors';
import type { TokenRecord } from '../../core/model';
import { startDynalite, tokenRecord, type TestDynamo } from '../../../test/support/dynalite';
import { countRequests } from '../../../test/support/requestCounter';
import { DynamoTokenStore } from './dynamoTokenStore';
import type { Page } from './tokenQueries';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;

/** A fresh table per scenario: the shard indexes are table-wide. */
async function scenario(records: TokenRecord[]): Promise<{ db: TestDynamo; store: DynamoTokenStore }> {
  const db = await startDynalite();
  const store = new DynamoTokenStore({ client: db.doc, tableName: db.tableName, shards: 4 });
  await Promise.all(records.map((record) => store.createToken(record)));
  return { db, store };
}

/** Reads every page; returns the items and the index entries read in total. */
async function readAll<T>(
  read: (cursor?: string) => Promise<Page<T>>,
): Promise<{ items: T[]; scanned: number; pages: number }> {
  const items: T[] = [];
  let scanned = 0;
  let pages = 0;
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    items.push(...page.items);
    scanned += page.scannedCount;
    pages += 1;
    cursor = page.cursor;
  } while (cursor);
  return { items, scanned, pages };
}

const ids = (items: Array<{ tokenId: string }>) => items.map((item) => item.tokenId).sort();

describe('Method: listDueForRotation', () => {
  let db: TestDynamo;
  let store: DynamoTokenStore;
  const due: TokenRecord[] = [];

  beforeAll(async () => {
    const records = Array.from({ length: 200 }, (_, i) => {
      if (i < 10) return tokenRecord({ refreshAfter: T0 - i });
      if (i < 15) return tokenRecord({ refreshAfter: T0 - i, status: 'paused' });
      if (i < 20) return tokenRecord({ refreshAfter: T0 - i, status: 'revoked' });
      return tokenRecord({ refreshAfter: T0 + DAY });
    });
    due.push(...records.slice(0, 10));
    ({ db, store } = await scenario(records));
  });
  afterAll(() => db.close());

  it('reads only the 10 due active tokens out of 200, one Query per shard', async () => {
    const requests = countRequests(db.client);
    const page = await store.listDueForRotation(T0, 100);
    expect(ids(page.items)).toEqual(ids(due));
    expect(page.scannedCount).toBe(10);
    expect(page.cursor).toBeUndefined();
    expect(requests.counts).toEqual({ Query: 4 });
  });

  it('pages through the shards without losing or repeating a token', async () => {
    const { items, scanned, pages } = await readAll((cursor) => store.listDueForRotation(T0, 3, cursor));
    expect(ids(items)).toEqual(ids(due));
    expect(scanned).toBe(10);
    expect(pages).toBeGreaterThanOrEqual(4);
  });

  it('drops a token from the index once it is marked rotate', async () => {
    await store.markForRotation(due[0]!.tokenId, T0);
    const page = await store.listDueForRotation(T0, 100);
    expect(ids(page.items)).toEqual(ids(due.slice(1)));
  });

  it('rejects a cursor it did not write and an empty page size', async () => {
    await expect(store.listDueForRotation(T0, 10, 'not-a-cursor')).rejects.toBeInstanceOf(InvalidRequest);
    await expect(store.listDueForRotation(T0, 0)).rejects.toBeInstanceOf(InvalidRequest);
  });
});

describe('Method: listStale', () => {
  let db: TestDynamo;
  let store: DynamoTokenStore;
  const silent: TokenRecord[] = [];

  beforeAll(async () => {
    const records = Array.from({ length: 100 }, (_, i) => {
      if (i < 6) return tokenRecord();
      if (i < 8) return tokenRecord({ status: 'paused' });
      if (i < 10) return tokenRecord({ status: 'rotate' });
      if (i < 15) return tokenRecord({ status: 'revoked' });
      if (i < 20) return tokenRecord({ status: 'refreshing' });
      return tokenRecord({ lastHeartbeatAt: T0 + 10 * DAY });
    });
    silent.push(...records.slice(0, 10));
    ({ db, store } = await scenario(records));
  });
  afterAll(() => db.close());

  it('finds the live tokens not seen since the cut-off, and only those', async () => {
    const page = await store.listStale(T0 + 5 * DAY);
    expect(ids(page.items)).toEqual(ids(silent));
    expect(page.scannedCount).toBe(10);
    expect(page.items[0]?.dueAt).toBe(T0);
  });

  it('forgets a token once it sends a heartbeat', async () => {
    const [first] = silent;
    await store.recordHeartbeat(first!.tokenId, first!.secretHash, T0 + 6 * DAY);
    expect(ids((await store.listStale(T0 + 5 * DAY)).items)).toEqual(ids(silent.slice(1)));
  });
});

describe('Method: listExpired', () => {
  it('finds the non-terminal tokens past expiry and skips the terminal ones', async () => {
    const expired = (['active', 'paused', 'rotate', 'refreshing', 'refreshed'] as const).map((status) =>
      tokenRecord({ status, expiresAt: T0 - DAY }),
    );
    const others = [
      ...(['revoked', 'superseded', 'expired'] as const).map((status) =>
        tokenRecord({ status, expiresAt: T0 - DAY }),
      ),
      ...Array.from({ length: 40 }, () => tokenRecord()),
    ];
    const { db, store } = await scenario([...expired, ...others]);
    try {
      const page = await store.listExpired(T0);
      expect(ids(page.items)).toEqual(ids(expired));
      expect(page.scannedCount).toBe(5);
    } finally {
      await db.close();
    }
  });
});

describe('Method: listPendingUpstreamDeletions', () => {
  it('lists revoked and refreshed tokens once due, with what the worker needs, until they are deleted', async () => {
    const revoked = tokenRecord();
    const refreshed = tokenRecord();
    const userToken = tokenRecord({ upstreamId: undefined, upstreamKind: 'user-token' });
    const { db, store } = await scenario([revoked, refreshed, userToken, tokenRecord(), tokenRecord()]);
    try {
      await store.revokeToken(revoked.tokenId, 'admin', T0);
      await store.revokeToken(userToken.tokenId, 'admin', T0);
      await store.claimForRefresh(refreshed.tokenId, refreshed.secretHash, T0, {
        successorId: 'tok_next',
        leaseMs: 30_000,
      });
      await store.completeRefresh(refreshed.tokenId, 'tok_next', T0, {
        graceMs: 60_000,
        sealedSuccessor: 'sealed',
      });

      expect((await store.listPendingUpstreamDeletions(T0)).items).toEqual([
        {
          tokenId: revoked.tokenId,
          upstreamId: revoked.upstreamId,
          dueAt: T0,
          attempts: 0,
          status: 'revoked',
        },
      ]);
      expect(ids((await store.listPendingUpstreamDeletions(T0 + 60_000)).items)).toEqual(
        ids([revoked, refreshed]),
      );

      await store.deferUpstreamDeletion(revoked.tokenId, T0 + 120_000);
      await store.markUpstreamDeleted(refreshed.tokenId, T0 + 60_000);
      expect((await store.listPendingUpstreamDeletions(T0 + 60_000)).items).toEqual([]);
      const later = await store.listPendingUpstreamDeletions(T0 + 120_000);
      expect(later.items).toEqual([expect.objectContaining({ tokenId: revoked.tokenId, attempts: 1 })]);
    } finally {
      await db.close();
    }
  });
});

describe('Method: listByInstall / listByChain', () => {
  let db: TestDynamo;
  let store: DynamoTokenStore;
  const mine = Array.from({ length: 7 }, (_, i) =>
    tokenRecord({ installId: 'install-a', chainId: 'chain-a', createdAt: T0 + i * 1000 }),
  );

  beforeAll(async () => {
    const others = Array.from({ length: 3 }, () => tokenRecord({ installId: 'install-b' }));
    ({ db, store } = await scenario([...mine, ...others]));
  });
  afterAll(() => db.close());

  it('returns the full records of one install, newest first, page by page', async () => {
    const first = await store.listByInstall('install-a', 3);
    expect(first.items).toEqual(mine.slice(4).reverse());
    const { items } = await readAll((cursor) => store.listByInstall('install-a', 3, cursor));
    expect(items).toEqual([...mine].reverse());
  });

  it('returns the tokens of one refresh chain', async () => {
    expect(ids((await store.listByChain('chain-a')).items)).toEqual(ids(mine));
  });

  it('returns an empty page for an unknown install', async () => {
    expect(await store.listByInstall('nobody')).toEqual({ items: [], scannedCount: 0, cursor: undefined });
  });
});
