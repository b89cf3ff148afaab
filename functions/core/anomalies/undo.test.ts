/**
 * Undoing an anomaly action (`undoAnomalyAction`): paused tokens resume, revoked ones cannot come back and
 * the result says so, a token changed since by someone else is left alone, and bad requests change nothing.
 */
import type { TestBroker } from '../../../test/support/broker';
import { ADMIN, lifecycleKit } from '../../../test/support/lifecycle';
import {
  anomalyEntries,
  closeWindow,
  startAnomalyBroker,
  startOfNextWindow,
} from '../../../test/support/anomalies';
import { pauseToken } from '../admin';
import { BrokerError, InvalidRequest, NotFound } from '../errors';
import { runSweep } from '../sweep';
import { undoAnomalyAction } from './actions';

describe('Function: undoAnomalyAction', () => {
  let broker: TestBroker;
  let kit: ReturnType<typeof lifecycleKit>;
  afterEach(() => broker.close());

  /** Three tokens of one install seen from two networks, acted on by install-networks with `rule`. */
  async function actedOn(rule: string, mode: 'api-key' | 'user-token' = 'api-key') {
    broker = await startAnomalyBroker({ 'install-networks': rule }, { mode });
    startOfNextWindow(broker);
    kit = lifecycleKit(broker);
    const tokens = [
      await kit.mint({ installId: 'undo-install', sourceIp: '192.0.2.1' }),
      await kit.mint({ installId: 'undo-install', sourceIp: '198.51.100.1' }),
      await kit.mint({ installId: 'undo-install', sourceIp: '198.51.100.2' }),
    ];
    closeWindow(broker);
    await runSweep(broker.deps);
    const entry = (await anomalyEntries(broker))[0]!;
    return { tokens, actionId: String(entry.details!.actionId) };
  }

  it('resumes the tokens a pause stopped; direct mode makes their clients refresh', async () => {
    const { tokens, actionId } = await actedOn('1:pause');
    expect(await kit.heartbeat(tokens[0]!)).toBe('paused');

    const result = await undoAnomalyAction(broker.deps, actionId, { ...ADMIN, reason: 'office VPN' });

    expect(result).toMatchObject({
      outcome: 'undone',
      rule: 'install-networks',
      cannotUndo: [],
      leftAlone: [],
    });
    expect(result.resumed.sort()).toEqual(tokens.map((t) => t.tokenId).sort());
    for (const token of tokens) expect(await kit.heartbeat(token)).toBe('rotate');
    const { status, token: next } = await kit.refresh(tokens[0]!);
    expect(status).toBe(200);
    expect(await kit.heartbeat(next!)).toBe('active');
    const undone = (await anomalyEntries(broker)).find((e) => e.action === 'anomaly.undone');
    expect(undone).toMatchObject({
      actor: ADMIN.actor,
      reason: 'office VPN',
      installId: 'undo-install',
      details: { actionId, resumed: 3, cannotUndo: 0 },
    });
    const resumed = (await kit.audit(tokens[1]!.tokenId)).find((e) => e.action === 'token.resumed');
    expect(resumed).toMatchObject({ actor: ADMIN.actor });
  });

  it('in user-token mode resumes to active', async () => {
    const { tokens, actionId } = await actedOn('1:pause', 'user-token');
    await undoAnomalyAction(broker.deps, actionId, ADMIN);
    expect(await kit.heartbeat(tokens[2]!)).toBe('active');
  });

  it('cannot bring back revoked tokens, and says so', async () => {
    const { tokens, actionId } = await actedOn('1:revoke');

    const result = await undoAnomalyAction(broker.deps, actionId, ADMIN);

    expect(result.resumed).toEqual([]);
    expect(result.cannotUndo).toHaveLength(3);
    expect(result.cannotUndo[0]).toMatchObject({ status: 'revoked', why: 'revoked: a revocation is final' });
    expect(await kit.heartbeat(tokens[0]!)).toBe('revoked');
  });

  it('leaves alone a token someone else changed since, and answers a second undo without changing more', async () => {
    const { tokens, actionId } = await actedOn('1:pause');
    // An admin takes over one token: resumes it and pauses it for their own reason.
    const [first] = tokens;
    await broker.deps.store.resumeToken(first!.tokenId, broker.clock.now(), 'active');
    await pauseToken(broker.deps, first!.tokenId, { ...ADMIN, reason: 'ticket 42' });

    const result = await undoAnomalyAction(broker.deps, actionId, ADMIN);

    expect(result.resumed).toHaveLength(2);
    expect(result.leftAlone).toEqual([{ tokenId: first!.tokenId, status: 'paused' }]);
    expect(await kit.heartbeat(first!)).toBe('paused');
    expect(await undoAnomalyAction(broker.deps, actionId, ADMIN)).toMatchObject({
      outcome: 'already_undone',
      resumed: [],
    });
    expect((await anomalyEntries(broker)).filter((e) => e.action === 'anomaly.undone')).toHaveLength(1);
  });

  it('clears a flag (nothing to resume)', async () => {
    const { tokens, actionId } = await actedOn('1:flag');
    expect(await undoAnomalyAction(broker.deps, actionId, ADMIN)).toMatchObject({
      outcome: 'undone',
      action: 'flag',
      resumed: [],
    });
    expect(await kit.heartbeat(tokens[0]!)).toBe('active');
  });

  it('refuses an unknown action id (404) and an undo without a reason (400), changing nothing', async () => {
    const { tokens, actionId } = await actedOn('1:pause');
    const unknown = undoAnomalyAction(broker.deps, 'anm_doesNotExist000000000', ADMIN);
    await expect(unknown).rejects.toBeInstanceOf(NotFound);
    await expect(unknown).rejects.toMatchObject({ status: 404, code: 'not_found' });
    const noReason = undoAnomalyAction(broker.deps, actionId, { actor: ADMIN.actor, reason: ' ' });
    await expect(noReason).rejects.toBeInstanceOf(InvalidRequest);
    expect(await kit.heartbeat(tokens[0]!)).toBe('paused');
    expect((await broker.store.getAnomalyAction(actionId))?.state).toBe('applied');
  });

  it('refuses while the action is still being applied (409 with Retry-After)', async () => {
    const { actionId } = await actedOn('1:pause');
    const record = (await broker.store.getAnomalyAction(actionId))!;
    await broker.store.claimAnomalyAction({
      ...record,
      actionId: 'anm_stillPending0000000000',
      state: 'pending',
    });
    const attempt = undoAnomalyAction(broker.deps, 'anm_stillPending0000000000', ADMIN);
    await expect(attempt).rejects.toBeInstanceOf(BrokerError);
    await expect(attempt).rejects.toMatchObject({ status: 409, retryAfterSeconds: 60 });
  });
});
