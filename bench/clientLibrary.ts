/**
 * The client library (clients/node/, issue #5) in `npm run bench`:
 *   1. its bundle: esbuild of clients/node/src/index.ts, minified, every dependency inlined (Node built-ins are not);
 *   2. warm-cache `getWriteToken()`: in this process, with a cache file the first call wrote, timed for a
 *      new client per call (what each CLI run pays: read and parse the cache) and for repeated calls on one
 *      client; a counting `fetch` proves the warm path makes no network call;
 *   3. startup of the example CLI (clients/node/examples/hello-cli.ts) with a warm cache against its twin with a
 *      hard-coded token (hello-cli-hardcoded.ts): both bundled the same way, run as fresh `node` processes,
 *      interleaved in one run, each sending its span to the dev upstream of `npm start` (a child process,
 *      test/support/localBroker.ts), with a counting proxy in front of its API.
 * Loopback only; about 25 s.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { createBrokerClient } from '../clients/node/src';
import { startCountingProxy, type CountingProxy } from '../test/support/clientCli';
import { startLocalBroker, type LocalBroker } from '../test/support/localBroker';
import { ROOT } from './bundles';
import { elapsedMs, measureStartupTwins, runCli, type CliRun, type StartupTwins } from './startupTwins';

/** Target of issue #5: the CLI with the client starts at most this much slower than with a hard-coded token. */
export const MAX_STARTUP_RATIO = 1.05;
const TOKEN_CALLS = 2000;
const STARTUP_RUNS = 40;
const STARTUP_WARM_UP = 3;
const OUT_DIR = join(ROOT, 'dist', 'bench', 'client');
const APP = { name: 'hello-cli', version: '1.0.0' };

export interface ClientBundle {
  bytes: number;
  gzipBytes: number;
  /** Bytes in the output per package or source folder, largest first. */
  modules: { module: string; bytes: number }[];
}

export interface ClientBenchResult {
  bundle: ClientBundle;
  getWriteToken: {
    /** ms per call, a new client each time (cache file read and parsed). */
    freshClient: number[];
    /** ms per call, the same client again. */
    sameClient: number[];
    /** `fetch` calls made by the timed calls (must be 0). */
    networkCalls: number;
  };
  startup: StartupTwins;
}

/** node_modules/@scope/pkg/... → @scope/pkg; clients/node/src/x.ts → clients/node/src. */
function moduleOf(input: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (inPackage) return inPackage[1]!;
  return input.split('/').slice(0, -1).join('/') || input;
}

function modulesOf(meta: Metafile): ClientBundle['modules'] {
  const byModule: Record<string, number> = {};
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      byModule[moduleOf(input)] = (byModule[moduleOf(input)] ?? 0) + bytesInOutput;
    }
  }
  return Object.entries(byModule)
    .map(([module, bytes]) => ({ module, bytes }))
    .filter((m) => m.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

/** The library as a CLI author's bundler would ship it: minified, dependencies inlined. */
export async function bundleClient(): Promise<ClientBundle> {
  const result = await build({
    entryPoints: [join(ROOT, 'clients', 'node', 'src', 'index.ts')],
    bundle: true,
    minify: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const code = result.outputFiles[0]!.contents;
  return { bytes: code.length, gzipBytes: gzipSync(code).length, modules: modulesOf(result.metafile) };
}

/** Both example CLIs bundled alike (OpenTelemetry included), so the startup comparison is like for like. */
async function bundleExamples(): Promise<{ withClient: string; hardcoded: string }> {
  mkdirSync(OUT_DIR, { recursive: true });
  const files = {
    withClient: join(OUT_DIR, 'hello-cli.cjs'),
    hardcoded: join(OUT_DIR, 'hello-cli-hardcoded.cjs'),
  };
  for (const [entry, outfile] of [
    ['hello-cli.ts', files.withClient],
    ['hello-cli-hardcoded.ts', files.hardcoded],
  ] as const) {
    await build({
      entryPoints: [join(ROOT, 'clients', 'node', 'examples', entry)],
      outfile,
      bundle: true,
      minify: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'error',
    });
  }
  return files;
}

async function measureGetWriteToken(brokerUrl: string): Promise<ClientBenchResult['getWriteToken']> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'logfire-broker-bench-cache-'));
  let networkCalls = 0;
  const countingFetch: typeof fetch = (input, init) => {
    networkCalls += 1;
    return fetch(input, init);
  };
  const options = {
    brokerUrl,
    app: APP,
    cacheDir,
    notice: false as const,
    env: {},
    fetch: countingFetch,
    stderr: { write: () => true },
  };
  try {
    // The first call mints and writes the cache file; everything after it is the warm path.
    const first = await createBrokerClient(options).getWriteToken();
    if (first === undefined)
      throw new Error('bench: the client could not mint a token from the bench broker');
    networkCalls = 0;
    const freshClient: number[] = [];
    const sameClient: number[] = [];
    const client = createBrokerClient(options);
    await client.getWriteToken();
    for (let i = 0; i < TOKEN_CALLS; i++) {
      let started = process.hrtime.bigint();
      await createBrokerClient(options).getWriteToken();
      freshClient.push(elapsedMs(started));
      started = process.hrtime.bigint();
      await client.getWriteToken();
      sameClient.push(elapsedMs(started));
    }
    return { freshClient, sameClient, networkCalls };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** The example CLI bundle `file`, in a fresh Node process. */
function runNode(file: string, env: NodeJS.ProcessEnv): Promise<CliRun> {
  return runCli(process.execPath, [file, 'bench'], env, 10_000);
}

async function measureStartup(broker: LocalBroker, proxy: CountingProxy): Promise<StartupTwins> {
  const files = await bundleExamples();
  const home = mkdtempSync(join(tmpdir(), 'logfire-broker-bench-home-'));
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
  };
  try {
    return await measureStartupTwins(
      broker,
      proxy,
      { runs: STARTUP_RUNS, warmUps: STARTUP_WARM_UP },
      (twin) => ({
        client: () => runNode(files.withClient, { ...base, HELLO_BROKER_URL: proxy.url }),
        hardcoded: () =>
          runNode(files.hardcoded, {
            ...base,
            HELLO_WRITE_TOKEN: twin.writeToken,
            HELLO_INGEST_URL: twin.ingestBaseUrl,
          }),
      }),
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export async function measureClient(): Promise<ClientBenchResult> {
  const bundle = await bundleClient();
  // `npm start` itself, with its dev upstream; its own process, so these runs do not share an event loop with it.
  const broker = await startLocalBroker();
  const proxy = await startCountingProxy(broker.url);
  try {
    const getWriteToken = await measureGetWriteToken(broker.url);
    const startup = await measureStartup(broker, proxy);
    return { bundle, getWriteToken, startup };
  } finally {
    await proxy.close();
    await broker.stop();
  }
}

export function clientPasses(result: ClientBenchResult): boolean {
  return (
    result.startup.ratio <= MAX_STARTUP_RATIO &&
    result.startup.failures.length === 0 &&
    result.startup.brokerRequests === 0 &&
    result.startup.batches === 2 * result.startup.withClient.length &&
    result.getWriteToken.networkCalls === 0
  );
}
