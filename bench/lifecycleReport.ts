/** The lifecycle section of docs/benchmarks.md. Pure: everything it prints is passed in. */
import type { RotationReport } from '../functions/core/rotation';
import type { SweepReport } from '../functions/core/sweep';
import { MAX_READ_RATIO, jobPasses, type JobMeasurement, type LifecycleResult } from './lifecycle';
import { BENCH_SETTINGS, countKinds, type Kind } from './lifecycleData';
import { fmt } from './stats';

const COMMAND = '`npm run bench`';
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const n = (value: number) => value.toLocaleString('en-US');
const days = (ms: number) => `${ms / 86_400_000}d`;

function outcome(job: JobMeasurement): string {
  if (job.job === 'rotation') return `marked ${n((job.report as RotationReport).marked)} \`rotate\``;
  const r = job.report as SweepReport;
  return (
    `reclaimed ${n(r.reclaimed)}, expired ${n(r.expired)}, deleted ${n(r.upstreamDeleted)} upstream tokens ` +
    `(${n(r.upstreamDeleteFailed)} failed), finished ${n(r.chainsCompleted)} chain revocations`
  );
}

function requests(job: JobMeasurement): string {
  return Object.entries(job.requests)
    .map(([operation, count]) => `${operation} ${n(count)}`)
    .join(', ');
}

/** The names of the lifecycle targets this run missed. */
export function lifecycleFailures(result: LifecycleResult): string[] {
  return result.jobs.filter((job) => !jobPasses(job)).map((job) => `items read by the ${job.job} run`);
}

export function lifecycleSection(result: LifecycleResult): string[] {
  const { tokens, load, jobs } = result;
  const count = (...kinds: Kind[]) => n(countKinds(tokens, kinds));
  const { tokenTtlMs, rotateAfterMs, staleAfterMs } = BENCH_SETTINGS;
  return [
    `## 4. Token lifecycle jobs over ${n(tokens)} tokens`,
    '',
    'The rotation and sweep runs (`runRotation`, `runSweep` of functions/core) against one tokens table in an',
    'embedded, in-memory dynalite, which runs in a child process so that it and the jobs each have a core. The',
    "items are made by the store's own mapping (`toTokenItem`: shards and sparse index attributes as the broker",
    'writes them) and loaded with BatchWriteItem, 25 items per request, 16 requests in flight:',
    `**${n(load.requests)} requests in ${fmt(load.ms / 1000)} s** (${n(Math.round(load.items / (load.ms / 1000)))} items/s), most of this section's time.`,
    'Both runs use one fixed `now`; audit entries go to the audit table as in production; the sweep deletes',
    `upstream tokens through a stand-in for Logfire that counts the calls and never fails (${n(result.upstreamDeletes)} calls).`,
    '',
    `The table (bench/lifecycleData.ts; tokenTtl ${days(tokenTtlMs)}, rotateAfter ${days(rotateAfterMs)}, rotationGrace 24h):`,
    '',
    `- due for rotation, ${count('dueRotation')}: active and past refreshAfter;`,
    `- due for the sweep, ${count('stale', 'expired', 'deletionRevoked', 'deletionAfterGrace')}: ` +
      `${count('stale')} silent for longer than staleAfter (status \`rotate\`: told to rotate, never came back), ` +
      `${count('expired')} past expiresAt (\`paused\`), and ${count('deletionRevoked', 'deletionAfterGrace')} ` +
      `upstream deletions due (${count('deletionRevoked')} revoked, ${count('deletionAfterGrace')} refreshed past their grace);`,
    `- not due, ${count('active', 'paused', 'inGrace', 'superseded')}: ${count('active')} active, ` +
      `${count('paused')} paused, ${count('inGrace')} refreshed within their grace (queued for a later deletion), ` +
      `${count('superseded')} superseded.`,
    '',
    `staleAfter is ${days(staleAfterMs)} here, not the 30-day default: with a ${days(tokenTtlMs)} TTL no token can stay silent for`,
    '30 days before it expires, so with the defaults expiry, not the stale reclaim, ends silent tokens.',
    '',
    row([
      'job',
      'due',
      'items read (report)',
      'on the wire',
      'read ÷ due',
      'target',
      'result',
      'the run',
      'command',
    ]),
    row(['---', '--:', '--:', '---', '--:', '---', '---', '---', '---']),
    ...jobs.map((job) =>
      row([
        job.job,
        n(job.due),
        n(job.report.itemsRead),
        `${n(job.requests.Query ?? 0)} Query requests returned ${n(job.queryItems)} items`,
        (job.report.itemsRead / job.due).toFixed(2),
        `≤ ${MAX_READ_RATIO.toFixed(2)}, nothing due after`,
        jobPasses(job) ? 'PASS' : '**FAIL**',
        `${outcome(job)}; ${job.report.done ? 'done' : '**not done**'}; due after the run: ${n(job.dueAfter)}`,
        COMMAND,
      ]),
    ),
    '',
    'Time, against a full Scan in the same run. **Find** is the same index listings the run pages through,',
    'timed alone before it (nothing written); the **Scan** reads the whole table in 1 MB pages with a',
    'FilterExpression that keeps the same due set (bench/lifecycleScan.ts; it found exactly the due count).',
    'The **whole run** adds what the job does to each due token (conditional UpdateItems, audit BatchWriteItems),',
    "which a Scan-based job would do as well. RCU: read capacity units as dynalite computes DynamoDB's",
    '(eventually consistent reads).',
    '',
    row([
      'job',
      'find: index listings ms',
      'index entries read, RCU',
      'find: full Scan ms',
      'items scanned, requests, RCU',
      'Scan ÷ index (time, RCU)',
      'whole run ms',
      'requests of the whole run',
      'command',
    ]),
    row(['---', '--:', '---', '--:', '---', '---', '--:', '---', '---']),
    ...jobs.map((job) =>
      row([
        job.job,
        fmt(job.findMs),
        `${n(job.findItems)}, ${fmt(job.findCapacity)}`,
        fmt(job.scan.ms),
        `${n(job.scan.scanned)}, ${n(job.scan.requests)}, ${fmt(job.scan.capacity)}`,
        `${fmt(job.scan.ms / job.findMs)}×, ${fmt(job.scan.capacity / Math.max(job.findCapacity, 0.5))}×`,
        fmt(job.ms),
        requests(job),
        COMMAND,
      ]),
    ),
    '',
    'The index listings read what is due and grow with it; the Scan reads every item and grows with the table,',
    'in time and in read capacity (in DynamoDB each 1 MB page is also a network round trip, which dynalite on',
    'loopback hides). The sweep sends more Query requests than the rotation because it pages through four',
    'listings (chain revocations, silent, expired, deletions), the sharded ones over 4 shards each.',
    '',
  ];
}
