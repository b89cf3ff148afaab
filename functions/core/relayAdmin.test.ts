/** Admin operations on relay-mode tokens: no Logfire token is involved, so they act at the broker alone. */
import { ADMIN } from '../../test/support/lifecycle';
import { startRelayBroker, type RelayBroker } from '../../test/support/relayBroker';
import { pauseToken, resumeToken, revokeToken } from './admin';
import { RELAY_STOPS_AT_ONCE } from './audit';

describe('admin operations, relay mode', () => {
  let broker: RelayBroker;
  beforeAll(async () => {
    broker = await startRelayBroker();
  });
  afterAll(() => broker?.close());

  it('pauses a relay token at once, says no Logfire token is involved, and resumes it as active', async () => {
    const token = await broker.mint();
    const calls = broker.logfire.requests.length;

    const paused = await pauseToken(broker.deps, token.tokenId, ADMIN);

    expect(paused).toMatchObject({
      outcome: 'changed',
      status: 'paused',
      upstream: 'relay_only',
      upstreamStillValid: false,
    });
    expect((await broker.post('traces', token.writeToken, 'spans')).status).toBe(403);
    const { entries } = await broker.audit.byToken(token.tokenId);
    expect(entries.find((e) => e.action === 'token.paused')?.details).toEqual({
      upstreamStillValid: false,
      note: RELAY_STOPS_AT_ONCE,
      previousStatus: 'active',
    });
    // No Logfire management call: nothing to delete.
    expect(broker.logfire.requests.slice(calls).filter((r) => r.method === 'DELETE')).toEqual([]);

    const resumed = await resumeToken(broker.deps, token.tokenId, ADMIN);
    // Its write token works again at once: no refresh needed, as no Logfire token was deleted.
    expect(resumed).toMatchObject({ outcome: 'changed', status: 'active', upstreamStillValid: true });
    expect((await broker.post('traces', token.writeToken, 'spans')).status).toBe(200);
  });

  it('revokes a relay token: the relay refuses it from the next batch on', async () => {
    const token = await broker.mint();
    expect(await revokeToken(broker.deps, token.tokenId, ADMIN)).toMatchObject({
      status: 'revoked',
      upstream: 'relay_only',
      upstreamStillValid: false,
    });
    expect((await broker.post('traces', token.writeToken, 'spans')).status).toBe(401);
  });
});
