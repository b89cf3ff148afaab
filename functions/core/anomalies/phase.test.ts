/**
 * The anomaly phase as a part of the sweep: it reads each closed window's audit entries once (and nothing
 * else of the audit trail), looks back at most an hour, acts once per evidence even when a window is read
 * again or several sweeps overlap on a busy machine, and a rule or an action that fails neither stops the
 * other rules nor the sweep's other phases.
 */
import type { AuditEntry } from '../audit';
import type { TestBroker } from '../../../test/support/broker';
import { keepBusy } from '../../../test/support/busy';
import { lifecycleKit } from '../../../test/support/lifecycle';
import { countRequests } from '../../../test/support/requestCounter';
import {
  anomalyEntries,
  closeWindow,
  startAnomalyBroker,
  startOfNextWindow,
  statuses,
  WINDOW_MS,
} from '../../../test/support/anomalies';
import { startRun } from '../jobs';
import { runSweep } from '../sweep';
import { ACTION_LEASE_MS, anomalyActionId } from './actions';
import { runAnomalyPhase, settleMs } from './phase';

const HOUR = 3_600_000;

/** `count` mint entries at `at`, each from its own network and install: no rule fires on them. */
function harmlessMints(count: number, at: number, tag: string): AuditEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    at,
    action: 'token.minted' as const,
    actor: 'client' as const,
    tokenId: `tok_${tag}${String(i).padStart(20, '0')}`,
    installId: `install-${tag}-${i}`,
    chainId: `tok_${tag}${String(i).padStart(20, '0')}`,
    sourceIp: `10.${i % 250}.${Math.floor(i / 250)}.1`,
  }));
}

describe('the anomaly phase', () => {
  let broker: TestBroker;
  afterEach(() => broker.close());

  it('reads only the audit entries of the window that closed since the last run', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:flag' });
    startOfNextWindow(broker);
    closeWindow(broker);
    // First run: the last hour. (The phase alone: a whole sweep would add its own job.sweep entry.)
    expect((await runAnomalyPhase(broker.deps, startRun(broker.deps))).anomalyWindows).toBe(4);
    const evaluatedUntil = (await broker.store.getAnomalyCursor())!;
    // Prepare: entries in a window already evaluated, in the next one, and in the one after (still open).
    await broker.audit.append(harmlessMints(30, evaluatedUntil - 1, 'old'));
    await broker.audit.append(harmlessMints(40, evaluatedUntil + 5_000, 'new'));
    await broker.audit.append(harmlessMints(25, evaluatedUntil + WINDOW_MS + 5_000, 'open'));
    broker.clock.advance(WINDOW_MS);
    const requests = countRequests(broker.db.client);

    // Act
    const report = await runAnomalyPhase(broker.deps, startRun(broker.deps));

    // Assess: the cursor read, one Query per shard of the time index, the cursor moved; 40 entries read.
    expect(report).toEqual({
      anomalyWindows: 1,
      auditEntriesRead: 40,
      anomaliesDetected: 0,
      anomalyActions: 0,
      done: true,
    });
    expect(requests.counts).toEqual({ GetItem: 1, Query: 4, UpdateItem: 1 });
    expect(await broker.store.getAnomalyCursor()).toBe(evaluatedUntil + WINDOW_MS);
    // Nothing new has closed: one read of the cursor, nothing else.
    requests.reset();
    expect(await runAnomalyPhase(broker.deps, startRun(broker.deps))).toMatchObject({ anomalyWindows: 0 });
    expect(requests.counts).toEqual({ GetItem: 1 });
  });

  it('reads nothing at all when every rule is off', async () => {
    broker = await startAnomalyBroker({});
    const requests = countRequests(broker.db.client);
    expect(await runAnomalyPhase(broker.deps, startRun(broker.deps))).toMatchObject({ done: true });
    expect(requests.total()).toBe(0);
  });

  it('looks back one hour at most after a long pause, and says what it skipped', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:flag' });
    closeWindow(broker);
    await runSweep(broker.deps);
    broker.clock.advance(5 * HOUR);

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ anomalyWindows: 4, done: true });
    expect(broker.logs.map((line) => line.message)).toContain(
      'anomaly rules skip windows older than an hour',
    );
  });

  it('waits for a window to settle: entries may be written a claim lease after their time', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:pause' });
    startOfNextWindow(broker);
    const kit = lifecycleKit(broker);
    const token = await kit.mint({ installId: 'late-install', sourceIp: '192.0.2.1' });
    await kit.mint({ installId: 'late-install', sourceIp: '198.51.100.1' });
    const windowEnd = Math.ceil(broker.clock.now() / WINDOW_MS) * WINDOW_MS;
    broker.clock.time = windowEnd + 1_000; // ended, but not settled
    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 0 });
    broker.clock.time = windowEnd + settleMs(broker.deps);
    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 1, anomalyActions: 1 });
    expect(await kit.heartbeat(token)).toBe('paused');
  });

  it('acts once per evidence when a window is read again after a failure', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:pause', 'mints-per-network': '1:flag' });
    startOfNextWindow(broker);
    const kit = lifecycleKit(broker);
    const token = await kit.mint({ installId: 'twice-install', sourceIp: '192.0.2.1' });
    await kit.mint({ installId: 'twice-install', sourceIp: '198.51.100.1' });
    await kit.mint({ installId: 'other-install', sourceIp: '198.51.100.2' });
    closeWindow(broker);
    const mintedAt = (await kit.record(token.tokenId)).createdAt;
    const advance = broker.store.advanceAnomalyCursor.bind(broker.store);
    // The write that would move the cursor past the mints' window fails (the earlier, empty ones pass).
    broker.store.advanceAnomalyCursor = (until) =>
      until > mintedAt ? Promise.reject(new Error('injected: cursor write failed')) : advance(until);
    try {
      expect(await runSweep(broker.deps)).toMatchObject({ anomalyActions: 2, done: false });
    } finally {
      broker.store.advanceAnomalyCursor = advance;
    }
    expect(broker.logs).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(/^anomaly rules failed/) }),
    );
    await kit.heartbeat(token); // the client keeps going while paused

    // The window is read again: the same two detections, already acted on.
    const again = await runSweep(broker.deps);

    expect(again).toMatchObject({ anomaliesDetected: 2, anomalyActions: 0, done: true });
    expect((await anomalyEntries(broker)).map((entry) => entry.action).sort()).toEqual([
      'anomaly.actioned',
      'anomaly.flagged',
    ]);
    expect(await kit.heartbeat(token)).toBe('paused');
  });

  it('finishes an action a crashed run had claimed, once its lease is over, and leaves a live claim alone', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:pause' });
    startOfNextWindow(broker);
    const windowStart = broker.clock.now() - 1;
    const kit = lifecycleKit(broker);
    const token = await kit.mint({ installId: 'crashed-install', sourceIp: '192.0.2.1' });
    await kit.mint({ installId: 'crashed-install', sourceIp: '198.51.100.1' });
    closeWindow(broker);
    // A run claimed the action and died before pausing anything.
    const actionId = anomalyActionId({
      rule: 'install-networks',
      subjectKey: 'install:crashed-install',
      period: { start: windowStart, end: windowStart + WINDOW_MS },
    });
    const claimedAt = broker.clock.now() - 60_000;
    await broker.store.claimAnomalyAction({
      actionId,
      rule: 'install-networks',
      action: 'pause',
      dryRun: false,
      subject: 'install crashed-install',
      target: { kind: 'install', installId: 'crashed-install' },
      reason: `anomaly install-networks [${actionId}]: install seen from 2 networks`,
      windowStart,
      windowEnd: windowStart + WINDOW_MS,
      createdAt: claimedAt,
      state: 'pending',
      tokenIds: [],
    });

    // Within the lease the claim may still be alive: hands off, and the window stays due.
    expect(await runSweep(broker.deps)).toMatchObject({ anomalyActions: 0, done: false });
    expect(await kit.heartbeat(token)).toBe('active');
    broker.clock.time = claimedAt + ACTION_LEASE_MS + 1;
    expect(await runSweep(broker.deps)).toMatchObject({ anomalyActions: 1, done: true });

    expect(await kit.heartbeat(token)).toBe('paused');
    expect(await broker.store.getAnomalyAction(actionId)).toMatchObject({ state: 'applied' });
    expect((await anomalyEntries(broker)).map((entry) => entry.action)).toEqual(['anomaly.actioned']);
  });

  it('a failing rule stops neither the other rules nor the other sweep phases, and is tried again', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:pause', 'relay-volume': '10:pause' });
    startOfNextWindow(broker);
    const kit = lifecycleKit(broker);
    const copied = await kit.mint({ installId: 'copied-install', sourceIp: '192.0.2.1' });
    await kit.mint({ installId: 'copied-install', sourceIp: '198.51.100.1' });
    const withdrawn = await kit.mint();
    await broker.store.revokeToken(withdrawn.tokenId, 'test', broker.clock.now()); // queued for deletion
    closeWindow(broker);
    let relayReads = 0;
    broker.store.listRelayUsage = () => {
      relayReads += 1;
      return relayReads === 1
        ? Promise.reject(new Error('injected: relay counters unreadable'))
        : Promise.resolve({ items: [], scannedCount: 0 });
    };
    const cursorBefore = await broker.store.getAnomalyCursor();

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ upstreamDeleted: 1, anomalyActions: 1, done: false });
    expect(await kit.heartbeat(copied)).toBe('paused');
    expect(broker.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'anomaly rule failed',
        attributes: expect.objectContaining({ rule: 'relay-volume' }),
      }),
    );
    // The failed window stays due: the next run evaluates it again, and does not act twice.
    expect(await broker.store.getAnomalyCursor()).toBe(cursorBefore);
    expect(await runSweep(broker.deps)).toMatchObject({ anomalyActions: 0, anomalyWindows: 4, done: true });
    expect((await anomalyEntries(broker)).filter((e) => e.action === 'anomaly.actioned')).toHaveLength(1);
  });

  it('acts while Logfire is down: a pause still stops the token, its deletion waits in the queue', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:pause' });
    startOfNextWindow(broker);
    const kit = lifecycleKit(broker);
    const token = await kit.mint({ installId: 'copied-install', sourceIp: '192.0.2.1' });
    await kit.mint({ installId: 'copied-install', sourceIp: '198.51.100.1' });
    for (let i = 0; i < 6; i++) {
      const revoked = await kit.mint();
      await broker.store.revokeToken(revoked.tokenId, 'test', broker.clock.now());
    }
    closeWindow(broker);
    broker.logfire.failNext(1000, 503);

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ upstreamDeleted: 0, anomalyActions: 1, done: false });
    expect(await kit.heartbeat(token)).toBe('paused');
    expect(broker.logs.map((l) => l.message)).toContain(
      'sweep: Logfire keeps failing deletions; the rest wait for the next run',
    );
  });

  it('stops at the budget without moving the cursor', async () => {
    broker = await startAnomalyBroker({ 'install-networks': '1:pause' });
    closeWindow(broker);
    expect(await runSweep(broker.deps, { budgetMs: 0 })).toMatchObject({ anomalyWindows: 0, done: false });
    expect(await broker.store.getAnomalyCursor()).toBeUndefined();
  });

  it('acts exactly once per detection when six sweeps overlap on a busy machine', async () => {
    broker = await startAnomalyBroker({ 'mints-per-network': '5:pause', 'install-networks': '1:revoke' });
    startOfNextWindow(broker);
    const kit = lifecycleKit(broker);
    const farmed = await Promise.all(
      Array.from({ length: 12 }, (_, i) => kit.mint({ sourceIp: `198.51.100.${i + 1}` })),
    );
    const copied = await Promise.all([
      kit.mint({ installId: 'copied-install', sourceIp: '192.0.2.1' }),
      kit.mint({ installId: 'copied-install', sourceIp: '203.0.113.1' }),
    ]);
    closeWindow(broker);

    const busy = await keepBusy(20_000, 2);
    let reports;
    try {
      reports = await Promise.all(Array.from({ length: 6 }, () => runSweep(broker.deps)));
    } finally {
      await busy.stop();
    }

    expect(reports.reduce((sum, r) => sum + r.anomalyActions, 0)).toBe(2);
    const actioned = (await anomalyEntries(broker)).filter((e) => e.action === 'anomaly.actioned');
    expect(actioned.map((e) => e.actor).sort()).toEqual([
      'system:anomaly:install-networks',
      'system:anomaly:mints-per-network',
    ]);
    const farmedIds = farmed.map((t) => t.tokenId);
    expect(new Set(Object.values(await statuses(broker, farmedIds)))).toEqual(new Set(['paused']));
    const copiedIds = copied.map((t) => t.tokenId);
    expect(new Set(Object.values(await statuses(broker, copiedIds)))).toEqual(new Set(['revoked']));
    // Each token was paused or revoked once: one entry each, not one per sweep.
    for (const id of farmedIds.slice(0, 3)) {
      const entries = (await broker.audit.byToken(id)).entries.filter((e) => e.action === 'token.paused');
      expect(entries).toHaveLength(1);
    }
    // A sweep that found an action in another's hands left its window for the next run, which is quiet.
    expect(await runSweep(broker.deps)).toMatchObject({ anomalyActions: 0, done: true });
  }, 60_000);
});
