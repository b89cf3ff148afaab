import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MintRequest } from '../../../functions/core/contract';
import { cachePaths, readPreferences, readTokenCache, TOKEN_FORMAT } from './cacheFiles';
import { APP, useFixture } from './testing/fixture';

const installIds = (calls: Array<{ route: string; body: unknown }>): string[] =>
  calls.filter((call) => call.route === 'mint').map((call) => (call.body as MintRequest).installId);

describe('Token cache and preferences files', () => {
  const f = useFixture();

  it('keeps the cache file at mode 0600 in a directory at mode 0700', async () => {
    const client = f.client();
    await client.getWriteToken();

    expect(fs.statSync(client.cacheFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(client.cacheFile)).mode & 0o777).toBe(0o700);
    const prefs = cachePaths(path.dirname(client.cacheFile), f.broker.url, APP.name).preferencesFile;
    expect(fs.statSync(prefs).mode & 0o777).toBe(0o600);
  });

  it('tightens an existing cache directory to 0700', async () => {
    const dir = path.join(f.dir, 'loose');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);

    await f.client({ cacheDir: dir }).getWriteToken();

    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('holds what the issue lists, for this broker and app', async () => {
    const client = f.client();
    await client.getWriteToken();

    const cached = readTokenCache(client.cacheFile, f.broker.url, APP.name).value;
    expect(cached).toEqual({
      format: TOKEN_FORMAT,
      brokerUrl: f.broker.url,
      app: APP.name,
      installId: installIds(f.broker.calls)[0],
      tokenId: 'tok_1',
      writeToken: f.broker.tokens.get('tok_1')!.writeToken,
      clientSecret: f.broker.tokens.get('tok_1')!.clientSecret,
      expiresAt: expect.any(String),
      refreshAfter: expect.any(String),
      heartbeatIntervalSeconds: 3600,
      ingestBaseUrl: `${f.broker.url}/ingest`,
      lastHeartbeatAt: '2030-01-01T00:00:00.000Z',
      status: 'active',
    });
  });

  it.each([
    ['corrupt', 'not json {'],
    ['truncated', '{"format":"logfire-broker-client/token/1","brokerUrl":"http'],
    ['empty', ''],
    ['of a foreign format', JSON.stringify({ format: 'someone-else/2', token: 'x' })],
    ['an array', '[1,2,3]'],
  ])('replaces a cache file that is %s, keeping the install id', async (_, content) => {
    const client = f.client();
    await client.getWriteToken();
    fs.writeFileSync(client.cacheFile, content);

    const token = await f.client().getWriteToken();

    expect(token).toBe(f.broker.tokens.get('tok_2')?.writeToken);
    expect(readTokenCache(client.cacheFile, f.broker.url, APP.name).value?.tokenId).toBe('tok_2');
    const [first, second] = installIds(f.broker.calls);
    expect(second).toBe(first);
  });

  it('replaces a cache written for another broker URL', async () => {
    const client = f.client();
    await client.getWriteToken();
    const record = JSON.parse(fs.readFileSync(client.cacheFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(client.cacheFile, JSON.stringify({ ...record, brokerUrl: 'https://other.example.com' }));

    expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_2')?.writeToken);
  });

  it('replaces a cache with a missing field', async () => {
    const client = f.client();
    await client.getWriteToken();
    const record = JSON.parse(fs.readFileSync(client.cacheFile, 'utf8')) as Record<string, unknown>;
    delete record.clientSecret;
    fs.writeFileSync(client.cacheFile, JSON.stringify(record));

    expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_2')?.writeToken);
  });

  it('uses one install id per user and app, whatever the broker', async () => {
    const other = await (await import('./testing/stubBroker')).startStubBroker();
    try {
      await f.client().getWriteToken();
      await f.client({ brokerUrl: other.url }).getWriteToken();
      expect(installIds(other.calls)).toEqual(installIds(f.broker.calls));
      await f.client({ app: { name: 'other-cli', version: '1.0.0' } }).getWriteToken();
      const ids = installIds(f.broker.calls);
      expect(ids[1]).not.toBe(ids[0]);
    } finally {
      await other.close();
    }
  });

  it('replaces a corrupt preferences file, keeping the install id of the cached token', async () => {
    const client = f.client();
    await client.getWriteToken();
    const prefsFile = cachePaths(path.dirname(client.cacheFile), f.broker.url, APP.name).preferencesFile;
    fs.writeFileSync(prefsFile, '{"format":');

    expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_1')?.writeToken);

    expect(readPreferences(prefsFile, APP.name).value?.installId).toBe(installIds(f.broker.calls)[0]);
    expect(f.broker.calls).toHaveLength(1);
  });

  it('starts a new install id when neither file is usable', async () => {
    const client = f.client();
    await client.getWriteToken();
    const prefsFile = cachePaths(path.dirname(client.cacheFile), f.broker.url, APP.name).preferencesFile;
    fs.writeFileSync(prefsFile, 'garbage');
    fs.writeFileSync(client.cacheFile, 'garbage');

    await f.client().getWriteToken();

    const prefs = readPreferences(prefsFile, APP.name).value;
    expect(prefs?.installId).toMatch(/^[0-9a-f-]{36}$/);
    const [first, second] = installIds(f.broker.calls);
    expect(second).toBe(prefs?.installId);
    expect(second).not.toBe(first);
  });

  it('keeps the install id of a cached token whose preferences file was lost', async () => {
    const client = f.client();
    await client.getWriteToken();
    const prefsFile = cachePaths(path.dirname(client.cacheFile), f.broker.url, APP.name).preferencesFile;
    fs.rmSync(prefsFile);

    expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_1')?.writeToken);
    expect(readPreferences(prefsFile, APP.name).value?.installId).toBe(installIds(f.broker.calls)[0]);
    expect(f.broker.calls).toHaveLength(1);
  });

  it('gives apps whose names differ only in punctuation their own files', () => {
    const a = cachePaths('/c', 'https://b', '@acme/cli');
    const b = cachePaths('/c', 'https://b', 'acme-cli');
    expect(a.tokenFile).not.toBe(b.tokenFile);
    expect(a.preferencesFile).not.toBe(b.preferencesFile);
    expect(path.basename(a.tokenFile)).toMatch(/^acme-cli-[0-9a-f]{12}\.token\.json$/);
  });
});
