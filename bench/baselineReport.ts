/** The before/after section of docs/benchmarks.md (bench/baseline.ts). */
import type { Comparison } from './baseline';
import { fmt, percentile } from './stats';

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
