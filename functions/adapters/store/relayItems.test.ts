/**
 * The relay's items on dynalite: the one conditional write per relayed batch, its window counters, and the
 * upstream pool's conditional puts.
 */
import { hashSecret } from '../../core/credentials';
import type { RelayCharge, StoredPool } from '../../core/ports';
import { quotaCounter } from '../../core/quota';
import { countRequests } from '../../../test/support/requestCounter';
import { useStore } from '../../../test/support/storeFixture';
import { keepBusy } from '../../../test/support/busy';
import { windowAttribute } from './relayItems';

const MINUTE = 60_000;
const DAY = 86_400_000;
const NOW = Date.parse('2031-06-15T12:00:00.000Z');
const RELAY_TOKEN = 'lfb_rt_test';

const fixture = useStore();

/** A relay token record: active, created just before NOW, expiring in 14 days. */
const relayRecord = (overrides = {}) =>
  fixture.created({
    createdAt: NOW - MINUTE,
    expiresAt: NOW + 14 * DAY,
    refreshAfter: NOW + 7 * DAY,
    upstreamId: undefined,
    relayTokenHash: hashSecret(RELAY_TOKEN),
    ...overrides,
  });

function charge(tokenId: string, overrides: Partial<RelayCharge> & { rpm?: number; bpd?: number } = {}) {
  const now = overrides.now ?? NOW;
  return fixture.store.chargeRelayUse({
    tokenId,
    relayTokenHash: hashSecret(RELAY_TOKEN),
    now,
    bytes: 100,
    minute: quotaCounter('relay:requests', tokenId, 'minute', overrides.rpm ?? 10, now),
    day: quotaCounter('relay:bytes', tokenId, 'day', overrides.bpd ?? 1_000_000, now),
    refreshedAfter: now - DAY,
    ...overrides,
  });
}

describe('Method: chargeRelayUse', () => {
  it('checks and counts a request in exactly one UpdateItem, and returns the usage', async () => {
    const { tokenId } = await relayRecord();
    const requests = countRequests(fixture.db.client);

    const first = await charge(tokenId, { bytes: 300 });
    const second = await charge(tokenId, { bytes: 200 });

    expect(requests.counts).toEqual({ UpdateItem: 2 });
    expect(second!.usage).toEqual({ requestsThisMinute: 2, bytesToday: 500 });
    expect(first!.record).toMatchObject({ relayRequestsTotal: 1, relayBytesTotal: 300, relayLastAt: NOW });
    expect(Object.keys(second!.record).some((key) => key.startsWith('relayRequests_'))).toBe(false);
  });

  it('names each counter after its UTC window', () => {
    const minute = quotaCounter('relay:requests', 't', 'minute', 1, Date.parse('2031-06-15T10:20:30Z'));
    const day = quotaCounter('relay:bytes', 't', 'day', 1, Date.parse('2031-06-15T10:20:30Z'));

    expect(windowAttribute('relayRequests_', minute)).toEqual({
      name: 'relayRequests_2031-06-15T10:20',
      previous: 'relayRequests_2031-06-15T10:19',
    });
    expect(windowAttribute('relayBytes_', day)).toEqual({
      name: 'relayBytes_2031-06-15',
      previous: 'relayBytes_2031-06-14',
    });
  });

  it('refuses the request over the per-minute limit, and counts from zero in the next minute', async () => {
    const { tokenId } = await relayRecord();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await charge(tokenId, { rpm: 3 }));

    const nextMinute = await charge(tokenId, { rpm: 3, now: NOW + MINUTE });

    expect(results.map((result) => result !== undefined)).toEqual([true, true, true, false]);
    expect(nextMinute!.usage.requestsThisMinute).toBe(1);
    // The minute before is removed by the same write.
    const item = await fixture.rawItem(tokenId);
    expect(Object.keys(item!).filter((key) => key.startsWith('relayRequests_'))).toEqual([
      'relayRequests_2031-06-15T12:01',
    ]);
  });

  it('lets a request through while the day is under its limit, counts it whole, and refuses the next', async () => {
    const { tokenId } = await relayRecord();

    const under = await charge(tokenId, { bytes: 900, bpd: 1000 });
    const crossing = await charge(tokenId, { bytes: 5000, bpd: 1000 });
    const over = await charge(tokenId, { bytes: 1, bpd: 1000 });
    const tomorrow = await charge(tokenId, { bytes: 1, bpd: 1000, now: NOW + DAY });

    expect(under!.usage.bytesToday).toBe(900);
    expect(crossing!.usage.bytesToday).toBe(5900);
    expect(over).toBeUndefined();
    expect(tomorrow!.usage.bytesToday).toBe(1);
  });

  it('refuses the next request once the day has used exactly its limit', async () => {
    const { tokenId } = await relayRecord();

    const filling = await charge(tokenId, { bytes: 1000, bpd: 1000 });
    const next = await charge(tokenId, { bytes: 1, bpd: 1000 });

    expect(filling!.usage.bytesToday).toBe(1000);
    expect(next).toBeUndefined();
    expect((await fixture.rawItem(tokenId))!.relayBytesTotal).toBe(1000);
  });

  it('refuses another relay token, and a token that is not relayable, changing nothing', async () => {
    const active = await relayRecord();
    const paused = await relayRecord({ status: 'paused' });
    const revoked = await relayRecord({ status: 'revoked' });
    const expired = await relayRecord({ expiresAt: NOW });
    const direct = await fixture.created({ expiresAt: NOW + DAY });

    const refused = await Promise.all([
      charge(active.tokenId, { relayTokenHash: hashSecret('lfb_rt_other') }),
      charge(paused.tokenId),
      charge(revoked.tokenId),
      charge(expired.tokenId),
      charge(direct.tokenId),
      charge('tok_NoSuchTokenAtAll00000000'),
    ]);

    expect(refused).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect((await fixture.rawItem(active.tokenId))!.relayRequestsTotal).toBeUndefined();
    expect(await fixture.rawItem('tok_NoSuchTokenAtAll00000000')).toBeUndefined();
  });

  it('relays for a refresh in flight, and for a refreshed token only within the rotation grace', async () => {
    const refreshing = await relayRecord({ status: 'refreshing' });
    const recent = await relayRecord({ status: 'refreshed', refreshedAt: NOW - DAY + 1 });
    const old = await relayRecord({ status: 'refreshed', refreshedAt: NOW - DAY });

    expect(await charge(refreshing.tokenId)).toBeDefined();
    expect(await charge(recent.tokenId)).toBeDefined();
    expect(await charge(old.tokenId)).toBeUndefined();
  });

  it('reports counters left by a token silent for two windows, and forgets them on request', async () => {
    const { tokenId } = await relayRecord();
    await charge(tokenId);

    const later = await charge(tokenId, { now: NOW + 5 * MINUTE });
    await fixture.store.forgetRelayWindows(tokenId, later!.staleWindows);

    expect(later!.staleWindows).toEqual(['relayRequests_2031-06-15T12:00']);
    const item = await fixture.rawItem(tokenId);
    expect(Object.keys(item!).filter((key) => key.startsWith('relayRequests_'))).toEqual([
      'relayRequests_2031-06-15T12:05',
    ]);
  });

  it('never lets 50 concurrent charges pass a bytes quota by more than one request, on a busy machine', async () => {
    const { tokenId } = await relayRecord();
    const busy = await keepBusy(30_000);
    let passed;
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, () => charge(tokenId, { bytes: 150, bpd: 1000, rpm: 1000 })),
      );
      passed = results.filter((result) => result !== undefined).length;
    } finally {
      await busy.stop();
    }

    // Six requests of 150 bytes leave the day under 1000; the seventh passes and crosses it; no more.
    expect(passed).toBe(7);
    const state = await fixture.store.getRelayState(tokenId, {
      minute: quotaCounter('relay:requests', tokenId, 'minute', 1000, NOW),
      day: quotaCounter('relay:bytes', tokenId, 'day', 1000, NOW),
    });
    expect(state!.usage.bytesToday).toBe(1050);
  }, 60_000);
});

describe('Method: getRelayState', () => {
  it('reads the record and its usage in the given windows, with one GetItem', async () => {
    const { tokenId } = await relayRecord();
    await charge(tokenId, { bytes: 42 });
    const requests = countRequests(fixture.db.client);

    const state = await fixture.store.getRelayState(tokenId, {
      minute: quotaCounter('relay:requests', tokenId, 'minute', 10, NOW),
      day: quotaCounter('relay:bytes', tokenId, 'day', 10, NOW),
    });

    expect(requests.counts).toEqual({ GetItem: 1 });
    expect(state).toMatchObject({ record: { tokenId }, usage: { requestsThisMinute: 1, bytesToday: 42 } });
  });
});

describe('Methods: getUpstreamPool, putUpstreamPool', () => {
  const pool = (version: number, upstreamId = `up-${version}`): StoredPool => ({
    version,
    current: { sealed: `sealed-${version}`, upstreamId, createdAt: NOW, expiresAt: NOW + DAY },
    updatedAt: NOW,
  });

  it('creates the pool once when several relays race to create it', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => fixture.store.putUpstreamPool(pool(1, `up-${n}`))),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await fixture.store.getUpstreamPool();
    expect(stored!.version).toBe(1);
  });

  it('replaces the pool only at the version it was read at', async () => {
    const stored = (await fixture.store.getUpstreamPool())!;

    const first = await fixture.store.putUpstreamPool(pool(stored.version + 1, 'up-next'), stored.version);
    const stale = await fixture.store.putUpstreamPool(pool(stored.version + 1, 'up-late'), stored.version);

    expect([first, stale]).toEqual([true, false]);
    expect((await fixture.store.getUpstreamPool())!.current.upstreamId).toBe('up-next');
  });

  it('counts the current pool token as recorded, so reconciliation never deletes it', async () => {
    const stored = (await fixture.store.getUpstreamPool())!;

    expect(await fixture.store.isUpstreamTokenRecorded(stored.current.upstreamId!)).toBe(true);
  });
});
