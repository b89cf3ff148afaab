/**
 * Quotas and IP policy (issue #9) through a real `npm start` on dynalite. Requests come from several
 * loopback addresses (a client socket bound to 127.0.x.y), so per-address and per-network limits are real:
 * 127.0.0.0/8 all reaches the broker on 127.0.0.1.
 */
import { request } from 'node:http';
import { keepBusy } from './support/busy';
import { startLocalBroker, stopAllLocalBrokers, type LocalBroker } from './support/localBroker';

interface Reply {
  status: number;
  retryAfter?: number;
  body: Record<string, unknown>;
}

/** A POST from `from` (a loopback address the socket binds to). */
function post(base: string, path: string, from: string, body?: unknown, secret?: string): Promise<Reply> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...(secret ? { authorization: `Bearer ${secret}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: retryAfter === undefined ? undefined : Number(retryAfter),
            body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

let installs = 0;
const mint = (broker: LocalBroker, from: string, installId = `quota-install-${++installs}-0000`) =>
  post(broker.url, '/v1/tokens', from, { installId, app: { name: 'quotacli', version: '1.0.0' } });
const countStatuses = (replies: Reply[]) =>
  replies.reduce<Record<number, number>>(
    (counts, r) => ({ ...counts, [r.status]: (counts[r.status] ?? 0) + 1 }),
    {},
  );
const secondsToNextHour = () => Math.ceil((3_600_000 - (Date.now() % 3_600_000)) / 1000);

beforeAll(async () => {
  // Hourly windows: a test that straddles the hour would count in two. Start clear of the boundary.
  if (secondsToNextHour() < 30)
    await new Promise((resolve) => setTimeout(resolve, secondsToNextHour() * 1000 + 500));
}, 40_000);
afterAll(() => stopAllLocalBrokers());

describe('mint quotas through npm start', () => {
  let broker: LocalBroker;
  beforeAll(async () => {
    broker = await startLocalBroker({
      env: {
        BROKER_QUOTA_MINTS_PER_IP_PER_HOUR: '50',
        BROKER_QUOTA_MINTS_PER_INSTALL_PER_DAY: '5',
        BROKER_QUOTA_MINTS_PER_NETWORK_PER_HOUR: '120',
        BROKER_QUOTA_HEARTBEATS_PER_TOKEN_PER_HOUR: '10',
        BROKER_QUOTA_REFRESHES_PER_TOKEN_PER_HOUR: '3',
      },
    });
  });

  it('lets exactly 50 of 200 concurrent mints from one address through, on a busy machine, and says when to retry', async () => {
    const busy = await keepBusy(30_000, 2);
    let replies: Reply[];
    try {
      replies = await Promise.all(Array.from({ length: 200 }, () => mint(broker, '127.0.10.1')));
    } finally {
      await busy.stop();
    }
    expect(countStatuses(replies)).toEqual({ 201: 50, 429: 150 });
    for (const refused of replies.filter((r) => r.status === 429)) {
      expect(refused.body).toMatchObject({ error: { code: 'quota_exceeded' } });
      // Until the hour is over, give or take the test's own duration.
      expect(Math.abs(refused.retryAfter! - secondsToNextHour())).toBeLessThanOrEqual(30);
    }
    // Another address is not affected.
    expect((await mint(broker, '127.0.11.1')).status).toBe(201);
  }, 60_000);

  it('refuses the sixth mint of one install in a day, from any address', async () => {
    const installId = 'one-install-many-mints-0001';
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => mint(broker, `127.0.12.${i + 1}`, installId)),
    );
    expect(countStatuses(replies)).toEqual({ 201: 5, 429: 3 });
    const refused = replies.find((r) => r.status === 429)!;
    expect(refused.retryAfter).toBeGreaterThan(0);
    expect(refused.retryAfter).toBeLessThanOrEqual(86_400);
  });

  it('refuses mints from one /24 past its hourly limit, however many addresses it uses', async () => {
    // 150 mints over 150 addresses of 127.0.13.0/24: each address is far under its own limit.
    const replies = await Promise.all(
      Array.from({ length: 150 }, (_, i) => mint(broker, `127.0.13.${i + 1}`)),
    );
    expect(countStatuses(replies)).toEqual({ 201: 120, 429: 30 });
  }, 60_000);

  it('refuses heartbeats past the hourly limit of a token with 429, and counts them in one write', async () => {
    const { body: token } = await mint(broker, '127.0.14.1');
    const beat = () =>
      post(
        broker.url,
        `/v1/tokens/${String(token.tokenId)}/heartbeat`,
        '127.0.14.1',
        undefined,
        String(token.clientSecret),
      );
    const replies = await Promise.all(Array.from({ length: 15 }, beat));
    expect(countStatuses(replies)).toEqual({ 200: 10, 429: 5 });
    // A wrong secret is still just 401, never 429.
    const wrong = await post(
      broker.url,
      `/v1/tokens/${String(token.tokenId)}/heartbeat`,
      '127.0.14.1',
      undefined,
      'lfb_cs_wrong',
    );
    expect(wrong.status).toBe(401);
  });

  it('refuses the fourth refresh of a token chain in an hour, and the refused secret stays usable', async () => {
    let token = (await mint(broker, '127.0.15.1')).body;
    for (let i = 0; i < 3; i++) {
      const next = await post(
        broker.url,
        `/v1/tokens/${String(token.tokenId)}/refresh`,
        '127.0.15.1',
        undefined,
        String(token.clientSecret),
      );
      expect(next.status).toBe(200);
      token = next.body;
    }
    const refused = await post(
      broker.url,
      `/v1/tokens/${String(token.tokenId)}/refresh`,
      '127.0.15.1',
      undefined,
      String(token.clientSecret),
    );
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'quota_exceeded' } } });
    const beat = await post(
      broker.url,
      `/v1/tokens/${String(token.tokenId)}/heartbeat`,
      '127.0.15.1',
      undefined,
      String(token.clientSecret),
    );
    expect(beat).toMatchObject({ status: 200, body: { status: 'active' } });
  });
});

describe('the broker-wide mint quota (a circuit breaker for the Logfire project)', () => {
  it('lets exactly 30 of 60 concurrent mints from 60 networks through', async () => {
    const broker = await startLocalBroker({ env: { BROKER_QUOTA_MINTS_PER_DAY: '30' } });
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => mint(broker, `127.${20 + i}.0.1`)),
    );
    expect(countStatuses(replies)).toEqual({ 201: 30, 429: 30 });
    await broker.stop();
  }, 60_000);
});

describe('IP policy', () => {
  it('mints only from the allowlist, and says so with 403', async () => {
    const broker = await startLocalBroker({ env: { BROKER_MINT_ALLOW_CIDRS: '127.0.30.0/24,::1/128' } });
    expect((await mint(broker, '127.0.30.7')).status).toBe(201);
    expect(await mint(broker, '127.0.31.7')).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    await broker.stop();
  });

  it('binds a token to the network it was minted from: heartbeat and refresh from elsewhere get 403', async () => {
    const broker = await startLocalBroker({ env: { BROKER_BIND_TOKENS_TO_NETWORK: '1' } });
    const { body: token } = await mint(broker, '127.0.40.1');
    const call = (route: string, from: string) =>
      post(
        broker.url,
        `/v1/tokens/${String(token.tokenId)}/${route}`,
        from,
        undefined,
        String(token.clientSecret),
      );
    expect((await call('heartbeat', '127.0.40.99')).status).toBe(200); // same /24
    expect(await call('heartbeat', '127.0.41.1')).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect((await call('refresh', '127.0.41.1')).status).toBe(403);
    // The refused refresh spent nothing: from the bound network it still works, and the successor is bound too.
    const next = await call('refresh', '127.0.40.2');
    expect(next.status).toBe(200);
    const beat = (from: string) =>
      post(
        broker.url,
        `/v1/tokens/${String(next.body.tokenId)}/heartbeat`,
        from,
        undefined,
        String(next.body.clientSecret),
      );
    expect((await beat('127.0.41.1')).status).toBe(403);
    expect((await beat('127.0.40.3')).status).toBe(200);
    await broker.stop();
  });
});
