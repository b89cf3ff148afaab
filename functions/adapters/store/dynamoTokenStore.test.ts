import { AlreadyExists } from '../../core/ports';
import { useStore } from '../../../test/support/storeFixture';
import { countRequests } from '../../../test/support/requestCounter';
import { RefreshConflict } from './dynamoTokenStore';
import { ATTR } from './tables';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;
const CLAIM = { successorId: 'tok_next', leaseMs: 30_000 };
const SEALED = { sealedSuccessor: 'sealed' };

const fixture = useStore();
const { rawItem, created } = fixture;

describe('Method: createToken', () => {
  it('stores the record and reads it back without internal attributes', async () => {
    const record = await created({ metadata: { team: 'cli' }, userAgent: undefined });
    expect(await fixture.store.getToken(record.tokenId)).toEqual(record);
  });

  it('adds the index attributes an active token needs, and a TTL in epoch seconds', async () => {
    const record = await created();
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({
      [ATTR.rotateAt]: record.refreshAfter,
      [ATTR.seenAt]: record.createdAt,
      [ATTR.expireAt]: record.expiresAt,
      [ATTR.deleteShard]: item?.[ATTR.shard],
      [ATTR.ttl]: Math.ceil((record.expiresAt + 30 * DAY) / 1000),
    });
    expect(item).not.toHaveProperty(ATTR.deleteAt);
  });

  it('does not queue tokens without an upstreamId for deletion (user-token mode)', async () => {
    const record = await created({ upstreamId: undefined, upstreamKind: 'user-token' });
    expect(await rawItem(record.tokenId)).not.toHaveProperty(ATTR.deleteShard);
  });

  it('throws AlreadyExists when the id is taken, and keeps the first record', async () => {
    const record = await created();
    await expect(fixture.store.createToken({ ...record, installId: 'other' })).rejects.toBeInstanceOf(
      AlreadyExists,
    );
    expect((await fixture.store.getToken(record.tokenId))?.installId).toBe('install-1');
  });
});

describe('Method: getToken', () => {
  it('returns undefined for an unknown id', async () => {
    expect(await fixture.store.getToken('tok_unknown')).toBeUndefined();
  });
});

describe('Method: recordHeartbeat', () => {
  it('records the time and moves the token in the stale index, in exactly one request', async () => {
    const record = await created();
    const requests = countRequests(fixture.db.client);
    const updated = await fixture.store.recordHeartbeat(record.tokenId, record.secretHash, T0 + DAY);
    expect(requests.counts).toEqual({ UpdateItem: 1 });
    expect(updated).toEqual({ record: { ...record, lastHeartbeatAt: T0 + DAY } });
    expect((await rawItem(record.tokenId))?.[ATTR.seenAt]).toBe(T0 + DAY);
  });

  it('counts heartbeats per hour in the same request, and forgets the hours before', async () => {
    const record = await created();
    const hour = Math.floor(T0 / 3_600_000) * 3_600_000;
    const beat = (at: number) =>
      fixture.store.recordHeartbeat(record.tokenId, record.secretHash, at, { countHour: true });
    const requests = countRequests(fixture.db.client);
    expect((await beat(hour + 1))?.beatsThisHour).toBe(1);
    expect((await beat(hour + 2))?.beatsThisHour).toBe(2);
    expect(requests.counts).toEqual({ UpdateItem: 2 });
    expect((await beat(hour + 3_600_000))?.beatsThisHour).toBe(1);
    const item = await rawItem(record.tokenId);
    expect(Object.keys(item!).filter((name) => name.startsWith('hq'))).toEqual([`hq${hour / 3_600_000 + 1}`]);
    // The counters stay the store's own: the record has none.
    expect(await fixture.store.getToken(record.tokenId)).not.toHaveProperty(`hq${hour / 3_600_000 + 1}`);
  });

  it.each(['paused', 'rotate', 'revoked'] as const)(
    'accepts a %s token and reports its status',
    async (status) => {
      const record = await created({ status });
      expect(
        (await fixture.store.recordHeartbeat(record.tokenId, record.secretHash, T0 + 1))?.record.status,
      ).toBe(status);
    },
  );

  it('returns undefined and changes nothing for a wrong secret hash', async () => {
    const record = await created();
    const before = await rawItem(record.tokenId);
    expect(await fixture.store.recordHeartbeat(record.tokenId, 'wrong', T0 + 1)).toBeUndefined();
    expect(await rawItem(record.tokenId)).toEqual(before);
  });

  it('returns undefined for an expired token even while its status still says active', async () => {
    const record = await created();
    expect(
      await fixture.store.recordHeartbeat(record.tokenId, record.secretHash, record.expiresAt),
    ).toBeUndefined();
  });

  it.each(['refreshing', 'refreshed', 'superseded', 'expired'] as const)(
    'returns undefined for a token in status %s',
    async (status) => {
      const record = await created({ status });
      expect(await fixture.store.recordHeartbeat(record.tokenId, record.secretHash, T0 + 1)).toBeUndefined();
    },
  );

  it('returns undefined for an unknown id and creates no item', async () => {
    expect(await fixture.store.recordHeartbeat('tok_ghost', 'hash', T0)).toBeUndefined();
    expect(await rawItem('tok_ghost')).toBeUndefined();
  });
});

describe('Method: claimForRefresh', () => {
  it('moves an active token to refreshing, returns it as it was, and leaves the rotation and stale indexes', async () => {
    const record = await created();
    expect(await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0 + 5, CLAIM)).toEqual(
      record,
    );
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({
      status: 'refreshing',
      updatedAt: T0 + 5,
      refreshSuccessorId: CLAIM.successorId,
      refreshLeaseUntil: T0 + 5 + CLAIM.leaseMs,
      refreshFrom: 'active',
      [ATTR.expireAt]: record.expiresAt,
    });
    expect(item).not.toHaveProperty(ATTR.rotateAt);
    expect(item).not.toHaveProperty(ATTR.seenAt);
  });

  it('claims a token marked rotate', async () => {
    const record = await created({ status: 'rotate' });
    expect((await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM))?.status).toBe(
      'rotate',
    );
  });

  it.each([
    ['a wrong secret hash', {}, 'wrong', T0],
    ['a paused token', { status: 'paused' as const }, undefined, T0],
    ['an expired token', {}, undefined, T0 + 14 * DAY],
  ])('returns undefined and changes nothing for %s', async (_name, overrides, hash, now) => {
    const record = await created(overrides);
    const before = await rawItem(record.tokenId);
    expect(
      await fixture.store.claimForRefresh(record.tokenId, hash ?? record.secretHash, now, CLAIM),
    ).toBeUndefined();
    expect(await rawItem(record.tokenId)).toEqual(before);
  });

  it('lets only the first of two claims win while its lease lasts', async () => {
    const record = await created();
    expect(await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM)).toBeDefined();
    expect(
      await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0 + CLAIM.leaseMs - 1, {
        successorId: 'tok_other',
        leaseMs: CLAIM.leaseMs,
      }),
    ).toBeUndefined();
  });

  it('lets a refresh take over a claim whose lease ran out, keeping the status the first claim started from', async () => {
    const record = await created({ status: 'rotate' });
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM);
    const taken = await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0 + CLAIM.leaseMs, {
      successorId: 'tok_takeover',
      leaseMs: CLAIM.leaseMs,
    });
    expect(taken).toMatchObject({ status: 'refreshing', refreshSuccessorId: CLAIM.successorId });
    expect(await rawItem(record.tokenId)).toMatchObject({
      refreshSuccessorId: 'tok_takeover',
      refreshFrom: 'rotate',
    });
    // The dead attempt can no longer complete.
    await expect(
      fixture.store.completeRefresh(record.tokenId, CLAIM.successorId, T0 + CLAIM.leaseMs + 1, SEALED),
    ).rejects.toBeInstanceOf(RefreshConflict);
  });
});

describe('Method: releaseRefreshClaim', () => {
  it('restores an active token with its rotation and stale index entries', async () => {
    const record = await created({ lastHeartbeatAt: T0 + 100 });
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0 + 200, CLAIM);
    await fixture.store.releaseRefreshClaim(
      record.tokenId,
      { successorId: CLAIM.successorId, from: 'active' },
      T0 + 300,
    );
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({
      status: 'active',
      updatedAt: T0 + 300,
      [ATTR.rotateAt]: record.refreshAfter,
      [ATTR.seenAt]: T0 + 100,
    });
    expect(item).not.toHaveProperty('refreshSuccessorId');
    expect(item).not.toHaveProperty('refreshLeaseUntil');
  });

  it('restores a rotate token without a rotation entry, stale entry from createdAt', async () => {
    const record = await created({ status: 'rotate' });
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM);
    await fixture.store.releaseRefreshClaim(
      record.tokenId,
      { successorId: CLAIM.successorId, from: 'rotate' },
      T0 + 1,
    );
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({ status: 'rotate', [ATTR.seenAt]: record.createdAt });
    expect(item).not.toHaveProperty(ATTR.rotateAt);
  });

  it('does nothing when the token is no longer refreshing', async () => {
    const record = await created({ status: 'revoked' });
    await fixture.store.releaseRefreshClaim(
      record.tokenId,
      { successorId: CLAIM.successorId, from: 'active' },
      T0,
    );
    expect((await fixture.store.getToken(record.tokenId))?.status).toBe('revoked');
  });

  it('does nothing when another refresh took the claim over', async () => {
    const record = await created();
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM);
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0 + CLAIM.leaseMs, {
      successorId: 'tok_takeover',
      leaseMs: CLAIM.leaseMs,
    });
    await fixture.store.releaseRefreshClaim(
      record.tokenId,
      { successorId: CLAIM.successorId, from: 'active' },
      T0,
    );
    expect(await rawItem(record.tokenId)).toMatchObject({
      status: 'refreshing',
      refreshSuccessorId: 'tok_takeover',
    });
  });

  it('refuses a previous status a refresh cannot start from', async () => {
    await expect(
      fixture.store.releaseRefreshClaim('tok_x', { successorId: 'tok_y', from: 'paused' }, T0),
    ).rejects.toThrow(/not a status/);
  });
});

describe('Method: completeRefresh', () => {
  it('marks the token refreshed, keeps the sealed successor and queues the upstream deletion after the grace', async () => {
    const record = await created();
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM);
    await fixture.store.completeRefresh(record.tokenId, CLAIM.successorId, T0 + 10, {
      graceMs: 60_000,
      sealedSuccessor: 'sealed-successor',
    });
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({
      status: 'refreshed',
      successorId: CLAIM.successorId,
      refreshedAt: T0 + 10,
      sealedSuccessor: 'sealed-successor',
      [ATTR.deleteAt]: T0 + 60_010,
    });
    expect(item).not.toHaveProperty('refreshLeaseUntil');
    expect(await fixture.store.recordHeartbeat(record.tokenId, record.secretHash, T0 + 20)).toBeUndefined();
  });

  it('throws RefreshConflict when the token was revoked during the refresh, and drops nothing sealed there', async () => {
    const record = await created();
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM);
    await fixture.store.revokeToken(record.tokenId, 'admin', T0 + 1);
    await expect(
      fixture.store.completeRefresh(record.tokenId, CLAIM.successorId, T0 + 2, SEALED),
    ).rejects.toBeInstanceOf(RefreshConflict);
    const item = await rawItem(record.tokenId);
    expect(item?.status).toBe('revoked');
    expect(item).not.toHaveProperty('sealedSuccessor');
  });

  it('forgets the sealed successor once the token is revoked or superseded', async () => {
    for (const end of ['revoke', 'supersede'] as const) {
      const record = await created({ upstreamId: `up-${end}` });
      await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, CLAIM);
      await fixture.store.completeRefresh(record.tokenId, CLAIM.successorId, T0 + 1, SEALED);
      if (end === 'revoke') await fixture.store.revokeToken(record.tokenId, 'reuse', T0 + 2);
      else await fixture.store.markUpstreamDeleted(record.tokenId, T0 + 2);
      expect(await rawItem(record.tokenId)).not.toHaveProperty('sealedSuccessor');
    }
  });
});

describe('Method: revokeToken', () => {
  it('revokes a live token, returns it as it was, leaves every lifecycle index and queues the deletion', async () => {
    const record = await created();
    expect(await fixture.store.revokeToken(record.tokenId, 'admin: leaked', T0 + 7)).toEqual(record);
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({ status: 'revoked', statusReason: 'admin: leaked', [ATTR.deleteAt]: T0 + 7 });
    for (const name of [ATTR.rotateAt, ATTR.seenAt, ATTR.expireAt]) expect(item).not.toHaveProperty(name);
  });

  it.each(['paused', 'rotate', 'refreshing', 'refreshed'] as const)('revokes a %s token', async (status) => {
    const record = await created({ status });
    expect((await fixture.store.revokeToken(record.tokenId, 'sweep', T0))?.status).toBe(status);
  });

  it.each(['revoked', 'superseded', 'expired'] as const)(
    'leaves a token in status %s as it is',
    async (status) => {
      const record = await created({ status });
      expect(await fixture.store.revokeToken(record.tokenId, 'again', T0)).toBeUndefined();
      expect(await fixture.store.getToken(record.tokenId)).toEqual(record);
    },
  );

  it('returns undefined for an unknown id and creates no item', async () => {
    expect(await fixture.store.revokeToken('tok_nobody', 'x', T0)).toBeUndefined();
    expect(await rawItem('tok_nobody')).toBeUndefined();
  });
});
