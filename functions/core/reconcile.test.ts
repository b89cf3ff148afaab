import { mintEvent } from '../../test/support/events';
import { startTestBroker, TEST_API_KEY, type TestBroker } from '../../test/support/broker';
import type { IssuedToken } from './contract';
import { claimLeaseMs } from './deps';
import type { ListedWriteToken, MintIntent } from './ports';
import { candidatesOf, PUBLIC_API_DESCRIPTION } from './reconcile';
import { runSweep } from './sweep';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const LEASE = 30_000;
const intent: MintIntent = { tokenId: 'tok_x', startedAt: T0, expiresAt: T0 + 14 * 86_400_000 + 123 };
const listed = (overrides: Partial<ListedWriteToken> = {}): ListedWriteToken => ({
  upstreamId: 'up-1',
  description: PUBLIC_API_DESCRIPTION,
  createdAt: new Date(T0 + 200).toISOString(),
  expiresAt: new Date(intent.expiresAt).toISOString(),
  tokenPrefix: 'pylf_v1_us_abc',
  ...overrides,
});

describe('Function: candidatesOf', () => {
  it('takes a token created by the public API while the mint ran, expiring exactly when the intent asked', () => {
    expect(candidatesOf(intent, [listed()], LEASE)).toHaveLength(1);
  });

  it('still matches when Logfire lists the expiry cut to whole seconds', () => {
    const cut = new Date(Math.floor(intent.expiresAt / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    expect(candidatesOf(intent, [listed({ expiresAt: cut })], LEASE)).toHaveLength(1);
  });

  it.each([
    ['another description (made in the UI)', { description: 'my laptop' }],
    ['no expiry', { expiresAt: undefined }],
    ['an expiry a second away', { expiresAt: new Date(intent.expiresAt + 1000).toISOString() }],
    ['a creation long before the mint', { createdAt: new Date(T0 - 6 * 60_000).toISOString() }],
    ['a creation long after the mint', { createdAt: new Date(T0 + LEASE + 6 * 60_000).toISOString() }],
    ['no creation time', { createdAt: undefined }],
  ])('never takes a token with %s', (_name, overrides) => {
    expect(candidatesOf(intent, [listed(overrides)], LEASE)).toEqual([]);
  });
});

describe('Sweep: reconciling mints that a crash cut short (API-key mode)', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startTestBroker();
  });
  afterEach(() => broker.close());

  /** What a mint that dies right after Logfire's create leaves: an intent and an unrecorded token. */
  const crashAfterCreate = async (tokenId: string) => {
    const now = broker.clock.now();
    const expiresAt = now + broker.deps.settings.tokenTtlMs;
    await broker.store.recordMintIntent({ tokenId, startedAt: now, expiresAt });
    return broker.deps.upstream.createWriteToken({ expiresAt: new Date(expiresAt) });
  };
  /** The operator's own token, made through the same public API (no expiry, as Logfire's UI offers). */
  const operatorToken = async () => {
    const reply = await fetch(
      `${broker.logfire.baseUrl}/api/v1/projects/${broker.logfire.projectId}/write-tokens/`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: '{}',
      },
    );
    return ((await reply.json()) as { id: string }).id;
  };
  const mint = async () =>
    JSON.parse(
      (
        await broker.handlers.mint(
          mintEvent({ installId: 'install-0001', app: { name: 'cli', version: '1.0.0' } }),
        )
      ).body,
    ) as IssuedToken;
  const liveIds = () => broker.logfire.tokens.map((t) => t.id).sort();

  it('deletes the token a dead mint left at Logfire, and nothing else', async () => {
    // Prepare: a recorded token, the operator's own token, and two mints that died after the create.
    const recorded = await mint();
    const recordedUpstream = (await broker.store.getToken(recorded.tokenId))!.upstreamId!;
    const operators = await operatorToken();
    const orphans = [
      await crashAfterCreate('tok_Dead000000000000000001'),
      await crashAfterCreate('tok_Dead000000000000000002'),
    ];
    broker.clock.advance(claimLeaseMs(broker.deps) + 1);
    // Act
    const report = await runSweep(broker.deps);
    // Assess
    expect(report).toMatchObject({ intentsSettled: 2, orphansDeleted: 2, done: true });
    expect(liveIds()).toEqual([operators, recordedUpstream].sort());
    for (const orphan of orphans) expect(liveIds()).not.toContain(orphan.upstreamId);
    expect((await broker.store.listMintIntents(broker.clock.now() + 1, 10)).items).toEqual([]);
    // Mints in the same millisecond share a fingerprint: which intent deletes which token is arbitrary.
    const entries = [
      ...(await broker.audit.byToken('tok_Dead000000000000000001')).entries,
      ...(await broker.audit.byToken('tok_Dead000000000000000002')).entries,
    ];
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['upstream.orphan_deleted', 'system:sweep'],
      ['upstream.orphan_deleted', 'system:sweep'],
    ]);
    expect(entries.map((e) => e.details?.upstreamId).sort()).toEqual(orphans.map((o) => o.upstreamId).sort());
    // One look at Logfire's list for the whole run.
    expect(broker.logfire.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
  });

  it('deletes the extra token a create retried after a timeout left behind, and keeps the recorded one', async () => {
    // Logfire makes the first token but answers after the 2 s attempt timeout; the retry makes a second.
    broker.logfire.fault({ replyDelayMs: 2_500 });
    const minted = await mint();
    const recorded = (await broker.store.getToken(minted.tokenId))!.upstreamId!;
    expect(broker.logfire.tokens).toHaveLength(2);
    broker.clock.advance(claimLeaseMs(broker.deps) + 1);
    expect(await runSweep(broker.deps)).toMatchObject({ intentsSettled: 1, orphansDeleted: 1 });
    expect(liveIds()).toEqual([recorded]);
  }, 15_000);

  it('leaves an intent alone while its mint may still be running', async () => {
    const orphan = await crashAfterCreate('tok_StillRunning0000000001');
    broker.clock.advance(claimLeaseMs(broker.deps) - 1_000);
    expect(await runSweep(broker.deps)).toMatchObject({ intentsSettled: 0, orphansDeleted: 0 });
    expect(liveIds()).toContain(orphan.upstreamId);
  });

  it('never deletes a token a record holds, even with the same expiry as a dead mint', async () => {
    const recorded = await mint();
    const record = (await broker.store.getToken(recorded.tokenId))!;
    // A second mint in the same millisecond died: its intent's fingerprint matches the recorded token too.
    await broker.store.recordMintIntent({
      tokenId: 'tok_SameMillisecond000001',
      startedAt: record.createdAt,
      expiresAt: record.expiresAt,
    });
    broker.clock.advance(claimLeaseMs(broker.deps) + 1);
    expect(await runSweep(broker.deps)).toMatchObject({ intentsSettled: 1, orphansDeleted: 0 });
    expect(liveIds()).toContain(record.upstreamId);
  });

  it('settles the intent of a mint Logfire failed, without deleting anything, and asks Logfire nothing when no intent is due', async () => {
    broker.logfire.failNext(3, 503);
    expect(
      (
        await broker.handlers.mint(
          mintEvent({ installId: 'install-0002', app: { name: 'cli', version: '1' } }),
        )
      ).statusCode,
    ).toBe(503);
    const before = broker.logfire.requests.length;
    await runSweep(broker.deps); // not due yet
    expect(broker.logfire.requests.length).toBe(before);
    broker.clock.advance(claimLeaseMs(broker.deps) + 1);
    expect(await runSweep(broker.deps)).toMatchObject({ intentsSettled: 1, orphansDeleted: 0, done: true });
  });

  it('keeps the intent when Logfire cannot be listed or the deletion fails, and settles it on a later run', async () => {
    const orphan = await crashAfterCreate('tok_LogfireDown0000000001');
    broker.clock.advance(claimLeaseMs(broker.deps) + 1);
    broker.logfire.failNext(3, 500); // the list
    expect(await runSweep(broker.deps)).toMatchObject({ intentsSettled: 0, done: false });
    expect(liveIds()).toContain(orphan.upstreamId);
    expect(await runSweep(broker.deps)).toMatchObject({ intentsSettled: 1, orphansDeleted: 1, done: true });
    expect(liveIds()).not.toContain(orphan.upstreamId);
  });

  it('removes the intent in the same request that stores the record: a good mint leaves none', async () => {
    await mint();
    await mint();
    expect((await broker.store.listMintIntents(broker.clock.now() + 1, 10)).items).toEqual([]);
  });
});
