/**
 * Startup of an example CLI with the broker client (warm cache) against its twin with a hard-coded token, in
 * fresh processes: shared by the Node and the Python client benches, which differ only in how they run one.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { traceBatches, type CountingProxy } from '../test/support/clientCli';
import type { LocalBroker } from '../test/support/localBroker';
import { fmt, median, percentile } from './stats';

export interface CliRun {
  /** Wall ms, spawn to exit. */
  ms: number;
  code: number | null;
  stdout: string;
}

/** Wall milliseconds since `since` (a `process.hrtime.bigint()`). */
export function elapsedMs(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

/**
 * Runs one CLI process and times it, spawn to exit; killed after `timeoutMs`. Asynchronous, not spawnSync:
 * the broker the CLI talks to runs on this process's event loop.
 * @example const run = await runCli(process.execPath, [file, 'bench'], env, 10_000);
 */
export function runCli(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<CliRun> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((done) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ ms: elapsedMs(started), code, stdout });
    });
  });
}

export interface StartupTwins {
  /** Wall ms of each run, spawn to exit. */
  withClient: number[];
  hardcoded: number[];
  /** Requests to the broker's API during the timed runs (must be 0). */
  brokerRequests: number;
  /** OTLP batches the dev upstream logged during the timed runs (one per run expected). */
  batches: number;
  /** Runs whose exit code or output was not the expected one. */
  failures: string[];
  ratio: number;
}

/** How to run each twin once; `hardcoded` gets the write token a client of this app was minted. */
export type TwinRunners = (twin: { writeToken: string; ingestBaseUrl: string }) => {
  client: () => Promise<CliRun>;
  hardcoded: () => Promise<CliRun>;
};

/**
 * One first run (notice, mint) and `warmUps` of each, then `runs` of each, alternating which goes first so
 * drift and caches fall on both alike. Each run must exit 0 and greet `bench`.
 * @example await measureStartupTwins(broker, proxy, { runs: 30, warmUps: 3 }, (twin) => ({ client, hardcoded }))
 */
export async function measureStartupTwins(
  broker: LocalBroker,
  proxy: CountingProxy,
  plan: { runs: number; warmUps: number },
  runners: TwinRunners,
): Promise<StartupTwins> {
  // A token for the twin, minted the way any client of this app would.
  const minted = await fetch(`${broker.url}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ installId: randomUUID(), app: { name: 'hello-cli', version: '1.0.0' } }),
  });
  const issued = (await minted.json()) as { writeToken: string; ingest: { baseUrl: string } };
  const run = runners({ writeToken: issued.writeToken, ingestBaseUrl: issued.ingest.baseUrl });

  const failures: string[] = [];
  const check = (label: string, result: CliRun) => {
    if (result.code !== 0 || !result.stdout.includes('Hello, bench!')) {
      failures.push(
        `${label}: exit ${String(result.code)}, stdout ${JSON.stringify(result.stdout.slice(0, 80))}`,
      );
    }
    return result.ms;
  };
  // The first run shows the notice and mints: the cache is warm after it.
  check('first run', await run.client());
  for (let i = 0; i < plan.warmUps; i++) {
    check('warm-up', await run.client());
    check('warm-up (hard-coded)', await run.hardcoded());
  }
  proxy.reset();
  const batchesBefore = traceBatches(broker.output()).length;
  const withClient: number[] = [];
  const hardcoded: number[] = [];
  for (let i = 0; i < plan.runs; i++) {
    const order = i % 2 === 0 ? (['client', 'hardcoded'] as const) : (['hardcoded', 'client'] as const);
    for (const which of order) {
      (which === 'client' ? withClient : hardcoded).push(check(which, await run[which]()));
    }
  }
  // The broker's log line of the last batch may still be in the pipe.
  const expected = batchesBefore + 2 * plan.runs;
  for (const end = Date.now() + 3000; traceBatches(broker.output()).length < expected && Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    withClient,
    hardcoded,
    brokerRequests: proxy.requests.length,
    batches: traceBatches(broker.output()).length - batchesBefore,
    failures,
    ratio: median(withClient) / median(hardcoded),
  };
}

/**
 * The table of docs/benchmarks.md for one client: the twin, then the CLI with the client and its ratio.
 * @example lines.push(...startupTable(result.startup, 'hello-cli', 1.05, passes));
 */
export function startupTable(
  startup: StartupTwins,
  cli: string,
  maxRatio: number,
  passes: boolean,
): string[] {
  const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  const clientMedian = median(startup.withClient);
  const hardcodedMedian = median(startup.hardcoded);
  const sign = clientMedian >= hardcodedMedian ? '+' : '';
  return [
    row(['CLI', 'runs', 'median ms', 'p90 ms', 'ratio of medians', 'target', 'result', 'command']),
    row(['---', '--:', '--:', '--:', '--:', '---', '---', '---']),
    row([
      `${cli} with a hard-coded token`,
      startup.hardcoded.length,
      fmt(hardcodedMedian),
      fmt(percentile(startup.hardcoded, 90)),
      '1.00',
      '—',
      '—',
      '`npm run bench`',
    ]),
    row([
      `${cli} with the broker client, warm cache`,
      startup.withClient.length,
      fmt(clientMedian),
      fmt(percentile(startup.withClient, 90)),
      `${startup.ratio.toFixed(3)} (${sign}${fmt(clientMedian - hardcodedMedian)} ms)`,
      `≤ ${maxRatio}`,
      passes ? 'PASS' : '**FAIL**',
      '`npm run bench`',
    ]),
  ];
}
