/**
 * The client library's cache under concurrency and tampering (issue #8, point 7), in real CLI processes
 * (clients/node/examples/hello-cli.ts through tsx) against the real `npm start` broker behind a counting proxy:
 *
 * - many first runs at once on a machine kept busy by other processes agree on one install id and mint once;
 * - a symlink, FIFO or directory planted at a cache path is refused, never followed or written through, and
 *   never hangs the CLI; a cache directory others can write to, or that belongs to someone else, is not used.
 *
 * Runs with `HELLO_CLI_TELEMETRY_DEBUG=live` print why telemetry is off, which is what a user debugging it sees.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { CachePaths } from '../clients/node/src/cacheFiles';
import {
  cachedToken,
  calls,
  helloCliPaths,
  runHelloCli,
  startBusyProcesses,
  startSilentServer,
  useTempHomes,
  type CliOptions,
  type CountingProxy,
} from './support/clientCli';
import { startProxiedBroker, type ProxiedBroker } from './support/clientTestBed';

jest.setTimeout(120_000);

const newHome = useTempHomes();
const LIVE = { HELLO_CLI_TELEMETRY_DEBUG: 'live' };
const OFF_LINE = '[hello-cli telemetry] telemetry is off';
type CachePath = 'tokenFile' | 'preferencesFile' | 'lock';
const CACHE_PATHS: CachePath[] = ['tokenFile', 'preferencesFile', 'lock'];

const pathOf = (paths: CachePaths, which: CachePath): string =>
  which === 'lock' ? `${paths.tokenFile}.lock` : paths[which];

describe('hello-cli with a contested or tampered cache, against npm start', () => {
  let proxy: CountingProxy;
  const run = (home: string, options: Partial<CliOptions> = {}) =>
    runHelloCli({ home, brokerUrl: proxy.url, ...options });
  const mints = () => calls(proxy.requests).filter((call) => call === 'POST /v1/tokens').length;
  /** A home whose cache directory exists (0700) and holds nothing yet. */
  const emptyCache = () => {
    const home = newHome();
    const paths = helloCliPaths(home, proxy.url);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    return { home, paths };
  };

  let bed: ProxiedBroker | undefined;

  beforeAll(async () => {
    bed = await startProxiedBroker();
    ({ proxy } = bed);
  });
  afterAll(() => bed?.close());

  it('mints exactly once, for one install id, when 10 first runs start together on a busy machine; the next run mints nothing', async () => {
    // Prepare: three processes spinning on two cores for the whole test; a budget loose enough for the load
    const home = newHome();
    const paths = helloCliPaths(home, proxy.url);
    const env = { HELLO_BROKER_BUDGET_MS: '15000' };
    proxy.reset();
    const busy = startBusyProcesses(3, 90_000);
    try {
      // Act
      const runs = await Promise.all(
        Array.from({ length: 10 }, (_, i) => run(home, { env, args: [`run${i}`] })),
      );
      // Assess: every run did its own work; one mint; the preferences and the token agree on the install id
      for (const [i, result] of runs.entries()) {
        expect(result).toMatchObject({ code: 0, stdout: `Hello, run${i}!\n` });
      }
      expect(calls(proxy.requests)).toEqual(['POST /v1/tokens']);
      const minted = JSON.parse(proxy.requests[0]!.body) as { installId: string };
      const prefs = JSON.parse(readFileSync(paths.preferencesFile, 'utf8')) as { installId: string };
      expect(prefs.installId).toBe(minted.installId);
      expect(cachedToken(home)?.installId).toBe(minted.installId);

      // Act: the next run, still on the busy machine
      proxy.reset();
      const next = await run(home, { env });
      // Assess: no call to the broker at all
      expect(next.code).toBe(0);
      expect(proxy.connections()).toBe(0);
    } finally {
      busy.stop();
    }
  });

  it.each(CACHE_PATHS)(
    'never follows or writes through a symlink planted at the %s, and says why telemetry is off',
    async (which) => {
      // Prepare: the symlink points at a file (a folder for the lock) the user cares about
      const { home, paths } = emptyCache();
      const target = join(home, which === 'lock' ? 'precious-folder' : 'precious.txt');
      if (which === 'lock') {
        mkdirSync(target);
        writeFileSync(join(target, 'keep.txt'), 'keep me\n');
      } else {
        writeFileSync(target, 'precious\n', { mode: 0o644 });
      }
      const before = { mode: statSync(target).mode, mtimeMs: statSync(target).mtimeMs };
      symlinkSync(target, pathOf(paths, which));
      proxy.reset();
      // Act: two runs, the first of which would mint
      const first = await run(home, { env: LIVE, args: ['--exit-code', '3'] });
      const second = await run(home, { env: LIVE });
      // Assess: the CLI is unaffected; the link and its target are as they were; no secret went anywhere
      expect(first).toMatchObject({ code: 3, signal: null, stdout: 'Hello, world!\n' });
      expect(second).toMatchObject({ code: 0, signal: null });
      if (which === 'lock') expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('keep me\n');
      else expect(readFileSync(target, 'utf8')).toBe('precious\n');
      expect(statSync(target)).toMatchObject(before);
      expect(lstatSync(pathOf(paths, which)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(pathOf(paths, which))).toBe(target);
      expect(mints()).toBe(0);
      expect(first.stderr).toContain(OFF_LINE);
      expect(first.stderr).toMatch(/is a symbolic link/);
    },
  );

  it.each([
    [
      'is writable by others (mode 0777)',
      (dir: string) => chmodSync(dir, 0o777),
      /writable by group or others/,
    ],
    [
      'belongs to another user',
      (dir: string) => chownSync(dir, Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), 0),
      /belongs to uid \d+, not to you/,
    ],
  ])(
    'does not use a cache directory that %s: no telemetry to a planted ingest URL, and a debug line says why',
    async (_, tamper, why) => {
      // Prepare: a warm cache whose ingest URL someone redirected to a server of theirs
      const planted = await startSilentServer();
      const home = newHome();
      try {
        expect((await run(home)).code).toBe(0);
        const cache = cachedToken(home)!;
        const record = JSON.parse(readFileSync(cache.file, 'utf8')) as Record<string, unknown>;
        writeFileSync(cache.file, JSON.stringify({ ...record, ingestBaseUrl: planted.url }), { mode: 0o600 });
        const dir = helloCliPaths(home, proxy.url).dir;
        tamper(dir);
        const mode = statSync(dir).mode;
        proxy.reset();
        // Act
        const result = await run(home, { env: LIVE, args: ['--exit-code', '4'] });
        // Assess: nothing left for the planted URL or the broker; the directory is left as it was
        expect(result).toMatchObject({ code: 4, signal: null, stdout: 'Hello, world!\n' });
        expect(planted.connections()).toBe(0);
        expect(proxy.connections()).toBe(0);
        expect(result.stderr).toContain(OFF_LINE);
        expect(result.stderr).toMatch(why);
        expect(statSync(dir).mode).toBe(mode);
      } finally {
        await planted.close();
      }
    },
  );

  it.each(CACHE_PATHS)('is not held past its budget by a FIFO at the %s', async (which) => {
    // Prepare: the same CLI with telemetry off is the baseline (process start, tsx, the greeting)
    const budgetMs = 1000;
    const { home, paths } = emptyCache();
    execFileSync('mkfifo', [pathOf(paths, which)]);
    const env = { ...LIVE, HELLO_BROKER_BUDGET_MS: String(budgetMs) };
    const baseline = await run(newHome(), { env: { HELLO_CLI_TELEMETRY: '0' } });
    proxy.reset();
    // Act
    const result = await run(home, { env, args: ['--exit-code', '5'], timeoutMs: 15_000 });
    // Assess: not killed by the harness, and at most the budget (plus start-up noise on a loaded machine)
    expect(result).toMatchObject({ code: 5, signal: null, stdout: 'Hello, world!\n' });
    expect(result.ms).toBeLessThan(baseline.ms + budgetMs + 1500);
    expect(result.stderr).toMatch(/is a FIFO/);
    expect(lstatSync(pathOf(paths, which)).isFIFO()).toBe(true);
    expect(mints()).toBe(0);
  });

  it.each(['tokenFile', 'preferencesFile'] as const)(
    'does not mint at every run when a directory sits at the %s',
    async (which) => {
      // Prepare
      const { home, paths } = emptyCache();
      mkdirSync(paths[which]);
      proxy.reset();
      // Act
      const runs = [await run(home, { env: LIVE }), await run(home, { env: LIVE })];
      // Assess: no mint at all (the token could not be kept), the folder untouched, a debug line says why
      expect(mints()).toBe(0);
      expect(statSync(paths[which]).isDirectory()).toBe(true);
      for (const result of runs) {
        expect(result).toMatchObject({ code: 0, signal: null, stdout: 'Hello, world!\n' });
        expect(result.stderr).toMatch(/is a directory/);
      }
    },
  );
});
