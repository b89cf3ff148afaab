import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { MintRequest } from '../../../functions/core/contract';
import { cachePaths, readPreferences } from './cacheFiles';
import { MAX_CACHE_FILE_BYTES, writeCacheFile } from './safeFiles';
import { APP, sink, useFixture } from './testing/fixture';

const LIVE = { HELLO_CLI_TELEMETRY_DEBUG: 'live' };

describe('Cache safety (issue #8, point 7)', () => {
  const f = useFixture();
  const dir = () => path.join(f.dir, 'config');
  const paths = () => cachePaths(dir(), f.broker.url, APP.name);
  const mintedInstallIds = () =>
    f.broker.calls
      .filter((call) => call.route === 'mint')
      .map((call) => (call.body as MintRequest).installId);

  describe('install id agreement between processes', () => {
    it('adopts the preferences another process created after this one found none, instead of overwriting them', async () => {
      // Prepare: this run looked (no preferences yet); another run then created them
      const late = f.client();
      expect(late.enabled).toBe(true);
      const early = f.client();
      await early.resourceAttributes();
      const created = readPreferences(paths().preferencesFile, APP.name).value!;
      // Act: both runs get their token
      const tokens = [await late.getWriteToken(), await early.getWriteToken()];
      // Assess: one install id, one mint, one token
      expect(readPreferences(paths().preferencesFile, APP.name).value?.installId).toBe(created.installId);
      expect(mintedInstallIds()).toEqual([created.installId]);
      expect(tokens).toEqual([
        f.broker.tokens.get('tok_1')!.writeToken,
        f.broker.tokens.get('tok_1')!.writeToken,
      ]);
    });

    it('mints for the install id the preferences file holds when it takes the lock', async () => {
      // Prepare: this run read one install id; the file then changed (another run replaced a corrupt one)
      const client = f.client();
      await client.resourceAttributes();
      const replaced = { ...readPreferences(paths().preferencesFile, APP.name).value! };
      replaced.installId = '0a4d6a40-7a3b-4f0e-9a43-7b2a61c0ffee';
      fs.writeFileSync(paths().preferencesFile, JSON.stringify(replaced));
      // Act
      await client.getWriteToken();
      // Assess
      expect(mintedInstallIds()).toEqual([replaced.installId]);
      expect(await f.client().getWriteToken()).toBe(f.broker.tokens.get('tok_1')!.writeToken);
      expect(f.broker.count('mint')).toBe(1);
    });

    it('keeps an opt-out another process wrote while this one showed the notice', () => {
      // Prepare: this run has read the preferences; then the user runs `mycli telemetry disable`
      const showing = f.client({ notice: 'notice', stderr: sink() });
      showing.disable();
      showing.enable();
      expect(showing.enabled).toBe(true);
      f.client().disable();
      // Act
      showing.noticeOnce();
      // Assess
      const prefs = readPreferences(paths().preferencesFile, APP.name).value;
      expect(prefs).toMatchObject({ disabled: true, noticeShownAt: expect.any(String) });
    });
  });

  describe('what is at a cache path', () => {
    it('does not write through a symlink at the preferences path on disable()', () => {
      // Prepare
      fs.mkdirSync(dir(), { mode: 0o700 });
      const target = path.join(f.dir, 'dotfile');
      fs.writeFileSync(target, 'mine\n');
      fs.symlinkSync(target, paths().preferencesFile);
      const stderr = sink();
      // Act
      f.client({ stderr, env: LIVE }).disable();
      // Assess
      expect(fs.readFileSync(target, 'utf8')).toBe('mine\n');
      expect(fs.lstatSync(paths().preferencesFile).isSymbolicLink()).toBe(true);
      expect(stderr.text()).toMatch(/is a symbolic link, not a small regular file: .*for this run only/);
    });

    it('refuses a token cache over 64 KiB: telemetry off, the file neither read nor replaced', async () => {
      // Prepare
      await f.client().getWriteToken();
      const big = `{"padding":"${'x'.repeat(MAX_CACHE_FILE_BYTES)}"}`;
      fs.writeFileSync(paths().tokenFile, big);
      const stderr = sink();
      // Act
      const token = await f.client({ stderr, env: LIVE }).getWriteToken();
      // Assess
      expect(token).toBeUndefined();
      expect(f.broker.count('mint')).toBe(1);
      expect(fs.readFileSync(paths().tokenFile, 'utf8')).toBe(big);
      expect(stderr.text()).toContain(`is a file of ${big.length} bytes, not a small regular file`);
    });

    it('does not mint at every run when a socket sits at the token cache path', async () => {
      // Prepare: something listening on a UNIX socket where the token cache belongs
      fs.mkdirSync(dir(), { mode: 0o700 });
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(paths().tokenFile, resolve));
      const stderr = sink();
      try {
        // Act: two runs
        const tokens = [
          await f.client({ stderr, env: LIVE }).getWriteToken(),
          await f.client({ stderr, env: LIVE }).getWriteToken(),
        ];
        // Assess
        expect(tokens).toEqual([undefined, undefined]);
        expect(f.broker.count('mint')).toBe(0);
        expect(stderr.text()).toContain('is a socket, not a small regular file');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('refuses a file at the lock path at once, instead of waiting out the budget', async () => {
      // Prepare
      fs.mkdirSync(dir(), { mode: 0o700 });
      fs.writeFileSync(`${paths().tokenFile}.lock`, 'planted');
      const stderr = sink();
      // Act
      const started = performance.now();
      const token = await f.client({ stderr, env: LIVE, budgetMs: 1000 }).getWriteToken();
      // Assess
      expect(token).toBeUndefined();
      expect(performance.now() - started).toBeLessThan(300);
      expect(f.broker.connections).toBe(0);
      expect(stderr.text()).toMatch(/\.lock is a file of 7 bytes, not a lock directory/);
      expect(fs.readFileSync(`${paths().tokenFile}.lock`, 'utf8')).toBe('planted');
    });

    it('never replaces anything but a regular file, even when asked to write', () => {
      // Prepare
      fs.mkdirSync(dir(), { mode: 0o700 });
      const target = path.join(f.dir, 'elsewhere');
      fs.writeFileSync(target, 'theirs');
      fs.symlinkSync(target, paths().tokenFile);
      // Act / Assess
      expect(() => writeCacheFile(paths().tokenFile, 'ours')).toThrow(/is a symbolic link/);
      expect(fs.readFileSync(target, 'utf8')).toBe('theirs');
      expect(fs.readdirSync(dir())).toEqual([path.basename(paths().tokenFile)]); // no temp file left
    });
  });

  describe('the cache directory', () => {
    it('uses a symlinked cache directory (a dotfiles setup) that points at a private directory', async () => {
      // Prepare
      const real = path.join(f.dir, 'dotfiles', 'logfire-broker');
      fs.mkdirSync(real, { recursive: true, mode: 0o700 });
      const linked = path.join(f.dir, 'linked');
      fs.symlinkSync(real, linked);
      // Act
      const token = await f.client({ cacheDir: linked }).getWriteToken();
      // Assess
      expect(token).toBe(f.broker.tokens.get('tok_1')!.writeToken);
      expect(fs.readdirSync(real).sort()).toEqual(
        [paths().preferencesFile, paths().tokenFile].map((file) => path.basename(file)).sort(),
      );
    });

    it.each([
      ['0770', 0o770],
      ['0707', 0o707],
      ['1777 (like /tmp)', 0o1777],
    ])('turns telemetry off for a directory of mode %s and leaves it as it is', async (_, mode) => {
      // Prepare
      fs.mkdirSync(dir());
      fs.chmodSync(dir(), mode);
      const stderr = sink();
      const client = f.client({ stderr, env: LIVE });
      // Act
      const token = await client.getWriteToken();
      client.disable();
      // Assess: no mint, nothing written, the mode untouched
      expect(token).toBeUndefined();
      expect(f.broker.connections).toBe(0);
      expect(fs.readdirSync(dir())).toEqual([]);
      expect(fs.statSync(dir()).mode & 0o7777).toBe(mode);
      expect(stderr.text()).toContain(`telemetry is off: the cache directory ${dir()} is writable by group`);
    });
  });
});
