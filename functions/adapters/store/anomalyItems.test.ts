/**
 * The anomaly phase's items on dynalite: an action is claimed by exactly one of many concurrent runs, a
 * crashed run's claim is taken over by one, the cursor only moves forward, and the items stay out of every
 * token index.
 */
import type { AnomalyActionRecord } from '../../core/anomalies/ports';
import { useStore } from '../../../test/support/storeFixture';

const fixture = useStore();
let ids = 0;

function action(overrides: Partial<AnomalyActionRecord> = {}): AnomalyActionRecord {
  ids += 1;
  return {
    actionId: `anm_test${String(ids).padStart(18, '0')}`,
    rule: 'install-networks',
    action: 'pause',
    dryRun: false,
    subject: 'install install-1',
    target: { kind: 'install', installId: 'install-1' },
    reason: 'anomaly install-networks [anm_…]: install seen from 3 networks',
    windowStart: 1_764_583_200_000,
    windowEnd: 1_764_584_100_000,
    createdAt: 1_764_584_300_000,
    state: 'pending',
    tokenIds: [],
    ...overrides,
  };
}

describe('anomaly actions', () => {
  it('are claimed by exactly one of 20 concurrent runs; the others get the stored record', async () => {
    const record = action();
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fixture.store.claimAnomalyAction({ ...record, createdAt: i })),
    );
    expect(claims.filter((claim) => claim.created)).toHaveLength(1);
    const stored = await fixture.store.getAnomalyAction(record.actionId);
    for (const claim of claims) if (!claim.created) expect(claim.existing).toEqual(stored);
    expect(stored).toMatchObject({ ...record, createdAt: expect.any(Number) });
  });

  it('go pending → applied → undone, each step once', async () => {
    const record = action();
    await fixture.store.claimAnomalyAction(record);
    expect(await fixture.store.markAnomalyActionUndone(record.actionId, 1)).toBe(false); // not applied yet
    await fixture.store.completeAnomalyAction(record.actionId, ['tok_a', 'tok_b']);
    expect(await fixture.store.getAnomalyAction(record.actionId)).toMatchObject({
      state: 'applied',
      tokenIds: ['tok_a', 'tok_b'],
    });
    const undos = await Promise.all(
      [1, 2, 3].map((n) => fixture.store.markAnomalyActionUndone(record.actionId, n)),
    );
    expect(undos.filter(Boolean)).toHaveLength(1);
    expect(await fixture.store.getAnomalyAction(record.actionId)).toMatchObject({ state: 'undone' });
  });

  it('hand a pending claim older than the lease to one run only', async () => {
    const record = action({ createdAt: 1000 });
    await fixture.store.claimAnomalyAction(record);
    expect(await fixture.store.takeOverAnomalyAction(record.actionId, 1000, 5000)).toBe(false); // not older
    const takeovers = await Promise.all(
      Array.from({ length: 10 }, () => fixture.store.takeOverAnomalyAction(record.actionId, 2000, 5000)),
    );
    expect(takeovers.filter(Boolean)).toHaveLength(1);
    await fixture.store.completeAnomalyAction(record.actionId, []);
    expect(await fixture.store.takeOverAnomalyAction(record.actionId, 10_000, 20_000)).toBe(false);
  });

  it('stay out of the token indexes, though they name an install', async () => {
    const token = await fixture.created({ installId: 'indexed-install' });
    await fixture.store.claimAnomalyAction(
      action({ target: { kind: 'install', installId: 'indexed-install' } }),
    );
    const page = await fixture.store.listByInstall('indexed-install', 10);
    expect(page.items.map((item) => item.tokenId)).toEqual([token.tokenId]);
    const live = await fixture.store.listNonTerminal(100);
    expect(live.items.every((item) => item.tokenId.startsWith('tok_'))).toBe(true);
  });
});

describe('the anomaly cursor', () => {
  it('moves only forward, whatever order concurrent runs write it in', async () => {
    expect(await fixture.store.getAnomalyCursor()).toBeUndefined();
    await Promise.all([5, 3, 9, 1, 7].map((until) => fixture.store.advanceAnomalyCursor(until * 1000)));
    expect(await fixture.store.getAnomalyCursor()).toBe(9000);
    await fixture.store.advanceAnomalyCursor(4000);
    expect(await fixture.store.getAnomalyCursor()).toBe(9000);
  });
});
