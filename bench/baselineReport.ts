/** The side-by-side sections of docs/benchmarks.md: before/after (bench/baseline.ts), quotas on/off. */
import type { Comparison } from './baseline';
import type { LoadResult } from './load';
import { fmt, percentile } from './stats';

/** Mint runs with every quota enforced and with quotas off, alternately (bench/run.ts). */
export interface QuotaCost {
  on: LoadResult[];
  off: LoadResult[];
  /** The same with DynamoDB (dynalite) in a process of its own. */
  ownProcess?: { on: LoadResult[]; off: LoadResult[] };
  /** The same with emulated round trips to DynamoDB and to Logfire's create, as in AWS. */
  roundTrips?: { dynamo: number; logfire: number; on: LoadResult[]; off: LoadResult[] };
}

/** The issue #9 target: mint latency with quotas on at most this many times quotas off. */
export const MAX_QUOTA_RATIO = 1.3;

const COMMAND = (ref: string) => `\`BENCH_BASELINE=${ref} npm run bench\``;
const ratio = (after: number, before: number) => (before > 0 ? `${(after / before).toFixed(2)}×` : '—');

/**
 * @example lines.push(...comparisonSection(comparison, 6));
 */
export function comparisonSection(comparison: Comparison | undefined, number: number): string[] {
  const heading = `## ${number}. Before and after, in one run`;
  if (!comparison) {
    return [
      heading,
      '',
      'Not measured in this run: set `BENCH_BASELINE` to a git ref (e.g. the commit before a change) to',
      "measure that commit's broker against this tree's, side by side.",
      '',
    ];
  }
  const [before, after] = comparison.sides;
  const command = COMMAND(comparison.baselineRef);
  const lines = [
    heading,
    '',
    `Both brokers run as real \`npm start\` processes (dev upstream) on one dynalite behind a proxy that`,
    `counts DynamoDB requests on the wire (bench/baseline.ts); **before** is commit ${comparison.baselineCommit}`,
    `checked out in a temporary worktree, **after** is this tree. The same load worker drives both,`,
    `alternately, scenario by scenario. Ratios are after ÷ before.`,
    '',
    '| operation | DynamoDB requests before | after | breakdown after | command |',
    '| --- | --: | --: | --- | --- |',
  ];
  for (const count of after.counts) {
    const old = before.counts.find((c) => c.operation === count.operation);
    lines.push(
      `| ${count.operation} | ${old ? old.max : '—'} | ${count.max} | ${count.breakdown} | ${command} |`,
    );
  }
  lines.push(
    '',
    '| operation | concurrency | requests | p50 ms before | p50 ms after | p50 ratio | p99 ms before | p99 ms after | throughput ratio | command |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |',
  );
  after.load.forEach((result, i) => {
    const old = before.load[i]!;
    const p50 = [percentile(old.latenciesMs, 50), percentile(result.latenciesMs, 50)] as const;
    const p99 = [percentile(old.latenciesMs, 99), percentile(result.latenciesMs, 99)] as const;
    const rate = (r: typeof result) => r.count / r.elapsedMs;
    lines.push(
      `| ${result.scenario} | ${result.concurrency} | ${result.count} | ${fmt(p50[0])} | ${fmt(p50[1])} | ` +
        `${ratio(p50[1], p50[0])} | ${fmt(p99[0])} | ${fmt(p99[1])} | ${ratio(rate(result), rate(old))} | ${command} |`,
    );
  });
  lines.push('');
  return lines;
}

/**
 * @example lines.push(...quotaCostSection(cost, 7));
 */
export function quotaCostSection(cost: QuotaCost | undefined, number: number): string[] {
  if (!cost) return [];
  const lines = [
    `## ${number}. What the quotas cost a mint`,
    '',
    'Two brokers as in section 1: one with every quota enforced (limits far above the load, so each mint',
    'takes its four counters, in parallel with its intent, and none is refused), one with quotas off; the',
    'same mints go to each alternately, twice per concurrency. First with dynalite in the bench process (as',
    'in section 1: every DynamoDB request also costs the broker CPU on its one event loop), then with',
    'dynalite in a process of its own, as DynamoDB is a service of its own in AWS; last as in AWS, where',
    `each DynamoDB request is a network round trip away (emulated: ${cost.roundTrips?.dynamo ?? '—'} ms before it is sent; requests`,
    `in parallel wait side by side) and so is Logfire's token create (emulated: ${cost.roundTrips?.logfire ?? '—'} ms).`,
    `Target: p50 with quotas ≤ ${MAX_QUOTA_RATIO}× without, on the rows with round trips (a mint's latency as a client sees it).`,
    'On loopback the four counters cost what four more SDK',
    'requests cost the broker in CPU (about 0.4 ms each here: serialization, signing, the middleware stack)',
    'and dynalite in turn; with round trips they travel beside the intent, and a mint waits for Logfire.',
    '',
    '| DynamoDB | concurrency | requests | p50 ms on | p50 ms off | p50 ratio | p99 ms on | p99 ms off | throughput ratio | target | result | command |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- | --- | --- |',
  ];
  const rows = (label: string, on: LoadResult[], off: LoadResult[], targeted = false) => {
    for (const concurrency of [...new Set(on.map((r) => r.concurrency))]) {
      const merged = (runs: LoadResult[]) => {
        const picked = runs.filter((r) => r.concurrency === concurrency);
        return {
          latencies: picked.flatMap((r) => r.latenciesMs),
          count: picked.reduce((n, r) => n + r.count, 0),
          elapsed: picked.reduce((n, r) => n + r.elapsedMs, 0),
        };
      };
      const a = merged(on);
      const b = merged(off);
      const p = (m: typeof a, q: number) => percentile(m.latencies, q);
      const r50 = p(a, 50) / p(b, 50);
      lines.push(
        `| ${label} | ${concurrency} | ${a.count} | ${fmt(p(a, 50))} | ${fmt(p(b, 50))} | ${r50.toFixed(2)}× | ` +
          `${fmt(p(a, 99))} | ${fmt(p(b, 99))} | ${ratio(a.count / a.elapsed, b.count / b.elapsed)} | ` +
          (targeted ? `≤ ${MAX_QUOTA_RATIO}× | ${r50 <= MAX_QUOTA_RATIO ? 'PASS' : '**FAIL**'}` : '— | —') +
          ' | `npm run bench` |',
      );
    }
  };
  rows('in the bench process', cost.on, cost.off);
  if (cost.ownProcess) rows('own process', cost.ownProcess.on, cost.ownProcess.off);
  if (cost.roundTrips) {
    const { dynamo, logfire } = cost.roundTrips;
    rows(
      `own process, +${dynamo} ms per request, Logfire +${logfire} ms`,
      cost.roundTrips.on,
      cost.roundTrips.off,
      true,
    );
  }
  lines.push('');
  return lines;
}

/** The quota-cost target missed in this run (the rows with round trips), for the summary. */
export function quotaCostFailures(cost: QuotaCost | undefined): string[] {
  if (!cost?.roundTrips) return [];
  const failures: string[] = [];
  for (const concurrency of [...new Set(cost.roundTrips.on.map((r) => r.concurrency))]) {
    const p50 = (runs: LoadResult[]) =>
      percentile(
        runs.filter((r) => r.concurrency === concurrency).flatMap((r) => r.latenciesMs),
        50,
      );
    if (p50(cost.roundTrips.on) / p50(cost.roundTrips.off) > MAX_QUOTA_RATIO)
      failures.push(`mint latency with quotas at concurrency ${concurrency}`);
  }
  return failures;
}
