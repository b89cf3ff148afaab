/** The side-by-side sections of docs/benchmarks.md: before/after (bench/baseline.ts), quotas on/off. */
import type { Comparison } from './baseline';
import type { LoadResult } from './load';
import { fmt, percentile } from './stats';

/** Mint runs with every quota enforced and with quotas off, alternately (bench/run.ts). */
export interface QuotaCost {
  on: LoadResult[];
  off: LoadResult[];
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
    'Two in-process brokers as in section 1: one with every quota enforced (limits far above the load, so',
    'each mint takes its four counters and none is refused), one with quotas off; the same mints go to each',
    `alternately, twice per concurrency. Target: p50 with quotas ≤ ${MAX_QUOTA_RATIO}× without.`,
    '',
    '| concurrency | requests | p50 ms on | p50 ms off | p50 ratio | p99 ms on | p99 ms off | throughput ratio | command |',
    '| --: | --: | --: | --: | --: | --: | --: | --: | --- |',
  ];
  for (const concurrency of [...new Set(cost.on.map((r) => r.concurrency))]) {
    const pick = (runs: LoadResult[]) => runs.filter((r) => r.concurrency === concurrency);
    const merged = (runs: LoadResult[]) => ({
      latencies: runs.flatMap((r) => r.latenciesMs),
      count: runs.reduce((n, r) => n + r.count, 0),
      elapsed: runs.reduce((n, r) => n + r.elapsedMs, 0),
    });
    const on = merged(pick(cost.on));
    const off = merged(pick(cost.off));
    const p = (m: typeof on, q: number) => percentile(m.latencies, q);
    lines.push(
      `| ${concurrency} | ${on.count} | ${fmt(p(on, 50))} | ${fmt(p(off, 50))} | ${ratio(p(on, 50), p(off, 50))} | ` +
        `${fmt(p(on, 99))} | ${fmt(p(off, 99))} | ${ratio(on.count / on.elapsed, off.count / off.elapsed)} | \`npm run bench\` |`,
    );
  }
  lines.push('');
  return lines;
}
