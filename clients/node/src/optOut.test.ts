import * as fs from 'node:fs';
import * as path from 'node:path';
import { cachePaths, readPreferences } from './cacheFiles';
import { APP, closedPort, sink, useFixture } from './testing/fixture';

describe('Opt-out', () => {
  const f = useFixture();

  it.each([
    ['DO_NOT_TRACK=1', { DO_NOT_TRACK: '1' }],
    ['DO_NOT_TRACK=true', { DO_NOT_TRACK: 'true' }],
    ['HELLO_CLI_TELEMETRY=0', { HELLO_CLI_TELEMETRY: '0' }],
    ['HELLO_CLI_TELEMETRY=false', { HELLO_CLI_TELEMETRY: 'false' }],
    ['HELLO_CLI_TELEMETRY=off', { HELLO_CLI_TELEMETRY: 'off' }],
  ])('sends nothing with %s, not even to a broker whose token is due', async (_, env) => {
    await f.client().getWriteToken(); // a token exists
    f.clock.now += 365 * 24 * 3600 * 1000; // and everything is due
    const connections = f.broker.connections;
    const client = f.client({ env });

    expect(client.enabled).toBe(false);
    expect(await client.getWriteToken()).toBeUndefined();
    expect(await client.getIngestBaseUrl()).toBeUndefined();
    expect(await client.logfireOptions()).toMatchObject({ sendToLogfire: false });
    expect(f.broker.connections).toBe(connections);
  });

  it('persists disable() and enable() per user and app', async () => {
    f.client().disable();

    const later = f.client();
    expect(later.enabled).toBe(false);
    expect(await later.getWriteToken()).toBeUndefined();
    expect(f.broker.connections).toBe(0);
    expect(f.client({ app: { name: 'other-cli', version: '1.0.0' } }).enabled).toBe(true);

    later.enable();
    expect(later.enabled).toBe(true);
    expect(await f.client().getWriteToken()).toBeDefined();
  });

  it('lets the environment win over enable()', () => {
    const client = f.client({ env: { DO_NOT_TRACK: '1' } });
    client.enable();
    expect(client.enabled).toBe(false);
  });

  it('creates no file for a user who opted out through the environment', async () => {
    const client = f.client({ env: { DO_NOT_TRACK: '1' } });
    await client.getWriteToken();
    await client.resourceAttributes();
    expect(fs.existsSync(path.join(f.dir, 'config'))).toBe(false);
  });
});

describe('Method: noticeOnce', () => {
  const f = useFixture();
  const withNotice = (options = {}) => f.client({ notice: undefined, ...options });

  it('prints the notice once per user and app, on stderr', () => {
    const stderr = sink();
    expect(withNotice({ stderr }).noticeOnce()).toBe(true);
    expect(withNotice({ stderr }).noticeOnce()).toBe(false);

    expect(stderr.text()).toContain('hello-cli sends telemetry');
    expect(stderr.text()).toContain('HELLO_CLI_TELEMETRY=0');
    expect(stderr.text().match(/hello-cli sends telemetry/g)).toHaveLength(1);
    expect(withNotice({ app: { name: 'other-cli', version: '1.0.0' } }).noticeOnce()).toBe(true);
  });

  it('sends nothing before the notice has been shown, then works in the same run', async () => {
    const client = withNotice();
    expect(await client.getWriteToken()).toBeUndefined();
    expect(f.broker.connections).toBe(0);

    client.noticeOnce();
    expect(await client.getWriteToken()).toBeDefined();
    expect(await withNotice().getWriteToken()).toBeDefined(); // next run: no notice needed
    expect(f.broker.count('mint')).toBe(1);
  });

  it('prints custom text', () => {
    const stderr = sink();
    withNotice({ notice: 'Telemetry! Opt out with HELLO_CLI_TELEMETRY=0.', stderr }).noticeOnce();
    expect(stderr.text()).toBe('Telemetry! Opt out with HELLO_CLI_TELEMETRY=0.\n');
  });

  it('prints nothing and gates nothing with notice: false', async () => {
    const stderr = sink();
    const client = f.client({ notice: false, stderr });
    expect(client.noticeOnce()).toBe(false);
    expect(stderr.text()).toBe('');
    expect(await client.getWriteToken()).toBeDefined();
  });

  it('prints nothing to a user who opted out, and remembers nothing', () => {
    const stderr = sink();
    expect(withNotice({ stderr, env: { DO_NOT_TRACK: '1' } }).noticeOnce()).toBe(false);
    expect(stderr.text()).toBe('');
    expect(withNotice().noticeOnce()).toBe(true);
  });

  it('records when the notice was shown', () => {
    withNotice().noticeOnce();
    const prefsFile = cachePaths(path.join(f.dir, 'config'), f.broker.url, APP.name).preferencesFile;
    expect(readPreferences(prefsFile, APP.name).value?.noticeShownAt).toBe('2030-01-01T00:00:00.000Z');
  });
});

describe('Debug mode', () => {
  const f = useFixture();

  it('HELLO_CLI_TELEMETRY_DEBUG=1 sends nothing and says what it would do', async () => {
    const stderr = sink();
    const client = f.client({ env: { HELLO_CLI_TELEMETRY_DEBUG: '1', CI: 'true' }, stderr });

    expect(client.debug).toBe(true);
    expect(await client.getWriteToken()).toBeUndefined();
    await client.getWriteToken();

    expect(f.broker.connections).toBe(0);
    const text = stderr.text();
    expect(text).toContain(`would mint a token for hello-cli@1.2.3 at ${f.broker.url} (install id `);
    expect(text).toContain('would send telemetry with resource attributes {"service.name":"hello-cli"');
    expect(text).toContain('"ci":"generic"');
    expect(text.match(/would mint/g)).toHaveLength(1); // once per run
  });

  it('describes a warm cache and a due heartbeat without printing a secret', async () => {
    await f.client().getWriteToken();
    const stderr = sink();
    await f.client({ env: { HELLO_CLI_TELEMETRY_DEBUG: 'true' }, stderr }).getWriteToken();
    f.clock.now += 3600 * 1000;
    await f.client({ env: { HELLO_CLI_TELEMETRY_DEBUG: 'true' }, stderr }).getWriteToken();

    expect(stderr.text()).toContain('would use the cached token tok_1');
    expect(stderr.text()).toContain('would send a heartbeat for token tok_1');
    for (const secret of f.broker.secrets()) expect(stderr.text()).not.toContain(secret);
    expect(f.broker.calls).toHaveLength(1);
  });

  it('HELLO_CLI_TELEMETRY_DEBUG=live logs every step of a real run and never a secret', async () => {
    const stderr = sink();
    const env = { HELLO_CLI_TELEMETRY_DEBUG: 'live' };
    const run = () => f.client({ env, stderr }).getWriteToken();
    await run(); // mint
    f.broker.tokens.get('tok_1')!.status = 'rotate';
    f.clock.now += 3600 * 1000;
    await run(); // heartbeat, refresh
    f.broker.tokens.get('tok_2')!.status = 'revoked';
    f.clock.now += 3600 * 1000;
    await run(); // heartbeat, mint
    f.broker.tokens.get('tok_3')!.status = 'paused';
    f.clock.now += 3600 * 1000;
    await run(); // heartbeat: paused
    await f.client({ env, stderr, brokerUrl: `http://127.0.0.1:${await closedPort()}` }).getWriteToken();

    const text = stderr.text();
    expect(text).toContain('minted token tok_1');
    expect(text).toContain('the broker asks to rotate token tok_1: refreshing it');
    expect(text).toContain('the broker revoked token tok_2: minting a token');
    expect(text).toContain('the broker paused token tok_3');
    expect(text).toContain('could not be reached');
    expect(f.broker.secrets()).toHaveLength(6);
    for (const secret of f.broker.secrets()) expect(text).not.toContain(secret);
  });
});
