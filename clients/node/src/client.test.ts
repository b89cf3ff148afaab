import * as fs from 'node:fs';
import type { MintRequest } from '../../../functions/core/contract';
import { CLIENT_LIBRARY } from './library';
import { APP, closedPort, sink, START, useFixture } from './testing/fixture';

const HOUR = 3600 * 1000;

describe('Method: getWriteToken', () => {
  const f = useFixture();

  it('mints on first use, with an Idempotency-Key, the install id, the app and the platform', async () => {
    const token = await f.client({ platform: 'linux-x64', metadata: { channel: 'stable' } }).getWriteToken();

    expect(token).toBe(f.broker.tokens.get('tok_1')?.writeToken);
    expect(f.broker.count('mint')).toBe(1);
    const [call] = f.broker.calls;
    const body = call!.body as MintRequest;
    expect(call!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toEqual({
      installId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      app: APP,
      platform: 'linux-x64',
      metadata: { channel: 'stable' },
      // The library itself, so the operator's minClientVersion can stop old copies.
      client: { name: 'logfire-broker-client', version: CLIENT_LIBRARY.version },
    });
  });

  it('names its own version as package.json does', () => {
    const manifest = JSON.parse(fs.readFileSync(`${__dirname}/../package.json`, 'utf8')) as {
      name: string;
      version: string;
    };
    expect(CLIENT_LIBRARY).toEqual({ name: manifest.name, version: manifest.version });
  });

  it('makes no network call on the next run (warm cache)', async () => {
    const first = await f.client().getWriteToken();
    const connections = f.broker.connections;

    const second = await f.client().getWriteToken();

    expect(second).toBe(first);
    expect(f.broker.connections).toBe(connections);
    expect(f.broker.calls).toHaveLength(1);
  });

  it('tags the mint with the CI provider', async () => {
    await f.client({ env: { GITHUB_ACTIONS: 'true', CI: 'true' } }).getWriteToken();

    expect((f.broker.calls[0]!.body as MintRequest).metadata).toEqual({ ci: 'github-actions' });
  });

  it('gives the ingest base URL of the mint reply', async () => {
    expect(await f.client().getIngestBaseUrl()).toBe(`${f.broker.url}/ingest`);
  });

  it('sends a heartbeat only once the interval has passed, then not again until the next', async () => {
    await f.client().getWriteToken();
    f.clock.now = START + HOUR - 1000;
    await f.client().getWriteToken();
    expect(f.broker.count('heartbeat')).toBe(0);

    f.clock.now = START + HOUR;
    expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_1')?.writeToken);
    await f.client().getWriteToken();

    expect(f.broker.count('heartbeat')).toBe(1);
    expect(f.broker.count('mint')).toBe(1);
  });

  it('refreshes the token when the heartbeat says rotate', async () => {
    await f.client().getWriteToken();
    f.broker.tokens.get('tok_1')!.status = 'rotate';
    f.clock.now = START + HOUR;

    const token = await f.client().getWriteToken();

    expect(token).toBe(f.broker.tokens.get('tok_2')?.writeToken);
    expect(f.broker.calls.map((call) => call.route)).toEqual(['mint', 'heartbeat', 'refresh']);
    expect(await f.client().getWriteToken()).toBe(token); // cached again: no call
    expect(f.broker.calls).toHaveLength(3);
  });

  it.each([
    ['revokes the token', (id: string) => (f.broker.tokens.get(id)!.status = 'revoked')],
    ['answers 401 to the heartbeat', (id: string) => f.broker.tokens.delete(id)],
  ])('mints anew with the same install id when the broker %s', async (_, change) => {
    await f.client().getWriteToken();
    change('tok_1');
    f.clock.now = START + HOUR;

    const token = await f.client().getWriteToken();

    expect(token).toBe(f.broker.tokens.get('tok_2')?.writeToken);
    const mints = f.broker.calls.filter((call) => call.route === 'mint');
    expect(mints).toHaveLength(2);
    expect((mints[1]!.body as MintRequest).installId).toBe((mints[0]!.body as MintRequest).installId);
    expect(mints[1]!.headers['idempotency-key']).not.toBe(mints[0]!.headers['idempotency-key']);
  });

  it('mints anew when the refresh is refused with 401', async () => {
    await f.client().getWriteToken();
    f.broker.tokens.get('tok_1')!.status = 'rotate';
    f.broker.settings.refuseRefresh = true;
    f.clock.now = START + HOUR;

    expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_2')?.writeToken);
    expect(f.broker.calls.map((call) => call.route)).toEqual(['mint', 'heartbeat', 'refresh', 'mint']);
  });

  it('sends nothing while the token is paused, until the next heartbeat finds it active', async () => {
    const token = await f.client().getWriteToken();
    f.broker.tokens.get('tok_1')!.status = 'paused';
    f.clock.now = START + HOUR;

    expect(await f.client().getWriteToken()).toBeUndefined();
    f.clock.now = START + 2 * HOUR - 1000;
    expect(await f.client().getWriteToken()).toBeUndefined(); // no heartbeat due yet: no call
    expect(f.broker.count('heartbeat')).toBe(1);

    f.broker.tokens.get('tok_1')!.status = 'active';
    f.clock.now = START + 2 * HOUR;
    expect(await f.client().getWriteToken()).toBe(token);
    expect(f.broker.count('heartbeat')).toBe(2);
    expect(f.broker.count('mint')).toBe(1);
  });

  it('never returns a token past its expiry: mints anew without a heartbeat', async () => {
    f.broker.settings.heartbeatIntervalSeconds = 30 * 24 * 3600;
    await f.client().getWriteToken();
    f.clock.now = START + f.broker.settings.ttlMs;

    expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_2')?.writeToken);
    expect(f.broker.calls.map((call) => call.route)).toEqual(['mint', 'mint']);
  });

  it('returns undefined within the budget when the broker is down, and says why in debug mode', async () => {
    const stderr = sink();
    const client = f.client({
      brokerUrl: `http://127.0.0.1:${await closedPort()}`,
      budgetMs: 500,
      stderr,
      env: { HELLO_CLI_TELEMETRY_DEBUG: 'live' },
    });

    const started = performance.now();
    expect(await client.getWriteToken()).toBeUndefined();

    expect(performance.now() - started).toBeLessThan(500 + 200);
    expect(stderr.text()).toMatch(
      /telemetry is off for this run: mint: the broker could not be reached \(ECONNREFUSED\)/,
    );
  });

  it('returns undefined within the budget when the broker does not answer', async () => {
    f.broker.settings.hang = true;
    const stderr = sink();
    const client = f.client({ budgetMs: 300, stderr, env: { HELLO_CLI_TELEMETRY_DEBUG: 'live' } });

    const started = performance.now();
    expect(await client.getWriteToken()).toBeUndefined();

    expect(performance.now() - started).toBeLessThan(300 + 200);
    expect(stderr.text()).toContain('mint: the time budget of 300 ms ran out');
  });

  it('tries the network once per run: after a failure the run stays offline', async () => {
    f.broker.settings.failStatus = 400;
    const client = f.client();

    expect(await client.getWriteToken()).toBeUndefined();
    expect(await client.getWriteToken()).toBeUndefined();
    expect(await client.getIngestBaseUrl()).toBeUndefined();

    expect(f.broker.calls).toHaveLength(1);
  });

  it('retries a mint that failed fast with the same Idempotency-Key', async () => {
    f.broker.settings.failStatus = 503;
    const client = f.client();
    setTimeout(() => (f.broker.settings.failStatus = undefined), 50);

    expect(await client.getWriteToken()).toBeDefined();
    const keys = f.broker.calls.map((call) => call.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
  });

  it('mints once when 8 clients start at once on an empty cache', async () => {
    f.broker.settings.delayMs = 50;
    const clients = Array.from({ length: 8 }, () => f.client({ budgetMs: 3000 }));

    const tokens = await Promise.all(clients.map((client) => client.getWriteToken()));

    expect(f.broker.count('mint')).toBe(1);
    expect(new Set(tokens)).toEqual(new Set([f.broker.tokens.get('tok_1')?.writeToken]));
  });

  it('shares one network step between concurrent calls of one client', async () => {
    const client = f.client();
    const tokens = await Promise.all([
      client.getWriteToken(),
      client.getWriteToken(),
      client.getIngestBaseUrl(),
    ]);

    expect(tokens[0]).toBe(tokens[1]);
    expect(f.broker.calls).toHaveLength(1);
  });

  it('takes over the lock of a crashed process', async () => {
    const client = f.client();
    fs.mkdirSync(`${client.cacheFile}.lock`, { recursive: true });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(`${client.cacheFile}.lock`, old, old);

    expect(await client.getWriteToken()).toBeDefined();
    expect(fs.existsSync(`${client.cacheFile}.lock`)).toBe(false);
  });

  it('gives up within the budget while a live process holds the lock', async () => {
    const client = f.client({ budgetMs: 300 });
    fs.mkdirSync(`${client.cacheFile}.lock`, { recursive: true });

    const started = performance.now();
    expect(await client.getWriteToken()).toBeUndefined();

    expect(performance.now() - started).toBeLessThan(300 + 200);
    expect(f.broker.connections).toBe(0);
  });

  it('reads a warm cache without taking the lock', async () => {
    const token = await f.client().getWriteToken();
    const client = f.client();
    fs.mkdirSync(`${client.cacheFile}.lock`); // held by a live process

    expect(await client.getWriteToken()).toBe(token);
  });

  it('never throws, whatever the options', async () => {
    const stderr = sink();
    const client = f.client({ brokerUrl: 'not a url', stderr, env: { HELLO_CLI_TELEMETRY_DEBUG: 'live' } });

    expect(await client.getWriteToken()).toBeUndefined();
    expect(stderr.text()).toContain('brokerUrl is not an http(s) URL');
    expect(await f.client({ brokerUrl: 'ftp://example.com' }).getWriteToken()).toBeUndefined();
  });
});
