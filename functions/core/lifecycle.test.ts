/**
 * The token lifecycle of DESIGN §4 through the scheduled jobs, against dynalite and the fake Logfire with a
 * clock the test moves: rotation → refresh → grace → upstream delete, stale reclaim, expiry, deletions
 * retried after Logfire failures, runs cut short, and chains whose revocation was interrupted.
 */
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { tokenRecord } from '../../test/support/dynalite';
import { DAY, lifecycleKit } from '../../test/support/lifecycle';
import { revokeToken } from './admin';
import { revokeChain } from './chain';
import { lambdaJobBudgetMs } from './jobs';
import { runRotation } from './rotation';
import { runSweep } from './sweep';
import { deletionBackoffMs } from './upstreamDeletion';

const MINUTE = 60_000;

describe('token lifecycle jobs', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  beforeEach(async () => {
    broker = await startTestBroker({ settings: { staleAfterMs: 3 * DAY } });
    kit = lifecycleKit(broker);
  });
  afterEach(() => broker.close());

  describe('Function: runRotation', () => {
    it('marks a due token rotate, and after refresh and grace the sweep deletes the old upstream token', async () => {
      // Prepare
      const first = await kit.mint();
      const firstRecord = await kit.record(first.tokenId);
      expect((await runRotation(broker.deps)).marked).toBe(0);
      // Act: the rotation is due after 7 days
      broker.clock.advance(7 * DAY);
      const rotation = await runRotation(broker.deps);
      // Assess
      expect(rotation).toEqual({ examined: 1, marked: 1, itemsRead: 1, done: true });
      expect((await kit.record(first.tokenId)).status).toBe('rotate');
      expect(await kit.heartbeat(first)).toBe('rotate');

      const { status, token: second } = await kit.refresh(first);
      expect(status).toBe(200);
      expect(await kit.record(first.tokenId)).toMatchObject({
        status: 'refreshed',
        successorId: second!.tokenId,
      });
      // Within the grace period both write tokens work: the client may still be exporting with the old one.
      expect(broker.logfire.tokens).toHaveLength(2);
      broker.clock.advance(23 * 60 * MINUTE);
      expect((await runSweep(broker.deps)).upstreamDeleted).toBe(0);
      expect(kit.upstreamLive(firstRecord)).toBe(true);

      broker.clock.advance(2 * 60 * MINUTE);
      const sweep = await runSweep(broker.deps);
      expect(sweep).toMatchObject({ upstreamDeleted: 1, upstreamDeleteFailed: 0, done: true });
      expect(kit.upstreamLive(firstRecord)).toBe(false);
      expect(broker.logfire.tokens).toHaveLength(1);
      expect((await kit.record(first.tokenId)).status).toBe('superseded');
      expect(await kit.heartbeat(second!)).toBe('active');
      expect(await kit.actions(first.tokenId)).toEqual([
        'token.minted',
        'token.rotation_due',
        'upstream.deleted',
      ]);
      const [deleted] = (await kit.audit(first.tokenId)).slice(-1);
      expect(deleted).toMatchObject({ actor: 'system:sweep', details: { previousStatus: 'refreshed' } });
    });

    it('reads only the due index entries: 10 due among 300 tokens', async () => {
      const now = broker.clock.now();
      const records = Array.from({ length: 300 }, (_, i) =>
        tokenRecord({ createdAt: now - (i < 10 ? 8 : 1) * DAY, expiresAt: now + 6 * DAY }),
      );
      for (let i = 0; i < records.length; i += 50) {
        await Promise.all(records.slice(i, i + 50).map((record) => broker.store.createToken(record)));
      }
      const report = await runRotation(broker.deps, { pageSize: 4 });
      expect(report).toEqual({ examined: 10, marked: 10, itemsRead: 10, done: true });
      expect((await runRotation(broker.deps)).itemsRead).toBe(0);
    });

    it('stops starting pages once its budget is spent, and the next run finishes', async () => {
      await kit.mint();
      await kit.mint();
      broker.clock.advance(7 * DAY);
      expect(await runRotation(broker.deps, { budgetMs: 0 })).toEqual({
        examined: 0,
        marked: 0,
        itemsRead: 0,
        done: false,
      });
      expect(await runRotation(broker.deps, { pageSize: 1 })).toMatchObject({ marked: 2, done: true });
    });
  });

  describe('Function: runSweep', () => {
    it('reclaims a silent token: heartbeats then get 401 and its upstream token is deleted', async () => {
      const silent = await kit.mint();
      const talking = await kit.mint();
      broker.clock.advance(2 * DAY);
      expect(await kit.heartbeat(talking)).toBe('active');
      broker.clock.advance(DAY + 1);
      expect((await runSweep(broker.deps)).reclaimed).toBe(1);

      expect(await kit.heartbeat(silent)).toBe(401);
      expect((await kit.refresh(silent)).status).toBe(401);
      expect(await kit.record(silent.tokenId)).toMatchObject({
        status: 'expired',
        statusReason: expect.stringMatching(/^reclaimed: no heartbeat since/),
      });
      expect(kit.upstreamLive(await kit.record(silent.tokenId))).toBe(false);
      expect(await kit.heartbeat(talking)).toBe('active');
      const reclaim = (await kit.audit(silent.tokenId)).find((e) => e.action === 'token.reclaimed');
      expect(reclaim).toMatchObject({ actor: 'system:sweep', details: { upstreamStillValid: false } });
      expect(await kit.actions(silent.tokenId)).toContain('upstream.deleted');
    });

    it('expires tokens past expiresAt, a refresh that crashed mid-way included', async () => {
      const idle = await kit.mint();
      const stuck = await kit.mint();
      const stuckRecord = await kit.record(stuck.tokenId);
      await broker.store.claimForRefresh(stuck.tokenId, stuckRecord.secretHash, broker.clock.now(), {
        successorId: 'tok_neverIssued0000000000',
        leaseMs: 30_000,
      });
      // Heartbeats keep `idle` fresh so only expiry applies, not the stale reclaim.
      for (let day = 0; day < 14; day += 2) {
        broker.clock.advance(2 * DAY);
        await kit.heartbeat(idle);
      }
      const report = await runSweep(broker.deps);
      expect(report).toMatchObject({ expired: 2, reclaimed: 0, done: true });
      expect((await kit.record(idle.tokenId)).status).toBe('expired');
      expect(await kit.record(stuck.tokenId)).toMatchObject({ status: 'expired' });
      expect(await kit.heartbeat(idle)).toBe(401);
      expect(await kit.actions(idle.tokenId)).toContain('token.expired');
    });

    it('retries a deletion Logfire refused with 5xx, with backoff, until it succeeds', async () => {
      const token = await kit.mint();
      const record = await kit.record(token.tokenId);
      broker.logfire.failNext(3, 503); // the adapter's own retries give up too
      const revoked = await revokeToken(broker.deps, token.tokenId, {
        actor: 'admin:ops',
        reason: 'leaked',
      });
      expect(revoked).toMatchObject({ upstream: 'delete_queued', upstreamStillValid: true });
      expect(kit.upstreamLive(record)).toBe(true);
      expect(await kit.rawItem(token.tokenId)).toMatchObject({ deleteAttempts: 1 });

      // Not due before the backoff is over.
      expect((await runSweep(broker.deps)).upstreamDeleteFailed).toBe(0);
      broker.clock.advance(deletionBackoffMs(0));
      broker.logfire.failNext(3, 500);
      expect(await runSweep(broker.deps)).toMatchObject({ upstreamDeleted: 0, upstreamDeleteFailed: 1 });
      expect(await kit.rawItem(token.tokenId)).toMatchObject({ deleteAttempts: 2 });

      broker.clock.advance(deletionBackoffMs(1) - 1);
      expect((await runSweep(broker.deps)).upstreamDeleted).toBe(0);
      broker.clock.advance(1);
      expect(await runSweep(broker.deps)).toMatchObject({ upstreamDeleted: 1, done: true });
      expect(kit.upstreamLive(record)).toBe(false);
      expect(await kit.rawItem(token.tokenId)).not.toHaveProperty('gsiDeleteAt');
      // Entries of one millisecond have no order among themselves: compare as a set of events.
      expect((await kit.actions(token.tokenId)).sort()).toEqual([
        'token.minted',
        'token.revoked',
        'upstream.delete_failed',
        'upstream.delete_failed',
        'upstream.deleted',
      ]);
    });

    it('leaves every token consistent when a run dies half way, and the next run finishes', async () => {
      const tokens = await Promise.all(Array.from({ length: 6 }, () => kit.mint()));
      for (const token of tokens) await broker.store.revokeToken(token.tokenId, 'test', broker.clock.now());
      const realStore = broker.deps.store;
      let pages = 0;
      broker.deps.store = new Proxy(realStore, {
        get(target, name, receiver) {
          if (name === 'listPendingUpstreamDeletions') {
            return async (...args: Parameters<typeof realStore.listPendingUpstreamDeletions>) => {
              if (++pages === 2) throw new Error('injected: DynamoDB went away');
              return realStore.listPendingUpstreamDeletions(...args);
            };
          }
          const value: unknown = Reflect.get(target, name, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      await expect(runSweep(broker.deps, { pageSize: 2 })).rejects.toThrow('injected');
      broker.deps.store = realStore;

      // Each token is either deleted upstream and off the queue, or still live upstream and still queued.
      let deleted = 0;
      for (const token of tokens) {
        const [record, item] = [await kit.record(token.tokenId), await kit.rawItem(token.tokenId)];
        expect(record.status).toBe('revoked');
        expect('gsiDeleteAt' in item!).toBe(kit.upstreamLive(record));
        if (!kit.upstreamLive(record)) deleted += 1;
      }
      expect(deleted).toBe(2);

      expect(await runSweep(broker.deps, { pageSize: 2 })).toMatchObject({ upstreamDeleted: 4, done: true });
      expect(broker.logfire.tokens).toHaveLength(0);
    });

    it('retries an item whose write failed, without losing its deletion', async () => {
      const token = await kit.mint();
      await broker.store.revokeToken(token.tokenId, 'test', broker.clock.now());
      const realStore = broker.deps.store;
      const markUpstreamDeleted = realStore.markUpstreamDeleted.bind(realStore);
      realStore.markUpstreamDeleted = () => Promise.reject(new Error('injected: write failed'));
      try {
        expect(await runSweep(broker.deps)).toMatchObject({ upstreamDeleted: 0, done: false });
      } finally {
        realStore.markUpstreamDeleted = markUpstreamDeleted;
      }
      // Logfire already deleted it; the retry's 404 counts as deleted and the record leaves the queue.
      expect(await runSweep(broker.deps)).toMatchObject({ upstreamDeleted: 1, done: true });
      expect(await kit.rawItem(token.tokenId)).not.toHaveProperty('gsiDeleteAt');
      expect(broker.logs.some((l) => l.level === 'error' && l.message.includes('item failed'))).toBe(true);
    });

    it('finishes a chain revocation that reuse detection could not complete', async () => {
      const first = await kit.mint();
      const second = (await kit.refresh(first)).token!;
      const third = (await kit.refresh(second)).token!;
      // The walk dies after revoking the spent token: its first getToken on the way fails (the two reads
      // before it tell that the secret is spent and its successor refreshed again: reuse, not a retry).
      const realStore = broker.deps.store;
      const getToken = realStore.getToken.bind(realStore);
      let reads = 0;
      realStore.getToken = (id) =>
        ++reads > 2 ? Promise.reject(new Error('injected: crash during the walk')) : getToken(id);
      try {
        expect((await kit.refresh(first)).status).toBe(500);
      } finally {
        realStore.getToken = getToken;
      }
      expect((await kit.record(first.tokenId)).status).toBe('revoked');
      expect(await kit.heartbeat(third)).toBe('active'); // not yet: the walk never got there

      const report = await runSweep(broker.deps);
      expect(report).toMatchObject({ chainsCompleted: 1, done: true });
      expect(await kit.heartbeat(third)).toBe('revoked');
      expect((await kit.record(second.tokenId)).status).toBe('revoked');
      expect(broker.logfire.tokens).toHaveLength(0);
      expect((await broker.store.listChainRevocations(10)).items).toEqual([]);
      expect((await runSweep(broker.deps)).chainsCompleted).toBe(0);
      const revoked = (await kit.audit(third.tokenId)).find((e) => e.action === 'token.revoked');
      expect(revoked).toMatchObject({ actor: 'system:sweep', chainId: first.tokenId });
    });

    it('reuse detection follows a successor that a refresh completed after the chain was read', async () => {
      // Prepare: the spent record is read while its refresh is still in flight…
      const first = await kit.mint();
      const successor = await kit.mint();
      const claimed = await broker.store.claimForRefresh(
        first.tokenId,
        (await kit.record(first.tokenId)).secretHash,
        broker.clock.now(),
        { successorId: successor.tokenId, leaseMs: 30_000 },
      );
      const snapshot = await kit.record(first.tokenId);
      // …which then completes with a successor.
      await broker.store.completeRefresh(first.tokenId, successor.tokenId, broker.clock.now(), {
        sealedSuccessor: 'sealed',
      });
      expect(claimed && snapshot.status).toBe('refreshing');
      // Act
      await revokeChain(broker.deps, snapshot, 'client secret reused');
      // Assess: the walk followed the successor the revoke saw, not the stale snapshot.
      expect(await kit.heartbeat(successor)).toBe('revoked');
    });

    it('reads only due entries: 10 due among 300 tokens', async () => {
      const now = broker.clock.now();
      const records = Array.from({ length: 300 }, (_, i) =>
        tokenRecord({
          createdAt: now - (i < 5 ? 4 : i < 10 ? 15 : 1) * DAY,
          expiresAt: now + (i < 5 ? 10 : i < 10 ? -1 : 13) * DAY,
          lastHeartbeatAt: i < 10 ? undefined : now - DAY,
        }),
      );
      for (let i = 0; i < records.length; i += 50) {
        await Promise.all(records.slice(i, i + 50).map((record) => broker.store.createToken(record)));
      }
      const report = await runSweep(broker.deps, { pageSize: 3 });
      // 5 silent tokens, reclaimed (their upstream ids are unknown to Logfire: a 404 counts as deleted),
      // and 5 expired ones, which are also silent: reclaim leaves them to expiry.
      expect(report).toMatchObject({ reclaimed: 5, expired: 5, upstreamDeleted: 5, done: true });
      expect(report.itemsRead).toBeLessThanOrEqual(2 * 10);
    });
  });

  describe('Function: lambdaJobBudgetMs', () => {
    it('keeps a fifth of the remaining time, at least 10 s, for the page in flight', () => {
      expect(lambdaJobBudgetMs(600_000)).toBe(480_000);
      expect(lambdaJobBudgetMs(30_000)).toBe(20_000);
      expect(lambdaJobBudgetMs(5_000)).toBe(0);
    });
  });
});
