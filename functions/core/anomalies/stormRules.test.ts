/**
 * The storm rules through the real handlers and the sweep: `refresh-storm` (one chain refreshed over and
 * over) and `heartbeat-storm` (a token past its hourly heartbeat quota, which the heartbeat records once
 * per token and hour). Each: over the threshold, at it, and a dry run.
 */
import type { IssuedToken } from '../contract';
import type { TestBroker } from '../../../test/support/broker';
import { lifecycleKit } from '../../../test/support/lifecycle';
import {
  anomalyEntries,
  closeWindow,
  startAnomalyBroker,
  startOfNextWindow,
} from '../../../test/support/anomalies';
import { runSweep } from '../sweep';

describe('rule: refresh-storm', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  afterEach(() => broker.close());

  /** One chain refreshed `times` times in a window; another token, untouched. */
  async function storm(rule: string, times: number) {
    broker = await startAnomalyBroker({ 'refresh-storm': rule });
    startOfNextWindow(broker);
    kit = lifecycleKit(broker);
    const first = await kit.mint();
    let live: IssuedToken = first;
    for (let i = 0; i < times; i++) live = (await kit.refresh(live)).token!;
    const calm = await kit.mint();
    closeWindow(broker);
    return { first, live, calm };
  }

  it('pauses the live end of a chain refreshed more often than the threshold', async () => {
    const { first, live, calm } = await storm('3:pause', 4);

    expect(await runSweep(broker.deps)).toMatchObject({
      anomaliesDetected: 1,
      anomalyActions: 1,
      done: true,
    });

    expect(await kit.heartbeat(live)).toBe('paused');
    expect((await kit.refresh(live)).status).toBe(403);
    expect(await kit.heartbeat(calm)).toBe('active');
    const [actioned] = await anomalyEntries(broker);
    expect(actioned).toMatchObject({
      action: 'anomaly.actioned',
      actor: 'system:anomaly:refresh-storm',
      chainId: first.tokenId,
      details: { refreshes: 4, threshold: 3, newestTokenId: live.tokenId, tokensActedOn: 1 },
    });
  });

  it('does nothing at the threshold', async () => {
    const { live } = await storm('3:pause', 3);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 0, done: true });
    expect(await kit.heartbeat(live)).toBe('active');
  });

  it('in dry run records what it would do and changes nothing', async () => {
    const { live } = await storm('3:revoke:dry-run', 6);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 1, done: true });
    expect(await kit.heartbeat(live)).toBe('active');
    expect((await anomalyEntries(broker)).map((entry) => [entry.action, entry.details?.refreshes])).toEqual([
      ['anomaly.detected', 6],
    ]);
  });
});

describe('rule: heartbeat-storm', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  afterEach(() => broker.close());

  /** A token sending `beats` heartbeats within an hour, against a quota of 3 an hour. */
  async function beating(rule: string, beats: number) {
    broker = await startAnomalyBroker(
      { 'heartbeat-storm': rule },
      { env: { BROKER_QUOTA_HEARTBEATS_PER_TOKEN_PER_HOUR: '3' } },
    );
    startOfNextWindow(broker);
    kit = lifecycleKit(broker);
    const noisy = await kit.mint();
    const replies: (string | number)[] = [];
    for (let i = 0; i < beats; i++) replies.push(await kit.heartbeat(noisy));
    const calm = await kit.mint();
    await kit.heartbeat(calm);
    closeWindow(broker);
    return { noisy, calm, replies };
  }

  it('records the first refusal of an hour once, and pauses the token', async () => {
    const { noisy, calm, replies } = await beating('0:pause', 8);
    expect(replies).toEqual(['active', 'active', 'active', 429, 429, 429, 429, 429]);
    const signals = (await kit.audit(noisy.tokenId)).filter(
      (entry) => entry.action === 'token.heartbeat_quota_exceeded',
    );
    expect(signals).toEqual([expect.objectContaining({ actor: 'client', details: { limit: 3 } })]);
    expect(broker.logs.filter((line) => line.message === 'heartbeat quota exceeded')).toHaveLength(1);

    expect(await runSweep(broker.deps)).toMatchObject({
      anomaliesDetected: 1,
      anomalyActions: 1,
      done: true,
    });

    expect((await kit.record(noisy.tokenId)).status).toBe('paused');
    expect((await kit.record(calm.tokenId)).status).toBe('active');
    expect((await anomalyEntries(broker))[0]).toMatchObject({
      action: 'anomaly.actioned',
      actor: 'system:anomaly:heartbeat-storm',
      tokenId: noisy.tokenId,
      details: { quotaExceeded: 1, heartbeatsPerHourLimit: 3 },
    });
  });

  it('does nothing for a token that stays within its quota', async () => {
    const { noisy, replies } = await beating('0:pause', 3);
    expect(replies).toEqual(['active', 'active', 'active']);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 0, done: true });
    expect((await kit.record(noisy.tokenId)).status).toBe('active');
    expect(await anomalyEntries(broker)).toEqual([]);
  });

  it('in dry run records what it would do and changes nothing', async () => {
    const { noisy } = await beating('0:revoke:dry-run', 5);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 1, done: true });
    expect((await kit.record(noisy.tokenId)).status).toBe('active');
    expect((await anomalyEntries(broker)).map((entry) => entry.action)).toEqual(['anomaly.detected']);
  });
});
