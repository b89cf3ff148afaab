import { heartbeatEvent, mintEvent } from '../../test/support/events';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import type { IssuedToken } from './contract';
import { mintAllowlist, networkOf } from './network';
import { forgetQuotaOverrides } from './quotas';

describe('Function: networkOf', () => {
  it.each([
    ['203.0.113.7', '203.0.113.0/24'],
    ['::ffff:203.0.113.7', '203.0.113.0/24'],
    ['2001:db8:1:2::5', '2001:db8:1::/48'],
    ['2001:DB8:0001:ffff::1', '2001:db8:1::/48'],
  ])('puts %s in %s', (address, network) => {
    expect(networkOf(address)).toBe(network);
  });

  it('has no network for a value that is no address', () => {
    expect(networkOf('unknown')).toBeUndefined();
  });
});

describe('Function: mintAllowlist', () => {
  it('allows everyone when empty, and only the listed ranges otherwise (IPv4-mapped addresses included)', () => {
    expect(mintAllowlist([])('198.51.100.1')).toBe(true);
    const allowed = mintAllowlist(['203.0.113.0/24', '2001:db8::/32']);
    expect(['203.0.113.9', '::ffff:203.0.113.9', '2001:db8:ff::1'].map(allowed)).toEqual([true, true, true]);
    expect(['203.0.114.1', '2001:db9::1'].map(allowed)).toEqual([false, false]);
  });
});

describe('the source address of a request', () => {
  let broker: TestBroker;
  afterEach(() => broker.close());
  const mintFrom = (sourceIp: string, xff?: string) =>
    broker.handlers.mint(
      mintEvent(
        { installId: `xff-install-${Math.random()}`.slice(0, 40), app: { name: 'cli', version: '1' } },
        xff ? { 'x-forwarded-for': xff } : {},
        sourceIp,
      ),
    );
  const recordedIp = async (result: { body: string }) =>
    (await broker.store.getToken((JSON.parse(result.body) as IssuedToken).tokenId))!.sourceIp;

  it('ignores X-Forwarded-For without trusted proxies: any client can write it', async () => {
    broker = await startTestBroker({ env: { BROKER_QUOTA_MINTS_PER_IP_PER_HOUR: '1' } });
    expect(await recordedIp(await mintFrom('198.51.100.7', '203.0.113.1'))).toBe('198.51.100.7');
    // The forged header does not get a second mint past the address's quota either.
    expect((await mintFrom('198.51.100.7', '203.0.113.2')).statusCode).toBe(429);
  });

  it('takes the right-most untrusted X-Forwarded-For hop when the peer is a trusted proxy', async () => {
    broker = await startTestBroker({ env: { BROKER_TRUSTED_PROXIES: '10.0.0.0/8' } });
    expect(await recordedIp(await mintFrom('10.1.2.3', '192.0.2.50, 203.0.113.9, 10.9.9.9'))).toBe(
      '203.0.113.9',
    );
    // From an untrusted peer the header means nothing.
    expect(await recordedIp(await mintFrom('198.51.100.8', '203.0.113.9'))).toBe('198.51.100.8');
  });
});

describe('run-time quota overrides', () => {
  it('change a limit without a restart, and an empty override restores the configured one', async () => {
    const broker = await startTestBroker({ env: { BROKER_QUOTA_HEARTBEATS_PER_TOKEN_PER_HOUR: '100' } });
    try {
      const token = JSON.parse(
        (
          await broker.handlers.mint(
            mintEvent({ installId: 'override-install-01', app: { name: 'c', version: '1' } }),
          )
        ).body,
      ) as IssuedToken;
      await broker.store.changeQuotaOverrides({ mintsPerInstallPerDay: 1 }, broker.clock.now());
      forgetQuotaOverrides(broker.store);
      const again = () =>
        broker.handlers.mint(
          mintEvent({ installId: 'override-install-01', app: { name: 'c', version: '1' } }),
        );
      expect((await again()).statusCode).toBe(201); // the first counted one
      expect((await again()).statusCode).toBe(429);
      await broker.store.changeQuotaOverrides({ mintsPerInstallPerDay: null }, broker.clock.now());
      forgetQuotaOverrides(broker.store);
      expect((await again()).statusCode).toBe(201);
      expect(
        (await broker.handlers.heartbeat(heartbeatEvent(token.tokenId, token.clientSecret))).statusCode,
      ).toBe(200);
    } finally {
      await broker.close();
    }
  });
});
