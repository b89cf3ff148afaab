import * as fs from 'node:fs';
import { readTokenCache } from './cacheFiles';
import { APP, sink, START, useFixture } from './testing/fixture';

const HOUR = 3600 * 1000;

describe('Method: getWriteToken, when the reply to a refresh is lost (issue #8, point 3)', () => {
  const f = useFixture();

  /** A warm cache whose token the broker wants rotated at the heartbeat that is now due. */
  async function rotationDue(): Promise<void> {
    await f.client().getWriteToken();
    f.broker.tokens.get('tok_1')!.status = 'rotate';
    f.clock.now = START + HOUR;
  }
  const routes = () => f.broker.calls.map((call) => call.route);
  const cached = () => readTokenCache(f.client().cacheFile, f.broker.url, APP.name).value;

  it('keeps the successor when the broker refreshed but the connection closed before its reply, without minting', async () => {
    // Prepare
    await rotationDue();
    f.broker.settings.faults.push({ route: 'refresh', fault: 'close' });
    const stderr = sink();
    // Act
    const token = await f.client({ stderr, env: { HELLO_CLI_TELEMETRY_DEBUG: 'live' } }).getWriteToken();
    // Assess: the same secret twice; the one successor the broker made is the one in use and in the cache
    expect(routes()).toEqual(['mint', 'heartbeat', 'refresh', 'refresh']);
    const [first, second] = f.broker.calls.filter((call) => call.route === 'refresh');
    expect(second!.headers.authorization).toBe(first!.headers.authorization);
    expect(f.broker.tokens.size).toBe(2);
    expect(token).toBe(f.broker.tokens.get('tok_2')!.writeToken);
    expect(cached()).toMatchObject({
      tokenId: 'tok_2',
      writeToken: f.broker.tokens.get('tok_2')!.writeToken,
      clientSecret: f.broker.tokens.get('tok_2')!.clientSecret,
    });
    expect(stderr.text()).toMatch(/refresh: the broker could not be reached \(.+\); trying once more/);
    // The next run uses it without a call
    expect(await f.client().getWriteToken()).toBe(token);
    expect(f.broker.calls).toHaveLength(4);
  });

  it('retries a refresh that got no reply in time, within the one budget', async () => {
    // Prepare: the broker refreshes and then never answers the first request
    await rotationDue();
    f.broker.settings.faults.push({ route: 'refresh', fault: 'stall' });
    const client = f.client({ budgetMs: 1200 });
    // Act
    const started = performance.now();
    const token = await client.getWriteToken();
    // Assess
    expect(performance.now() - started).toBeLessThan(1200 + 200);
    expect(routes()).toEqual(['mint', 'heartbeat', 'refresh', 'refresh']);
    expect(token).toBe(f.broker.tokens.get('tok_2')!.writeToken);
    expect(cached()?.tokenId).toBe('tok_2');
  });

  it('retries a refresh answered 503 with a Retry-After that fits in the budget', async () => {
    // Prepare
    await rotationDue();
    f.broker.settings.faults.push({ route: 'refresh', fault: 503, retryAfterSeconds: 0.2 });
    // Act
    const token = await f.client().getWriteToken();
    // Assess
    expect(routes()).toEqual(['mint', 'heartbeat', 'refresh', 'refresh']);
    expect(token).toBe(f.broker.tokens.get('tok_2')!.writeToken);
  });

  it('does not wait for a Retry-After longer than the budget: telemetry off for the run, the cache as it was', async () => {
    // Prepare
    await rotationDue();
    const before = fs.readFileSync(f.client().cacheFile, 'utf8');
    f.broker.settings.faults.push({ route: 'refresh', fault: 503, retryAfterSeconds: 30 });
    // Act
    const started = performance.now();
    const token = await f.client().getWriteToken();
    // Assess
    expect(token).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(500);
    expect(routes()).toEqual(['mint', 'heartbeat', 'refresh']);
    expect(fs.readFileSync(f.client().cacheFile, 'utf8')).toBe(before);
  });

  it('retries only once, and writes nothing until a successor is in hand', async () => {
    // Prepare: both replies lost
    await rotationDue();
    const before = fs.readFileSync(f.client().cacheFile, 'utf8');
    f.broker.settings.faults.push({ route: 'refresh', fault: 'close' }, { route: 'refresh', fault: 'close' });
    // Act
    const token = await f.client().getWriteToken();
    // Assess: no mint; the cache still holds the old token (whose secret the grace still honours)
    expect(token).toBeUndefined();
    expect(routes()).toEqual(['mint', 'heartbeat', 'refresh', 'refresh']);
    expect(fs.readFileSync(f.client().cacheFile, 'utf8')).toBe(before);
  });

  it('mints anew when the retried refresh is refused with 401 (past the grace the chain is gone)', async () => {
    // Prepare: no grace at this broker, so the retry is reuse
    await rotationDue();
    f.broker.settings.refreshGraceMs = -1;
    f.broker.settings.faults.push({ route: 'refresh', fault: 'close' });
    // Act
    const token = await f.client().getWriteToken();
    // Assess: the lost successor was revoked with its chain; a fresh mint for the same install
    expect(routes()).toEqual(['mint', 'heartbeat', 'refresh', 'refresh', 'mint']);
    expect(f.broker.tokens.get('tok_2')!.status).toBe('revoked');
    expect(token).toBe(f.broker.tokens.get('tok_3')!.writeToken);
    expect(cached()?.tokenId).toBe('tok_3');
  });
});

describe('Method: getWriteToken, when the broker rate-limits heartbeats (issue #9)', () => {
  const f = useFixture();

  it('keeps using the cached token and checks in again on the next run, without minting', async () => {
    const first = await f.client().getWriteToken();
    f.clock.now = START + 7 * HOUR; // the heartbeat is due
    f.broker.settings.faults.push({ route: 'heartbeat', fault: 429, retryAfterSeconds: 60 });
    const stderr = sink();
    expect(await f.client({ stderr, env: { HELLO_CLI_TELEMETRY_DEBUG: 'live' } }).getWriteToken()).toBe(
      first,
    );
    expect(stderr.text()).toMatch(/rate-limiting heartbeats/);
    expect(await f.client().getWriteToken()).toBe(first);
    expect(f.broker.calls.map((call) => call.route)).toEqual(['mint', 'heartbeat', 'heartbeat']);
  });
});
