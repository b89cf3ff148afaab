/**
 * The load generator. It runs in a child process (forked from bench/run.ts) so the client's own work does
 * not share the broker's event loop: on 2 cores, one runs the broker and dynalite, the other the client.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { IssuedToken } from '../functions/core/contract';
import { BenchClient, type Reply } from './client';

export type Scenario = 'heartbeat' | 'mint' | 'mint-idempotent' | 'refresh' | 'ingest';

export interface LoadJob {
  url: string;
  scenario: Scenario;
  concurrency: number;
  count: number;
  /**
   * `ingest`: the OTLP batch (protobuf, base64) posted to `<url>/v1/traces`; worker `w` sends with
   * `tokens[w % tokens.length]`, as each exporting install has a token of its own.
   */
  ingest?: { tokens: string[]; batchBase64: string };
}

export interface LoadResult extends LoadJob {
  latenciesMs: number[];
  elapsedMs: number;
  /** Unexpected replies by `<status> <error code>`; empty when every request succeeded. */
  failures: Record<string, number>;
}

/** Tokens heartbeated round-robin: enough that no token sees more than a handful (a per-token quota must not bite). */
const HEARTBEAT_POOL = 200;

/** Runs `count` calls of `step` with `concurrency` workers; `step` gets the call index and the worker index. */
async function pool(concurrency: number, count: number, step: (i: number, worker: number) => Promise<void>) {
  let next = 0;
  const worker = async (w: number) => {
    while (next < count) await step(next++, w);
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
}

function failureKey(reply: Reply): string {
  const code = (reply.body as { error?: { code?: string } } | undefined)?.error?.code;
  return `${reply.status} ${code ?? ''}`.trim();
}

export async function runJob(job: LoadJob): Promise<LoadResult> {
  const client = new BenchClient(job.url, job.concurrency + 16);
  const run = randomUUID().slice(0, 8);
  // Setup, untimed: tokens to heartbeat, or one refresh chain per worker.
  const setupSize = job.scenario === 'heartbeat' ? Math.min(HEARTBEAT_POOL, job.count) : job.concurrency;
  const tokens: IssuedToken[] = [];
  const batch = job.ingest && Buffer.from(job.ingest.batchBase64, 'base64');
  if (job.scenario === 'heartbeat' || job.scenario === 'refresh') {
    await pool(16, setupSize, async () => void tokens.push(await client.mintOk()));
  }

  const latenciesMs: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  await pool(job.concurrency, job.count, async (i, w) => {
    const t0 = performance.now();
    let reply: Reply;
    let ok: boolean;
    switch (job.scenario) {
      case 'heartbeat':
        reply = await client.heartbeat(tokens[i % tokens.length]!);
        ok = reply.status === 200 && (reply.body as { status?: string }).status === 'active';
        break;
      case 'mint':
        reply = await client.mint(`bench-${run}-${i}`);
        ok = reply.status === 201;
        break;
      case 'mint-idempotent':
        reply = await client.mint(`bench-${run}-${i}`, randomUUID());
        ok = reply.status === 201;
        break;
      case 'refresh':
        reply = await client.refresh(tokens[w]!);
        ok = reply.status === 200;
        if (ok) tokens[w] = reply.body as IssuedToken; // the chain goes on with the new secret
        break;
      case 'ingest':
        reply = await client.postBytes(
          '/v1/traces',
          {
            authorization: job.ingest!.tokens[w % job.ingest!.tokens.length]!,
            'content-type': 'application/x-protobuf',
          },
          batch!,
        );
        ok = reply.status === 200;
        break;
    }
    latenciesMs.push(performance.now() - t0);
    if (!ok) failures[failureKey(reply)] = (failures[failureKey(reply)] ?? 0) + 1;
  });
  const elapsedMs = performance.now() - started;
  client.close();
  return { ...job, latenciesMs, elapsedMs, failures };
}

export interface LoadWorker {
  /** The worker's process, whose CPU time the relay bench reports. */
  pid: number;
  run(job: LoadJob): Promise<LoadResult>;
  close(): void;
}

/** Forks this file as a worker; tsx's loader comes along in execArgv. */
export function startLoadWorker(): LoadWorker {
  const child: ChildProcess = fork(__filename, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    pid: child.pid!,
    run: (job) =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`bench: load worker exited (${code})`));
        child.once('exit', onExit);
        child.once('message', (result) => {
          child.off('exit', onExit);
          resolve(result as LoadResult);
        });
        child.send(job);
      }),
    close: () => child.disconnect(), // the worker exits once its IPC channel closes
  };
}

if (require.main === module) {
  process.on('message', (job: LoadJob) => {
    runJob(job).then(
      (result) => process.send!(result),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
