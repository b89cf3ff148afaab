/**
 * `npm run bench` (after `npm run build`): measures the broker and writes docs/benchmarks.md.
 *   1. bundle sizes and cold init, first, while the machine is otherwise idle;
 *   2. DynamoDB requests per operation;
 *   3. latency and throughput through the local HTTP server;
 *   4. the rotation and sweep jobs over 100,000 tokens, against a full Scan (bench/lifecycle.ts);
 *   5. the client library: bundle, warm-cache getWriteToken(), example CLI startup (bench/clientLibrary.ts);
 *   6. with BENCH_BASELINE=<git ref>: that commit's broker against this tree's, side by side (bench/baseline.ts);
 *   7. the ingest relay against posting straight to the same upstream (bench/relay.ts);
 *   8. the Python client library: import, warm-cache write_token(), example CLI startup (bench/pythonClient.ts).
 * About two minutes on 2 cores, half of it loading the 100,000 tokens. Only loopback addresses are contacted.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { join } from 'node:path';
import { compareWithBaseline } from './baseline';
import type { QuotaCost } from './baselineReport';
import { startBenchBroker } from './broker';
import { inspectBundles, ROOT } from './bundles';
import { measureClient } from './clientLibrary';
import { clientFailures } from './clientReport';
import { measureColdInit } from './coldInit';
import { countDynamoRequests, passes } from './dynamoCounts';
import { storeHeartbeatFloor } from './floor';
import { jobPasses, measureLifecycle } from './lifecycle';
import { startLoadWorker, type LoadJob, type LoadResult } from './load';
import { measureBulkRevoke } from './adminBulk';
import { measurePythonClient } from './pythonClient';
import { pythonClientFailures } from './pythonClientReport';
import { EMULATED_RTT_MS, measureRelay } from './relay';
import { relayFailures } from './relayReport';
import { renderReport, MAX_BUNDLE_KB, MAX_INIT_RATIO, type Environment } from './report';
import { fmt, percentile } from './stats';

const INIT_RUNS = 30;
const FLOOR_REQUESTS = 500;
/** [scenario, concurrency, requests]: bounded, so the bench takes the same time on every run. */
const PLAN: [LoadJob['scenario'], number, number][] = [
  ['heartbeat', 1, 4000],
  ['heartbeat', 16, 4000],
  ['mint', 1, 1000],
  ['mint', 16, 1000],
  ['mint-idempotent', 1, 1000],
  ['mint-idempotent', 16, 1000],
  ['refresh', 1, 600],
  ['refresh', 16, 600],
];
/** Untimed: JIT, connection pools and dynalite's tables warm before anything is recorded. */
const WARM_UP: [LoadJob['scenario'], number, number][] = [
  ['heartbeat', 16, 400],
  ['mint', 16, 150],
  ['mint-idempotent', 16, 150],
  ['refresh', 4, 100],
];

/** A DynamoDB request's round trip from a Lambda in the same region (AWS: "single-digit milliseconds"). */
const DYNAMO_RTT_MS = 3;

/**
 * Mint latency with every quota enforced (the main broker) against a second broker with quotas off, the
 * same requests alternately, so drift in the machine hits both alike.
 */
async function measureQuotaCost(
  onUrl: string,
  worker: ReturnType<typeof startLoadWorker>,
): Promise<QuotaCost> {
  const cost: QuotaCost = { on: [], off: [], ownProcess: { on: [], off: [] } };
  const off = await startBenchBroker({ quotas: 'off' });
  try {
    for (const concurrency of [1, 16]) {
      for (let round = 0; round < 2; round++) {
        cost.on.push(await worker.run({ url: onUrl, scenario: 'mint', concurrency, count: 500 }));
        cost.off.push(await worker.run({ url: off.url, scenario: 'mint', concurrency, count: 500 }));
      }
    }
  } finally {
    await off.close();
  }
  // Again with DynamoDB in a process of its own: the extra writes then cost their round trip, not broker CPU.
  const [ownOn, ownOff] = await Promise.all([
    startBenchBroker({ quotas: 'on', dynamo: 'own-process' }),
    startBenchBroker({ quotas: 'off', dynamo: 'own-process' }),
  ]);
  try {
    for (const [scenario, concurrency, count] of WARM_UP.filter(([s]) => s === 'mint')) {
      await worker.run({ url: ownOn.url, scenario, concurrency, count });
      await worker.run({ url: ownOff.url, scenario, concurrency, count });
    }
    for (const concurrency of [1, 16]) {
      for (let round = 0; round < 2; round++) {
        cost.ownProcess!.on.push(
          await worker.run({ url: ownOn.url, scenario: 'mint', concurrency, count: 500 }),
        );
        cost.ownProcess!.off.push(
          await worker.run({ url: ownOff.url, scenario: 'mint', concurrency, count: 500 }),
        );
      }
    }
  } finally {
    await Promise.all([ownOn.close(), ownOff.close()]);
  }
  // Again as in AWS, where each DynamoDB request and Logfire's create are a network round trip away.
  const roundTripMs = { dynamo: DYNAMO_RTT_MS, logfire: EMULATED_RTT_MS };
  const [slowOn, slowOff] = await Promise.all([
    startBenchBroker({ quotas: 'on', dynamo: 'own-process', roundTripMs }),
    startBenchBroker({ quotas: 'off', dynamo: 'own-process', roundTripMs }),
  ]);
  cost.roundTrips = { ...roundTripMs, on: [], off: [] };
  try {
    for (const concurrency of [1, 16]) {
      for (let round = 0; round < 2; round++) {
        cost.roundTrips.on.push(
          await worker.run({ url: slowOn.url, scenario: 'mint', concurrency, count: 200 }),
        );
        cost.roundTrips.off.push(
          await worker.run({ url: slowOff.url, scenario: 'mint', concurrency, count: 200 }),
        );
      }
    }
  } finally {
    await Promise.all([slowOn.close(), slowOff.close()]);
  }
  return cost;
}

function versionOf(pkg: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    version: string;
  };
  return `${pkg} ${manifest.version}`;
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head} plus uncommitted changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function progress(result: LoadResult): void {
  const p50 = fmt(percentile(result.latenciesMs, 50));
  const p99 = fmt(percentile(result.latenciesMs, 99));
  const rate = fmt((result.count / result.elapsedMs) * 1000);
  console.log(
    `  ${result.scenario} c=${result.concurrency} n=${result.count}: p50 ${p50} ms, p99 ${p99} ms, ${rate} req/s`,
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log('bench: bundles and cold init');
  const bundles = await inspectBundles();
  const init = measureColdInit(bundles, INIT_RUNS);

  // Process start-up times too: measured while the machine is still quiet.
  console.log(
    'bench: client library (bundle, warm-cache getWriteToken, CLI startup against a hard-coded token)',
  );
  const client = await measureClient();
  console.log(
    'bench: Python client library (import, warm-cache write_token, CLI startup against a hard-coded token)',
  );
  const pythonClient = await measurePythonClient();

  console.log('bench: DynamoDB requests per operation, latency and throughput');
  const broker = await startBenchBroker();
  const worker = startLoadWorker();
  const load: LoadResult[] = [];
  let counts, floor, comparison, quotaCost, relay;
  try {
    counts = await countDynamoRequests(broker.url, broker.requests);
    for (const [scenario, concurrency, count] of WARM_UP)
      await worker.run({ url: broker.url, scenario, concurrency, count });
    floor = await storeHeartbeatFloor(broker, FLOOR_REQUESTS);
    for (const [scenario, concurrency, count] of PLAN) {
      const result = await worker.run({ url: broker.url, scenario, concurrency, count });
      progress(result);
      load.push(result);
    }
    console.log('bench: mint with quotas on against quotas off');
    quotaCost = await measureQuotaCost(broker.url, worker);
    if (process.env.BENCH_BASELINE) console.log(`bench: ${process.env.BENCH_BASELINE} against this tree`);
    comparison = await compareWithBaseline(worker);
    console.log('bench: ingest relay against posting straight to the same upstream');
    relay = await measureRelay(worker);
  } finally {
    worker.close();
    await broker.close();
  }

  console.log('bench: rotation and sweep over 100,000 tokens, against a full Scan');
  const lifecycle = await measureLifecycle();
  console.log('bench: a bulk revoke by app version, 1,000 matching among 100,000 tokens');
  const adminBulk = await measureBulkRevoke();

  const cpuList = cpus();
  const env: Environment = {
    date: new Date().toISOString(),
    node: process.version,
    machine: `${cpuList.length} cores (${cpuList[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()} ${arch()}`,
    commit: commit(),
    versions: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      'dynalite',
      'esbuild',
      '@opentelemetry/sdk-trace-base',
      '@opentelemetry/exporter-trace-otlp-proto',
    ]
      .map(versionOf)
      .join(', '),
    durationS: (Date.now() - started) / 1000,
  };
  const out = join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(
    out,
    renderReport({
      env,
      load,
      floor,
      counts,
      bundles,
      init,
      lifecycle,
      client,
      comparison,
      quotaCost,
      relay,
      pythonClient,
      adminBulk,
    }),
  );

  for (const c of counts)
    if (passes(c) === false) console.log(`FAIL: ${c.operation}: ${c.max} DynamoDB requests`);
  for (const b of bundles)
    if ((b.bytes - b.sdkBytes) / 1024 > MAX_BUNDLE_KB)
      console.log(`FAIL: ${b.name} has ${b.bytes - b.sdkBytes} bytes of its own`);
  for (const b of init.bundles)
    if (b.ratio > MAX_INIT_RATIO) console.log(`FAIL: cold init of ${b.label}: ${b.ratio.toFixed(2)}× bare`);
  for (const job of lifecycle.jobs) {
    const line = `${job.job}: read ${job.report.itemsRead} items for ${job.due} due, ${job.dueAfter} left due`;
    console.log(jobPasses(job) ? `  ${line}` : `FAIL: ${line}`);
  }
  console.log(`  client: CLI startup ${client.startup.ratio.toFixed(3)}× the hard-coded twin`);
  for (const failure of clientFailures(client)) console.log(`FAIL: ${failure}`);
  for (const failure of relayFailures(relay)) console.log(`FAIL: ${failure}`);
  console.log(`  python client: CLI startup ${pythonClient.startup.ratio.toFixed(3)}× the hard-coded twin`);
  for (const failure of pythonClientFailures(pythonClient)) console.log(`FAIL: ${failure}`);
  console.log(`bench: wrote docs/benchmarks.md in ${env.durationS.toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
