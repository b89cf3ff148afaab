/**
 * Before and after, in one run: the broker of another commit (`BENCH_BASELINE`, a git ref) and this tree's,
 * each a real `npm start` process (dev upstream) on a DynamoDB (dynalite) in this process behind a proxy
 * that counts the requests on the wire. Both get the same requests from the same load worker, alternately,
 * so drift in the machine hits both alike. Loopback only.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUOTA_VARIABLES } from '../functions/config';
import { startEmbeddedDynamo } from '../functions/local/embeddedDynamo';
import type { RequestCounter } from '../test/support/requestCounter';
import { ROOT } from './bundles';
import { countDynamoRequests, type OperationCount } from './dynamoCounts';
import type { LoadJob, LoadResult, LoadWorker } from './load';

export interface BrokerSide {
  label: string;
  counts: OperationCount[];
  load: LoadResult[];
}

export interface Comparison {
  baselineRef: string;
  baselineCommit: string;
  sides: [BrokerSide, BrokerSide];
}

const QUOTAS_ON = Object.fromEntries(Object.values(QUOTA_VARIABLES).map(({ env }) => [env, '1000000000']));
const QUOTAS_OFF = Object.fromEntries(Object.values(QUOTA_VARIABLES).map(({ env }) => [env, '0']));

/** [scenario, concurrency, requests] for each side. */
const PLAN: [LoadJob['scenario'], number, number][] = [
  ['mint', 1, 400],
  ['mint', 16, 400],
  ['mint-idempotent', 1, 400],
  ['refresh', 1, 300],
  ['refresh', 16, 300],
  ['heartbeat', 1, 1000],
];

/** dynalite behind an HTTP proxy that counts requests by DynamoDB operation (`X-Amz-Target`). */
async function countingDynamo(): Promise<{
  endpoint: string;
  counter: RequestCounter;
  close(): Promise<void>;
}> {
  const dynamo = await startEmbeddedDynamo();
  const target = new URL(dynamo.endpoint);
  const counts: Record<string, number> = {};
  const proxy: Server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? 'Unknown')
      .split('.')
      .pop()!;
    counts[operation] = (counts[operation] ?? 0) + 1;
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    counter: {
      counts,
      total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
      reset: () => {
        for (const name of Object.keys(counts)) delete counts[name];
      },
    },
    close: async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await dynamo.close();
    },
  };
}

/** `npm start` of the tree at `root` (its functions/local/main.ts), on a free port, waiting for its URL. */
async function startBroker(
  root: string,
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(BROKER_|LOGFIRE_)/.test(k)),
  );
  const child = spawn(
    join(ROOT, 'node_modules', '.bin', 'tsx'),
    [join(root, 'functions', 'local', 'main.ts')],
    {
      cwd: root,
      env: { ...clean, BROKER_PORT: '0', BROKER_LOG_LEVEL: 'WARN', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the kill below reaches tsx's child too
    },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bench: broker at ${root} did not start:\n${output}`)),
      30_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', () => reject(new Error(`bench: broker at ${root} exited:\n${output}`)));
  });
  return { url, child };
}

/**
 * Measures `BENCH_BASELINE` against this tree, or returns undefined when it is unset.
 * @example BENCH_BASELINE=2db0ed7 npm run bench
 */
export async function compareWithBaseline(worker: LoadWorker): Promise<Comparison | undefined> {
  const baselineRef = process.env.BENCH_BASELINE?.trim();
  if (!baselineRef) return undefined;
  const baselineCommit = execFileSync('git', ['rev-parse', '--short', baselineRef], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const tree = mkdtempSync(join(tmpdir(), 'broker-baseline-'));
  execFileSync('git', ['worktree', 'add', '--detach', tree, baselineCommit], { cwd: ROOT, stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  const dynamo = await countingDynamo();
  const children: ChildProcess[] = [];
  try {
    const sides = [
      { label: `before (${baselineCommit})`, root: tree, table: 'baseline-tokens' },
      { label: 'after (this tree)', root: ROOT, table: 'current-tokens' },
    ];
    const brokers = [];
    for (const side of sides) {
      const broker = await startBroker(side.root, {
        BROKER_UPSTREAM: 'dev',
        BROKER_DYNAMODB_ENDPOINT: dynamo.endpoint,
        BROKER_TABLE_NAME: side.table,
        BROKER_DATA_DIR: mkdtempSync(join(tmpdir(), 'broker-bench-data-')),
        BROKER_SCHEDULE_INTERVAL: '1h',
        // Every quota enforced, far above the load (the baseline commit, which has none, ignores these);
        // BENCH_QUOTAS=off measures this tree without them, to see the cost of the rest of a change alone.
        ...(process.env.BENCH_QUOTAS === 'off' ? QUOTAS_OFF : QUOTAS_ON),
      });
      children.push(broker.child);
      brokers.push(broker);
    }
    const results: BrokerSide[] = sides.map((side) => ({ label: side.label, counts: [], load: [] }));
    for (let i = 0; i < brokers.length; i++) {
      results[i]!.counts = await countDynamoRequests(brokers[i]!.url, dynamo.counter);
      await worker.run({ url: brokers[i]!.url, scenario: 'refresh', concurrency: 4, count: 100 }); // warm-up
    }
    for (const [scenario, concurrency, count] of PLAN) {
      for (let i = 0; i < brokers.length; i++) {
        results[i]!.load.push(await worker.run({ url: brokers[i]!.url, scenario, concurrency, count }));
      }
    }
    return { baselineRef, baselineCommit, sides: [results[0]!, results[1]!] };
  } finally {
    for (const child of children) if (child.pid) process.kill(-child.pid, 'SIGKILL');
    await dynamo.close();
    execFileSync('git', ['worktree', 'remove', '--force', tree], { cwd: ROOT, stdio: 'ignore' });
    rmSync(tree, { recursive: true, force: true });
  }
}
