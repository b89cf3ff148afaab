/**
 * The relay's usage as the relay-volume anomaly rule reads it: real relayed batches through the relay
 * handler on dynalite, listed through the sparse byRelayAt index (never a Scan).
 */
import { startRelayBroker, type RelayBroker } from '../../../test/support/relayBroker';

const DAY = 86_400_000;
const MIDDAY = Date.parse('2031-03-10T12:00:00.000Z');

describe('Method: listRelayUsage', () => {
  let broker: RelayBroker;
  beforeEach(async () => {
    broker = await startRelayBroker({ env: { BROKER_RELAY_BYTES_PER_DAY: '1000000' } });
    broker.clock.time = MIDDAY - 2 * DAY;
  });
  afterEach(() => broker?.close());

  const send = async (token: string, bytes: number) =>
    expect((await broker.post('traces', token, 'x'.repeat(bytes))).status).toBe(200);

  it('lists the tokens that relayed since a time, with today’s bytes and their daily baseline before today', async () => {
    // Prepare: a steady token (100 bytes on each of two days), then a spike today; and a token idle since.
    const steady = await broker.mint();
    const idle = await broker.mint();
    await send(steady.writeToken, 100);
    await send(idle.writeToken, 50);
    broker.clock.time = MIDDAY - DAY;
    await send(steady.writeToken, 100);
    broker.clock.time = MIDDAY;
    await send(steady.writeToken, 5000);

    // Act
    const page = await broker.store.listRelayUsage(MIDDAY - 60_000, 100);

    // Assess: only the token that relayed in the window is read; its baseline is 100 bytes a day.
    expect(page.items).toEqual([{ tokenId: steady.tokenId, bytesToday: 5000, bytesBaseline: 100 }]);
    expect(page.scannedCount).toBe(1);
    const all = await broker.store.listRelayUsage(MIDDAY - 3 * DAY, 100);
    expect(all.items.map((usage) => usage.tokenId).sort()).toEqual([steady.tokenId, idle.tokenId].sort());
  });

  it('gives a token that began relaying today no baseline', async () => {
    broker.clock.time = MIDDAY;
    const fresh = await broker.mint();
    await send(fresh.writeToken, 300);
    expect((await broker.store.listRelayUsage(MIDDAY - 1, 10)).items).toEqual([
      { tokenId: fresh.tokenId, bytesToday: 300, bytesBaseline: 0 },
    ]);
  });
});
