/**
 * Pause, resume and revoke as admin operations (R3): by token, by install, in bulk by filter, in direct
 * (API-key) and user-token mode, and against concurrent refreshes.
 */
import type { IssuedToken } from './contract';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { ADMIN, DAY, HOUR, lifecycleKit } from '../../test/support/lifecycle';
import { changeInstall, changeMatching, pauseToken, resumeToken, revokeToken, type BulkPage } from './admin';
import { UPSTREAM_LIVES_ON } from './audit';
import { InvalidRequest } from './errors';
import { LIVE_STATUSES } from './model';
import { runSweep } from './sweep';

describe('admin operations, direct mode (API key)', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  beforeEach(async () => {
    broker = await startTestBroker();
    kit = lifecycleKit(broker);
  });
  afterEach(() => broker.close());

  describe('Function: pauseToken / resumeToken', () => {
    it('pause deletes the upstream token; resume makes the next heartbeat answer rotate', async () => {
      const token = await kit.mint();
      const record = await kit.record(token.tokenId);
      const paused = await pauseToken(broker.deps, token.tokenId, { ...ADMIN, sourceIp: '192.0.2.1' });
      expect(paused).toMatchObject({
        outcome: 'changed',
        status: 'paused',
        upstream: 'deleted',
        upstreamStillValid: false,
      });
      expect(kit.upstreamLive(record)).toBe(false);
      expect(await kit.heartbeat(token)).toBe('paused');
      expect((await kit.refresh(token)).status).toBe(403);
      expect((await pauseToken(broker.deps, token.tokenId, ADMIN)).outcome).toBe('unchanged');

      const resumed = await resumeToken(broker.deps, token.tokenId, ADMIN);
      expect(resumed).toMatchObject({ outcome: 'changed', status: 'rotate' });
      expect(await kit.heartbeat(token)).toBe('rotate');
      const { status, token: next } = await kit.refresh(token);
      expect(status).toBe(200);
      expect(await kit.heartbeat(next!)).toBe('active');
      expect(broker.logfire.tokens.map((t) => t.token)).toEqual([next!.writeToken]);

      const entries = await kit.audit(token.tokenId);
      expect(entries.find((e) => e.action === 'token.paused')).toMatchObject({
        actor: ADMIN.actor,
        reason: ADMIN.reason,
        sourceIp: '192.0.2.1',
        details: { previousStatus: 'active', upstreamStillValid: false },
      });
      expect(entries.map((e) => e.action)).toEqual(
        expect.arrayContaining(['token.paused', 'upstream.deleted', 'token.resumed']),
      );
    });

    it('follows a token refreshed meanwhile to its live successor', async () => {
      const first = await kit.mint();
      const second = (await kit.refresh(first)).token!;
      const result = await pauseToken(broker.deps, first.tokenId, ADMIN);
      expect(result).toMatchObject({
        requestedTokenId: first.tokenId,
        tokenId: second.tokenId,
        outcome: 'changed',
      });
      expect(await kit.heartbeat(second)).toBe('paused');
    });

    it('answers not_found and not_applicable without changing anything', async () => {
      expect((await pauseToken(broker.deps, 'tok_AAAAAAAAAAAAAAAAAAAAAA', ADMIN)).outcome).toBe('not_found');
      const token = await kit.mint();
      await revokeToken(broker.deps, token.tokenId, ADMIN);
      expect(await pauseToken(broker.deps, token.tokenId, ADMIN)).toMatchObject({
        outcome: 'not_applicable',
        status: 'revoked',
      });
      expect((await revokeToken(broker.deps, token.tokenId, ADMIN)).outcome).toBe('unchanged');
    });

    it('refuses an operation without a reason', async () => {
      const token = await kit.mint();
      await expect(pauseToken(broker.deps, token.tokenId, { ...ADMIN, reason: ' ' })).rejects.toThrow(
        InvalidRequest,
      );
    });
  });

  describe('Function: revokeToken', () => {
    it('revokes, deletes the upstream token, and heartbeats answer revoked', async () => {
      const token = await kit.mint();
      expect(await revokeToken(broker.deps, token.tokenId, ADMIN)).toMatchObject({
        outcome: 'changed',
        status: 'revoked',
        upstream: 'deleted',
      });
      expect(broker.logfire.tokens).toHaveLength(0);
      expect(await kit.heartbeat(token)).toBe('revoked');
      expect(await kit.rawItem(token.tokenId)).not.toHaveProperty('gsiDeleteAt');
    });
  });

  describe('Function: changeInstall', () => {
    it('revokes every live token of one install, page by page with a cursor', async () => {
      const mine = [];
      for (let i = 0; i < 3; i++) {
        mine.push(await kit.mint({ installId: 'install-target-01' }));
        broker.clock.advance(HOUR);
      }
      const other = await kit.mint({ installId: 'install-other-001' });
      const pages = await allPages((cursor) =>
        changeInstall(broker.deps, 'revoke', 'install-target-01', ADMIN, { cursor, pageSize: 2 }),
      );
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.reduce((n, page) => n + page.changed, 0)).toBe(3);
      for (const token of mine) expect(await kit.heartbeat(token)).toBe('revoked');
      expect(await kit.heartbeat(other)).toBe('active');
    });
  });

  describe('Function: changeMatching', () => {
    let tokens: Array<{ token: IssuedToken; version: string; ip: string; createdAt: number }>;
    beforeEach(async () => {
      tokens = [];
      const versions = ['1.0.0', '1.2.0', '1.2.5', '1.3.9', '1.4.0', '1.10.0', '1.3.0-beta.1', '2.0.0'];
      for (const [i, version] of versions.entries()) {
        const ip = i % 2 === 0 ? `203.0.113.${10 + i}` : `2001:db8::${i + 1}`;
        const createdAt = broker.clock.now();
        tokens.push({ token: await kit.mint({ version, sourceIp: ip }), version, ip, createdAt });
        broker.clock.advance(HOUR);
      }
    });
    const revokedVersions = async () => {
      const statuses = await Promise.all(tokens.map(({ token }) => kit.heartbeat(token)));
      return tokens.filter((_, i) => statuses[i] === 'revoked').map((t) => t.version);
    };

    it('revokes by app version range across pages', async () => {
      const pages = await allPages((cursor) =>
        changeMatching(broker.deps, 'revoke', { appVersion: '>=1.2.0 <1.4.0' }, ADMIN, {
          cursor,
          pageSize: 3,
        }),
      );
      expect(pages.length).toBeGreaterThan(2);
      expect((await revokedVersions()).sort()).toEqual(['1.2.0', '1.2.5', '1.3.0-beta.1', '1.3.9']);
      // A second pass finds nothing left to change: bulk operations are idempotent.
      const again = await allPages((cursor) =>
        changeMatching(broker.deps, 'revoke', { appVersion: { min: '1.2.0', max: '1.4.0' } }, ADMIN, {
          cursor,
        }),
      );
      expect(again.reduce((n, page) => n + page.changed, 0)).toBe(0);
    });

    it('pauses by source CIDR (IPv4 and IPv6) and revokes by creation time', async () => {
      await allPages((cursor) =>
        changeMatching(broker.deps, 'pause', { sourceCidr: ['203.0.113.0/28'] }, ADMIN, {
          cursor,
          pageSize: 2,
        }),
      );
      const statuses = await Promise.all(tokens.map(({ token }) => kit.heartbeat(token)));
      expect(tokens.filter((_, i) => statuses[i] === 'paused').map((t) => t.ip)).toEqual([
        '203.0.113.10',
        '203.0.113.12',
        '203.0.113.14',
      ]);
      await allPages((cursor) =>
        changeMatching(broker.deps, 'pause', { sourceCidr: '2001:db8::/64', appVersion: '<1.4' }, ADMIN, {
          cursor,
        }),
      );
      expect(await kit.heartbeat(tokens[1]!.token)).toBe('paused');
      expect(await kit.heartbeat(tokens[5]!.token)).toBe('active');

      const createdAt = { from: tokens[5]!.createdAt, to: tokens[7]!.createdAt };
      await allPages((cursor) =>
        changeMatching(broker.deps, 'revoke', { createdAt }, ADMIN, { cursor, pageSize: 2 }),
      );
      expect((await revokedVersions()).sort()).toEqual(['1.10.0', '1.3.0-beta.1']);
    });

    it('refuses a filter that would match everything, or cannot be read', async () => {
      for (const filter of [{}, { sourceCidr: '203.0.113.0/33' }, { appVersion: '>=banana' }]) {
        await expect(changeMatching(broker.deps, 'revoke', filter, ADMIN)).rejects.toThrow(InvalidRequest);
      }
    });
  });

  describe('concurrent pause and refresh of one token', () => {
    const later = (ms: number) =>
      ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
    it.each([
      ['together', 0, 0],
      ['pauses first', 0, 1],
      ['refreshes first', 1, 0],
    ])('ends in one consistent state (%s)', async (_name, pauseDelay, refreshDelay) => {
      const token = await kit.mint();
      await Promise.all([
        ...Array.from({ length: 10 }, (_, i) =>
          later((i + 1) * pauseDelay * 3).then(() => pauseToken(broker.deps, token.tokenId, ADMIN)),
        ),
        ...Array.from({ length: 10 }, (_, i) =>
          later((i + 1) * refreshDelay * 3).then(() => kit.refresh(token)),
        ),
      ]);
      const chainInvariant = async () => {
        const chain = (await broker.store.listByChain(token.tokenId, 100)).items;
        const live = chain.filter((r) => LIVE_STATUSES.includes(r.status));
        // At most one live token in the chain, and none that a client may use has lost its write token.
        expect(live.length).toBeLessThanOrEqual(1);
        for (const r of live.filter((r) => r.status !== 'paused')) expect(kit.upstreamLive(r)).toBe(true);
        // Only reuse detection revokes here, and it revokes the whole chain at once.
        if (chain.some((r) => r.status === 'revoked')) expect(live).toEqual([]);
        return { chain, live };
      };
      await chainInvariant();

      broker.clock.advance(2 * DAY); // past the rotation grace: the sweep deletes every withdrawn upstream token
      expect((await runSweep(broker.deps)).done).toBe(true);
      const { chain, live } = await chainInvariant();
      expect(chain.filter((r) => r.status === 'refreshing' || r.status === 'refreshed')).toEqual([]);
      // Logfire holds exactly the write token of the usable token, if there is one.
      const usable = live.filter((r) => r.status === 'active' || r.status === 'rotate');
      expect(broker.logfire.tokens.map((t) => t.id).sort()).toEqual(usable.map((r) => r.upstreamId).sort());
      // The ends the race may reach: paused (a pause won), or one successor that every refresh with the
      // one secret got (the refresh grace), its predecessor superseded, and that successor paused if a
      // pause came after (a pause follows the chain). Never the chain revoked: duplicates within the grace
      // are not theft.
      const ends = chain.map((r) => r.status).sort();
      expect([['paused'], ['active', 'superseded'], ['paused', 'superseded']]).toContainEqual(ends);
    });
  });
});

describe('admin operations, user-token mode', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  beforeEach(async () => {
    broker = await startTestBroker({ mode: 'user-token' });
    kit = lifecycleKit(broker);
  });
  afterEach(() => broker.close());

  it('revokes without calling Logfire, and the audit says the upstream token lives on', async () => {
    const token = await kit.mint();
    const calls = broker.logfire.requests.length;
    const result = await revokeToken(broker.deps, token.tokenId, ADMIN);
    expect(result).toMatchObject({ outcome: 'changed', upstream: 'not_revocable', upstreamStillValid: true });
    expect(broker.logfire.requests).toHaveLength(calls);
    expect(await kit.heartbeat(token)).toBe('revoked');
    const entries = await kit.audit(token.tokenId);
    expect(entries.find((e) => e.action === 'upstream.not_revocable')).toMatchObject({
      actor: ADMIN.actor,
      reason: UPSTREAM_LIVES_ON,
    });
    expect(entries.find((e) => e.action === 'token.revoked')).toMatchObject({
      details: { upstreamStillValid: true, note: UPSTREAM_LIVES_ON },
    });
  });

  it('pauses and resumes to active, saying the paused write token still works', async () => {
    const token = await kit.mint();
    expect(await pauseToken(broker.deps, token.tokenId, ADMIN)).toMatchObject({ upstreamStillValid: true });
    expect(await kit.heartbeat(token)).toBe('paused');
    expect(await resumeToken(broker.deps, token.tokenId, ADMIN)).toMatchObject({ status: 'active' });
    expect(await kit.heartbeat(token)).toBe('active');
  });

  it('sweeps without calling Logfire: a replaced token stays refreshed, its upstream token alive', async () => {
    const first = await kit.mint();
    await kit.refresh(first);
    broker.clock.advance(2 * DAY);
    const calls = broker.logfire.requests.length;
    expect(await runSweep(broker.deps)).toMatchObject({ upstreamDeleted: 0, done: true });
    expect(broker.logfire.requests).toHaveLength(calls);
    expect((await kit.record(first.tokenId)).status).toBe('refreshed');
  });
});

async function allPages(call: (cursor: string | undefined) => Promise<BulkPage>): Promise<BulkPage[]> {
  const pages: BulkPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(cursor);
    pages.push(page);
    cursor = page.cursor;
  } while (cursor && pages.length < 100);
  return pages;
}
