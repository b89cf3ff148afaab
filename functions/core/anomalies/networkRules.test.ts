/**
 * The two network rules through the real handlers and the sweep, on dynalite and the fake Logfire:
 * `mints-per-network` (one /24 minting for many installs) and `install-networks` (one install seen from
 * many networks). Each: a run over the threshold acts, one at the threshold does nothing, a dry run changes
 * nothing but records what it would have done.
 */
import type { IssuedToken } from '../contract';
import type { TestBroker } from '../../../test/support/broker';
import { refreshEvent } from '../../../test/support/events';
import { lifecycleKit } from '../../../test/support/lifecycle';
import {
  anomalyEntries,
  closeWindow,
  startAnomalyBroker,
  startOfNextWindow,
  statuses,
} from '../../../test/support/anomalies';
import { runSweep } from '../sweep';

describe('rule: mints-per-network', () => {
  let broker: TestBroker;
  afterEach(() => broker.close());

  /** `installs` installs minted from 198.51.100.0/24 (several addresses), one from elsewhere. */
  async function mintFromOneNetwork(rule: string, installs: number) {
    broker = await startAnomalyBroker({ 'mints-per-network': rule });
    startOfNextWindow(broker);
    const kit = lifecycleKit(broker);
    const fromNetwork: IssuedToken[] = [];
    for (let i = 0; i < installs; i++)
      fromNetwork.push(await kit.mint({ sourceIp: `198.51.100.${1 + (i % 3)}` }));
    const elsewhere = await kit.mint({ sourceIp: '203.0.113.9' });
    closeWindow(broker);
    return { kit, fromNetwork, elsewhere };
  }

  it('pauses every token minted from a network that minted for more installs than the threshold', async () => {
    const { fromNetwork, elsewhere } = await mintFromOneNetwork('3:pause', 4);

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ anomaliesDetected: 1, anomalyActions: 1, done: true });
    const ids = fromNetwork.map((token) => token.tokenId);
    expect(Object.values(await statuses(broker, ids))).toEqual(['paused', 'paused', 'paused', 'paused']);
    expect((await statuses(broker, [elsewhere.tokenId]))[elsewhere.tokenId]).toBe('active');
    // Direct mode: a pause deletes the Logfire token, so the paused clients' telemetry stops now.
    expect(broker.logfire.tokens).toHaveLength(1);
    const [actioned] = await anomalyEntries(broker);
    expect(actioned).toMatchObject({
      action: 'anomaly.actioned',
      actor: 'system:anomaly:mints-per-network',
      details: {
        rule: 'mints-per-network',
        action: 'pause',
        network: '198.51.100.0/24',
        installs: 4,
        threshold: 3,
        tokensActedOn: 4,
        addresses: '198.51.100.1 (2), 198.51.100.2 (1), 198.51.100.3 (1)',
      },
    });
    expect(actioned!.reason).toMatch(
      /^anomaly mints-per-network \[anm_[\w-]{22}\]: 4 installs minted from 198\.51\.100\.0\/24 \(more than 3\)/,
    );
    const paused = (await broker.audit.byToken(ids[0]!)).entries.find((e) => e.action === 'token.paused');
    expect(paused).toMatchObject({ actor: 'system:anomaly:mints-per-network', reason: actioned!.reason });
    expect(broker.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'anomaly action taken',
        attributes: expect.objectContaining({ rule: 'mints-per-network', action: 'pause', tokensActedOn: 4 }),
      }),
    );
  });

  it('revokes a farmed client that refreshed since, its successor included', async () => {
    const { kit, fromNetwork } = await mintFromOneNetwork('3:revoke', 4);
    const successor = (await kit.refresh(fromNetwork[0]!)).token!;

    expect(await runSweep(broker.deps)).toMatchObject({ anomalyActions: 1, done: true });

    expect(await kit.heartbeat(successor)).toBe('revoked');
    for (const token of fromNetwork.slice(1)) expect(await kit.heartbeat(token)).toBe('revoked');
    expect((await anomalyEntries(broker))[0]).toMatchObject({ details: { tokensActedOn: 5 } });
  });

  it('does nothing at the threshold', async () => {
    const { fromNetwork } = await mintFromOneNetwork('3:pause', 3);

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ anomaliesDetected: 0, anomalyActions: 0, anomalyWindows: 4, done: true });
    const ids = fromNetwork.map((token) => token.tokenId);
    expect(Object.values(await statuses(broker, ids))).toEqual(['active', 'active', 'active']);
    expect(await anomalyEntries(broker)).toEqual([]);
  });

  it('in dry run records what it would do and changes nothing', async () => {
    const { fromNetwork } = await mintFromOneNetwork('3:revoke:dry-run', 5);

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ anomaliesDetected: 1, anomalyActions: 1, done: true });
    const ids = fromNetwork.map((token) => token.tokenId);
    expect(new Set(Object.values(await statuses(broker, ids)))).toEqual(new Set(['active']));
    expect(broker.logfire.tokens).toHaveLength(6);
    const entries = await anomalyEntries(broker);
    expect(entries.map((entry) => entry.action)).toEqual(['anomaly.detected']);
    expect(entries[0]).toMatchObject({
      details: { dryRun: true, action: 'revoke', installs: 5, tokensActedOn: 0 },
    });
    expect(broker.logs.map((line) => line.message)).toContain('anomaly detected (dry run)');
    expect(broker.logs.map((line) => line.message)).not.toContain('anomaly action taken');
  });

  it('counts installs, not mints: one install minting again and again from a network stays under', async () => {
    broker = await startAnomalyBroker({ 'mints-per-network': '1:pause' });
    startOfNextWindow(broker);
    const kit = lifecycleKit(broker);
    for (let i = 0; i < 5; i++)
      await kit.mint({ installId: 'one-install-many-mints', sourceIp: '198.51.100.7' });
    closeWindow(broker);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 0 });
  });
});

describe('rule: install-networks', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  afterEach(() => broker.close());

  /** One install minted from one network and refreshed from `networks - 1` others; another install, quiet. */
  async function seenFrom(rule: string, networks: number) {
    broker = await startAnomalyBroker({ 'install-networks': rule });
    startOfNextWindow(broker);
    kit = lifecycleKit(broker);
    const installId = 'copied-install-0001';
    const first = await kit.mint({ installId, sourceIp: '192.0.2.10' });
    const second = await kit.mint({ installId, sourceIp: '192.0.2.11' }); // same /24: one network
    let current = first;
    for (let n = 1; n < networks; n++) {
      const reply = await broker.handlers.refresh(
        refreshEvent(current.tokenId, current.clientSecret, `10.${n}.0.1`),
      );
      expect(reply.statusCode).toBe(200);
      current = JSON.parse(reply.body) as IssuedToken;
    }
    const quiet = await kit.mint({ installId: 'quiet-install-0001', sourceIp: '10.1.0.2' });
    closeWindow(broker);
    return { installId, live: current, second, quiet };
  }

  it('pauses every live token of an install seen from more networks than the threshold', async () => {
    const { installId, live, second, quiet } = await seenFrom('2:pause', 3);

    const report = await runSweep(broker.deps);

    expect(report).toMatchObject({ anomaliesDetected: 1, anomalyActions: 1, done: true });
    expect(await kit.heartbeat(live)).toBe('paused');
    expect(await kit.heartbeat(second)).toBe('paused');
    expect(await kit.heartbeat(quiet)).toBe('active');
    const [actioned] = await anomalyEntries(broker);
    expect(actioned).toMatchObject({
      action: 'anomaly.actioned',
      actor: 'system:anomaly:install-networks',
      installId,
      details: {
        networks: 3,
        threshold: 2,
        tokensActedOn: 2,
        seenFrom: '192.0.2.0/24, 10.1.0.0/24, 10.2.0.0/24',
      },
    });
    // Listed under the install, where an admin looks first.
    const { entries } = await broker.audit.byInstall(installId);
    expect(entries.map((entry) => entry.action)).toContain('anomaly.actioned');
  });

  it('does nothing at the threshold', async () => {
    const { live, second } = await seenFrom('2:pause', 2);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 0, done: true });
    expect(await kit.heartbeat(live)).toBe('active');
    expect(await kit.heartbeat(second)).toBe('active');
    expect(await anomalyEntries(broker)).toEqual([]);
  });

  it('in dry run records what it would do and changes nothing', async () => {
    const { installId, live, second } = await seenFrom('2:revoke:dry-run', 4);

    expect(await runSweep(broker.deps)).toMatchObject({ anomaliesDetected: 1, done: true });
    expect(await kit.heartbeat(live)).toBe('active');
    expect(await kit.heartbeat(second)).toBe('active');
    const entries = await anomalyEntries(broker);
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'anomaly.detected',
        installId,
        details: expect.objectContaining({ dryRun: true, action: 'revoke', networks: 4 }),
      }),
    ]);
  });
});
