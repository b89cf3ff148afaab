/**
 * The store writes and queries added for the lifecycle jobs and admin operations (issue #4): reclaim,
 * pause that queues the upstream deletion, resume to `rotate`, the non-terminal listing, and the notes of
 * chain revocations in progress.
 */
import { useStore } from '../../../test/support/storeFixture';
import { ATTR } from './tables';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;

const fixture = useStore();
const { rawItem, created } = fixture;

describe('Method: reclaimToken', () => {
  it('expires a silent live token with a reason and queues its upstream deletion in the same write', async () => {
    const record = await created({ lastHeartbeatAt: T0 + DAY });
    const before = await fixture.store.reclaimToken(record.tokenId, T0 + 2 * DAY, 'silent', T0 + 3 * DAY);
    expect(before?.status).toBe('active');
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({ status: 'expired', statusReason: 'silent', [ATTR.deleteAt]: T0 + 3 * DAY });
    for (const name of [ATTR.rotateAt, ATTR.seenAt, ATTR.expireAt]) expect(item).not.toHaveProperty(name);
  });

  it('keeps a token whose heartbeat landed after the listing, and leaves an overdue one to expiry', async () => {
    const seen = await created({ lastHeartbeatAt: T0 + 3 * DAY });
    expect(
      await fixture.store.reclaimToken(seen.tokenId, T0 + 2 * DAY, 'silent', T0 + 3 * DAY),
    ).toBeUndefined();
    const overdue = await created();
    expect(
      await fixture.store.reclaimToken(overdue.tokenId, T0 + DAY, 'silent', T0 + 15 * DAY),
    ).toBeUndefined();
    const revoked = await created({ status: 'revoked' });
    expect(
      await fixture.store.reclaimToken(revoked.tokenId, T0 + DAY, 'silent', T0 + 2 * DAY),
    ).toBeUndefined();
  });
});

describe('Method: pauseToken / resumeToken (direct mode)', () => {
  it('queues the upstream deletion with the pause, and resumes to rotate outside the rotation index', async () => {
    const record = await created();
    await fixture.store.pauseToken(record.tokenId, 'hold', T0 + 1, { queueUpstreamDeletion: true });
    expect(await rawItem(record.tokenId)).toMatchObject({ status: 'paused', [ATTR.deleteAt]: T0 + 1 });
    const { items } = await fixture.store.listPendingUpstreamDeletions(T0 + 1, 100);
    expect(items.map((i) => i.tokenId)).toContain(record.tokenId);

    expect((await fixture.store.resumeToken(record.tokenId, T0 + 2, 'rotate'))?.status).toBe('rotate');
    const item = await rawItem(record.tokenId);
    expect(item).toMatchObject({ status: 'rotate', [ATTR.seenAt]: record.createdAt });
    expect(item).not.toHaveProperty(ATTR.rotateAt);
  });
});

describe('Method: listNonTerminal', () => {
  it('pages through every non-terminal record, whatever its status, and no terminal one', async () => {
    const fresh = await Promise.all(
      (['active', 'paused', 'rotate', 'refreshed', 'revoked', 'expired'] as const).map((status) =>
        created({ status, installId: 'install-nonterminal' }),
      ),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await fixture.store.listNonTerminal(2, cursor);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.tokenId));
      cursor = page.cursor;
    } while (cursor);
    const mine = fresh.filter((r) => seen.includes(r.tokenId)).map((r) => r.status);
    expect(mine.sort()).toEqual(['active', 'paused', 'refreshed', 'rotate']);
  });
});

describe('Method: queueChainRevocation / listChainRevocations / finishChainRevocation', () => {
  it('lists a queued chain, keeps it when re-queued meanwhile, and drops it when finished', async () => {
    await fixture.store.queueChainRevocation('tok_chainA', T0);
    let pending = (await fixture.store.listChainRevocations(10)).items;
    expect(pending).toContainEqual({ chainId: 'tok_chainA', queuedAt: T0 });

    await fixture.store.queueChainRevocation('tok_chainA', T0 + 5);
    await fixture.store.finishChainRevocation('tok_chainA', T0); // a stale finish: the newer note stays
    pending = (await fixture.store.listChainRevocations(10)).items;
    expect(pending).toContainEqual({ chainId: 'tok_chainA', queuedAt: T0 + 5 });

    await fixture.store.finishChainRevocation('tok_chainA', T0 + 5);
    expect((await fixture.store.listChainRevocations(10)).items.map((p) => p.chainId)).not.toContain(
      'tok_chainA',
    );
  });

  it('never shows a note among the members of a chain', async () => {
    const record = await created();
    await fixture.store.queueChainRevocation(record.chainId, T0);
    expect((await fixture.store.listByChain(record.chainId, 10)).items.map((r) => r.tokenId)).toEqual([
      record.tokenId,
    ]);
  });
});
