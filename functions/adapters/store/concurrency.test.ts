import { AlreadyExists } from '../../core/ports';
import { tokenRecord } from '../../../test/support/dynalite';
import { useStore } from '../../../test/support/storeFixture';
import { RefreshConflict } from './dynamoTokenStore';

const T0 = 1_700_000_000_000;
const PARALLEL = 20;
const CLAIM = { successorId: 'tok_next', leaseMs: 30_000 };
const SEALED = { sealedSuccessor: 'sealed' };

const fixture = useStore();

const times = <T>(n: number, run: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => run(i)));

describe('Concurrency: one conditional write per transition', () => {
  it('lets exactly one of 20 concurrent refresh claims on a token win', async () => {
    const record = tokenRecord();
    await fixture.store.createToken(record);
    const results = await times(PARALLEL, () =>
      fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect((await fixture.store.getToken(record.tokenId))?.status).toBe('refreshing');
  });

  it('gives exactly one of 20 concurrent mints with the same idempotency key the claim', async () => {
    const results = await times(PARALLEL, () =>
      fixture.store.claimIdempotencyKey('same-key-hash', {
        claimId: `attempt-${Math.random()}`,
        requestHash: 'body',
        now: T0,
        ttlMs: 600_000,
        leaseMs: 30_000,
      }),
    );
    expect(results.filter((r) => r.state === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.state === 'pending')).toHaveLength(PARALLEL - 1);
  });

  it('creates a token id once when 20 writers race for it', async () => {
    const record = tokenRecord();
    const results = await Promise.allSettled(
      Array.from({ length: PARALLEL }, () => fixture.store.createToken(record)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyExists);
  });

  it('ends revoked whichever of revoke and refresh comes first, and never completes a refresh of a revoked token', async () => {
    for (let round = 0; round < 10; round++) {
      const record = tokenRecord();
      await fixture.store.createToken(record);
      const revoke = () => fixture.store.revokeToken(record.tokenId, 'admin', T0);
      const claim = () => fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM);
      // Alternate which request leaves first, so both orders happen.
      const [revoked, claimed] =
        round % 2 === 0
          ? await Promise.all([revoke(), claim()])
          : (await Promise.all([claim(), revoke()])).reverse();
      // Revoke always wins (refreshing is not terminal); the claim wins only if it came first.
      expect(revoked).toBeDefined();
      if (claimed) {
        expect(revoked?.status).toBe('refreshing');
        await expect(
          fixture.store.completeRefresh(record.tokenId, CLAIM.successorId, T0, SEALED),
        ).rejects.toBeInstanceOf(RefreshConflict);
      } else {
        expect(revoked?.status).toBe('active');
      }
      expect((await fixture.store.getToken(record.tokenId))?.status).toBe('revoked');
    }
  });

  it('lets concurrent heartbeats all succeed without losing the token', async () => {
    const record = tokenRecord();
    await fixture.store.createToken(record);
    const results = await times(PARALLEL, (i) =>
      fixture.store.recordHeartbeat(record.tokenId, record.secretHash, T0 + i),
    );
    expect(results.every((r) => r?.record.status === 'active')).toBe(true);
    expect((await fixture.store.getToken(record.tokenId))?.lastHeartbeatAt).toBeGreaterThanOrEqual(T0);
  });

  it('revokes a token exactly once when 20 admins revoke it together', async () => {
    const record = tokenRecord();
    await fixture.store.createToken(record);
    const results = await times(PARALLEL, () => fixture.store.revokeToken(record.tokenId, 'bulk', T0));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });
});
