import { useStore } from '../../../test/support/storeFixture';
import { ATTR } from './tables';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;

const fixture = useStore();
const { rawItem, created } = fixture;

describe('Method: markForRotation', () => {
  it('marks a due active token rotate and takes it out of the rotation index', async () => {
    const record = await created();
    expect(await fixture.store.markForRotation(record.tokenId, record.refreshAfter)).toBe(true);
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({ status: 'rotate', [ATTR.seenAt]: record.createdAt });
    expect(item).not.toHaveProperty(ATTR.rotateAt);
  });

  it.each([
    ['not yet due', {}, T0 + DAY],
    ['paused', { status: 'paused' as const }, T0 + 8 * DAY],
    ['expired', {}, T0 + 14 * DAY],
  ])('leaves a token that is %s', async (_name, overrides, now) => {
    const record = await created(overrides);
    expect(await fixture.store.markForRotation(record.tokenId, now)).toBe(false);
    expect((await fixture.store.getToken(record.tokenId))?.status).toBe(record.status);
  });
});

describe('Method: pauseToken / resumeToken', () => {
  it('pauses an active token (out of the rotation index, still in the stale one) and resumes it', async () => {
    const record = await created();
    expect((await fixture.store.pauseToken(record.tokenId, 'admin', T0 + 1))?.status).toBe('active');
    let item = await rawItem(record.tokenId);
    expect(item).toMatchObject({ status: 'paused', statusReason: 'admin', [ATTR.seenAt]: record.createdAt });
    expect(item).not.toHaveProperty(ATTR.rotateAt);

    expect((await fixture.store.resumeToken(record.tokenId, T0 + 2))?.status).toBe('active');
    item = await rawItem(record.tokenId);
    expect(item).toMatchObject({ status: 'active', [ATTR.rotateAt]: record.refreshAfter });
    expect(item).not.toHaveProperty('statusReason');
  });

  it('neither pauses a revoked token nor resumes an active one', async () => {
    const revoked = await created({ status: 'revoked' });
    expect(await fixture.store.pauseToken(revoked.tokenId, 'admin', T0)).toBeUndefined();
    const active = await created();
    expect(await fixture.store.resumeToken(active.tokenId, T0)).toBeUndefined();
  });
});

describe('Method: expireToken', () => {
  it('expires a non-terminal token past expiresAt and removes its lifecycle index entries', async () => {
    const record = await created();
    expect(await fixture.store.expireToken(record.tokenId, T0 + DAY)).toBeUndefined();
    expect((await fixture.store.expireToken(record.tokenId, record.expiresAt))?.status).toBe('active');
    const item = await rawItem(record.tokenId);
    expect(item?.status).toBe('expired');
    for (const name of [ATTR.rotateAt, ATTR.seenAt, ATTR.expireAt]) expect(item).not.toHaveProperty(name);
  });

  it('leaves a revoked token revoked', async () => {
    const record = await created({ status: 'revoked' });
    expect(await fixture.store.expireToken(record.tokenId, record.expiresAt + 1)).toBeUndefined();
  });
});

describe('Method: deferUpstreamDeletion / markUpstreamDeleted', () => {
  it('retries later with a counted attempt, then supersedes a refreshed token and leaves the queue', async () => {
    const record = await created();
    await fixture.store.claimForRefresh(record.tokenId, record.secretHash, T0, {
      successorId: 'tok_next',
      leaseMs: 30_000,
    });
    await fixture.store.completeRefresh(record.tokenId, 'tok_next', T0, { sealedSuccessor: 'sealed' });
    expect(await fixture.store.deferUpstreamDeletion(record.tokenId, T0 + 60_000)).toBe(true);
    expect(await rawItem(record.tokenId)).toMatchObject({
      [ATTR.deleteAt]: T0 + 60_000,
      [ATTR.deleteAttempts]: 1,
    });

    expect(await fixture.store.markUpstreamDeleted(record.tokenId, T0 + 60_001)).toBe(true);
    const item = await rawItem(record.tokenId);
    expect(item?.status).toBe('superseded');
    for (const name of [ATTR.deleteAt, ATTR.deleteAttempts, ATTR.expireAt])
      expect(item).not.toHaveProperty(name);
  });

  it('keeps a revoked token revoked when its upstream token is gone', async () => {
    const record = await created();
    await fixture.store.revokeToken(record.tokenId, 'admin', T0);
    expect(await fixture.store.markUpstreamDeleted(record.tokenId, T0 + 1)).toBe(true);
    const item = await rawItem(record.tokenId);
    expect(item?.status).toBe('revoked');
    expect(item).not.toHaveProperty(ATTR.deleteAt);
  });

  it('reports false for a token that is not queued', async () => {
    const record = await created();
    expect(await fixture.store.deferUpstreamDeletion(record.tokenId, T0)).toBe(false);
    expect(await fixture.store.markUpstreamDeleted(record.tokenId, T0)).toBe(false);
  });
});
