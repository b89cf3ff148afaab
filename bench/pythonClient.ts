/**
 * The Python client library (clients/python/, issue #11) in `npm run bench`:
 *   1. its import time: `import logfire_broker_client` in fresh `python3` processes (bytecode compiled, as
 *      after `pip install`, into a temporary PYTHONPYCACHEPREFIX so the checkout gets no __pycache__);
 *   2. warm-cache `write_token()`: in one Python process, a new client per call after a first call minted;
 *      a counting wrapper around the client's HTTP step proves the warm path makes no network call;
 *   3. startup of the example CLI (clients/python/examples/hello_cli.py) with a warm cache against its twin
 *      with a hard-coded token (hello_cli_hardcoded.py): fresh `python3` processes, interleaved in one run,
 *      each sending its span to the dev upstream of `npm start` (a child process), with a counting proxy in
 *      front of the broker's API.
 * Loopback only; about 20 s. `npx tsx bench/pythonClient.ts` runs this section alone and prints it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCountingProxy, type CountingProxy } from '../test/support/clientCli';
import { startLocalBroker, type LocalBroker } from '../test/support/localBroker';
import { ROOT } from './bundles';
import { measureStartupTwins, runCli, type CliRun, type StartupTwins } from './startupTwins';

/** Target of issue #11: the CLI with the client starts at most this much slower than with a hard-coded token. */
export const MAX_PYTHON_STARTUP_RATIO = 1.05;
const IMPORT_RUNS = 30;
const TOKEN_CALLS = 2000;
const STARTUP_RUNS = 30;
const STARTUP_WARM_UP = 3;
const PACKAGE = join(ROOT, 'clients', 'python');
const EXAMPLES = join(PACKAGE, 'examples');

export interface PythonClientBenchResult {
  python: string;
  /** ms per `import logfire_broker_client`, each in a fresh process. */
  importMs: number[];
  writeToken: { freshClient: number[]; networkCalls: number };
  startup: StartupTwins;
}

function runPython(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return runCli('python3', args, env, 30_000);
}

const IMPORT_PROBE =
  'import time; t = time.perf_counter(); import logfire_broker_client; print((time.perf_counter() - t) * 1000)';

const WRITE_TOKEN_PROBE = `
import json, os, sys, time
from logfire_broker_client import BrokerClient
from logfire_broker_client import _protocol
calls = [0]
real_post = _protocol.post
def counting_post(*args, **kwargs):
    calls[0] += 1
    return real_post(*args, **kwargs)
_protocol.post = counting_post
url, cache, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
make = lambda: BrokerClient(url, "hello-cli", "1.0.0", notice=False, cache_dir=cache, env={})
if make().write_token() is None:
    sys.exit("bench: the Python client could not mint a token from the bench broker")
calls[0] = 0
times = []
for _ in range(n):
    t = time.perf_counter()
    make().write_token()
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"freshClient": times, "networkCalls": calls[0]}))
`;

async function measureStartup(
  broker: LocalBroker,
  proxy: CountingProxy,
  base: NodeJS.ProcessEnv,
): Promise<StartupTwins> {
  const home = mkdtempSync(join(tmpdir(), 'logfire-broker-bench-pyhome-'));
  const withClientEnv = {
    ...base,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    HELLO_BROKER_URL: proxy.url,
  };
  try {
    return await measureStartupTwins(
      broker,
      proxy,
      { runs: STARTUP_RUNS, warmUps: STARTUP_WARM_UP },
      (twin) => ({
        client: () => runPython([join(EXAMPLES, 'hello_cli.py'), 'bench'], withClientEnv),
        hardcoded: () =>
          runPython([join(EXAMPLES, 'hello_cli_hardcoded.py'), 'bench'], {
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

export async function measurePythonClient(): Promise<PythonClientBenchResult> {
  const pycache = mkdtempSync(join(tmpdir(), 'logfire-broker-bench-pycache-'));
  const cache = mkdtempSync(join(tmpdir(), 'logfire-broker-bench-pycachedir-'));
  // Compiled bytecode, as an installed package has; PYTHONDONTWRITEBYTECODE would recompile every run.
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PYTHONPATH: join(PACKAGE, 'src'),
    PYTHONPYCACHEPREFIX: pycache,
  };
  const broker = await startLocalBroker();
  const proxy = await startCountingProxy(broker.url);
  try {
    const version = (
      await runPython(['-c', 'import sys; print(sys.version.split()[0])'], base)
    ).stdout.trim();
    await runPython(['-c', IMPORT_PROBE], base); // writes the bytecode
    const importMs: number[] = [];
    for (let i = 0; i < IMPORT_RUNS; i++)
      importMs.push(Number((await runPython(['-c', IMPORT_PROBE], base)).stdout));
    const probe = await runPython(['-c', WRITE_TOKEN_PROBE, broker.url, cache, String(TOKEN_CALLS)], base);
    const writeToken = JSON.parse(probe.stdout) as PythonClientBenchResult['writeToken'];
    const startup = await measureStartup(broker, proxy, base);
    return { python: `Python ${version}`, importMs, writeToken, startup };
  } finally {
    await proxy.close();
    await broker.stop();
    rmSync(pycache, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
}

export function pythonClientPasses(result: PythonClientBenchResult): boolean {
  const { startup } = result;
  return (
    startup.ratio <= MAX_PYTHON_STARTUP_RATIO &&
    startup.failures.length === 0 &&
    startup.brokerRequests === 0 &&
    startup.batches === 2 * startup.withClient.length &&
    result.writeToken.networkCalls === 0
  );
}

if (require.main === module) {
  void (async () => {
    const { pythonClientSection } = await import('./pythonClientReport');
    console.log(pythonClientSection(await measurePythonClient(), 9).join('\n'));
  })();
}
