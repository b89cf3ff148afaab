/**
 * `secret-reuse` through the real refresh handler (reuse detection revokes the chain; the rule then acts on
 * the install's other tokens), and `relay-volume` against an in-memory relay usage port (the relay's
 * counters are another engineer's work: the DynamoDB side returns an empty page until it lands).
 */
import type { TestBroker } from '../../../test/support/broker';
import { lifecycleKit } from '../../../test/support/lifecycle';
import {
  anomalyEntries,
  closeWindow,
  startAnomalyBroker,
  startOfNextWindow,
  WINDOW_MS,
} from '../../../test/support/anomalies';
import type { Page } from '../ports';
import { runSweep } from '../sweep';
import type { RelayUsage } from './ports';

const MIB = 1024 * 1024;

describe('rule: secret-reuse', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  afterEach(() => broker.close());

  /** Install X holds two tokens; one of them has its spent secret presented `reuses` times. */
  async function reused(rule: string, reuses: number) {
    broker = await startAnomalyBroker({ 'secret-reuse': rule }, { env: { BROKER_REFRESH_GRACE: '0s' } });
    startOfNextWindow(broker);
    kit = lifecycleKit(broker);
    const installId = 'leaky-install-0001';
    const other = await kit.mint({ installId });
    const stolen = await kit.mint({ installId });
    const next = (await kit.refresh(stolen)).token!;
    for (let i = 0; i < reuses; i++) expect((await kit.refresh(stolen)).status).toBe(401);
    closeWindow(broker);
    return { installId, other, next };
  }

  it("pauses the install's other tokens once a spent secret was presented again", async () => {
    const { installId, other, next } = await reused('0:pause', 1);
    expect(await kit.heartbeat(next)).toBe('revoked'); // reuse detection, before the rule

    expect(await runSweep(broker.deps)).toMatchObject({
      anomaliesDetected: 1,
      anomalyActions: 1,
      done: true,
    });

    expect(await kit.heartbeat(other)).toBe('paused');
    expect((await anomalyEntries(broker))[0]).toMatchObject({
      action: 'anomaly.actioned',
      actor: 'system:anomaly:secret-reuse',
      installId,
      details: { reuses: 1, threshold: 0, tokensActedOn: 1 },
    });
  });

  it('flags by default and changes nothing', async () => {
    const { installId, other } = await reused('0:flag', 1);

    await runSweep(broker.deps);

    expect(await kit.heartbeat(other)).toBe('active');
    expect((await anomalyEntries(broker))[0]).toMatchObject({
      action: 'anomaly.flagged',
      installId,
      details: { action: 'flag', dryRun: false, tokensActedOn: 0 },
    });
  });

  it('does nothing at the threshold', async () => {
    const { other } = await reused('1:pause', 1);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 0, done: true });
    expect(await kit.heartbeat(other)).toBe('active');
  });

  it('in dry run records what it would do and changes nothing', async () => {
    const { other } = await reused('0:revoke:dry-run', 1);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 1, done: true });
    expect(await kit.heartbeat(other)).toBe('active');
    expect((await anomalyEntries(broker)).map((entry) => entry.action)).toEqual(['anomaly.detected']);
  });
});

describe('rule: relay-volume (in-memory relay usage)', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  afterEach(() => broker.close());

  /** Serves `usage` two items a page, as the relay's store side will, and counts the reads. */
  function serveUsage(usage: RelayUsage[]) {
    const calls: number[] = [];
    broker.store.listRelayUsage = (since, _limit, cursor) => {
      calls.push(since);
      const offset = cursor ? Number(cursor) : 0;
      const items = usage.slice(offset, offset + 2);
      const page: Page<RelayUsage> = { items, scannedCount: items.length };
      if (offset + 2 < usage.length) page.cursor = String(offset + 2);
      return Promise.resolve(page);
    };
    return calls;
  }

  async function start(rule: string) {
    broker = await startAnomalyBroker({ 'relay-volume': rule });
    // Midday: the hour the run looks back over stays within one UTC day (relay counts are per day).
    broker.clock.time = Date.UTC(2026, 11, 1, 12, 0);
    startOfNextWindow(broker);
    kit = lifecycleKit(broker);
    const tokens = await Promise.all([kit.mint(), kit.mint(), kit.mint(), kit.mint()]);
    closeWindow(broker);
    return tokens;
  }

  it('pauses a token relaying more than threshold times its baseline today, and only that one', async () => {
    const [spiking, steady, fresh, freshSpiking] = await start('10:pause');
    const calls = serveUsage([
      { tokenId: spiking!.tokenId, bytesToday: 22 * MIB + 1, bytesBaseline: 2 * MIB },
      { tokenId: steady!.tokenId, bytesToday: 20 * MIB, bytesBaseline: 2 * MIB }, // exactly 10×: under
      // No baseline yet: judged against the 1 MiB floor, so 5 MiB on a first day is no spike; 11 MiB is.
      { tokenId: fresh!.tokenId, bytesToday: 5 * MIB, bytesBaseline: 0 },
      { tokenId: freshSpiking!.tokenId, bytesToday: 11 * MIB, bytesBaseline: 0 },
    ]);

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ anomaliesDetected: 8, anomalyActions: 2, done: true });
    expect(calls.length).toBe(8); // 4 windows, 2 pages each
    expect((await kit.record(spiking!.tokenId)).status).toBe('paused');
    expect((await kit.record(freshSpiking!.tokenId)).status).toBe('paused');
    expect((await kit.record(steady!.tokenId)).status).toBe('active');
    expect((await kit.record(fresh!.tokenId)).status).toBe('active');
    // Seen in every window of the day, acted on once per token and day.
    const entries = await anomalyEntries(broker);
    expect(entries.map((entry) => entry.tokenId).sort()).toEqual(
      [spiking!.tokenId, freshSpiking!.tokenId].sort(),
    );
    expect(entries.find((entry) => entry.tokenId === spiking!.tokenId)).toMatchObject({
      actor: 'system:anomaly:relay-volume',
      details: { bytesToday: 22 * MIB + 1, bytesBaseline: 2 * MIB, count: 11, threshold: 10 },
    });
    expect(entries[0]!.reason).toMatch(/11\.0 times its baseline/);
  });

  it('does nothing while every token stays under', async () => {
    const [token] = await start('10:pause');
    serveUsage([{ tokenId: token!.tokenId, bytesToday: 9 * MIB, bytesBaseline: 1 * MIB }]);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 0, done: true });
    expect((await kit.record(token!.tokenId)).status).toBe('active');
  });

  it('in dry run records what it would do and changes nothing', async () => {
    const [token] = await start('10:revoke:dry-run');
    serveUsage([{ tokenId: token!.tokenId, bytesToday: 500 * MIB, bytesBaseline: 1 * MIB }]);

    expect(await runSweep(broker.deps)).toMatchObject({ done: true });
    expect((await kit.record(token!.tokenId)).status).toBe('active');
    expect((await anomalyEntries(broker)).map((entry) => entry.action)).toEqual(['anomaly.detected']);
  });

  it('reads relay usage from the store side, which is empty until the relay is wired', async () => {
    broker = await startAnomalyBroker({ 'relay-volume': '10:pause' });
    expect(await broker.store.listRelayUsage(Date.now() - WINDOW_MS, 100)).toEqual({
      items: [],
      scannedCount: 0,
    });
  });
});
