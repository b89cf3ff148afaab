/** The ingest relay's section of docs/benchmarks.md (bench/relay.ts). */
import type { CpuPerBatch, RelayBenchResult, RelayRun } from './relay';
import { EMULATED_RTT_MS, SPANS_PER_BATCH } from './relay';
import { fmt, percentile } from './stats';

const COMMAND = '`npm run bench`';
/** Issue #9: the relay keeps at least this share of the throughput of posting straight to the upstream. */
export const MIN_RELAY_THROUGHPUT_RATIO = 0.8;
/** Issue #9: DynamoDB requests per relayed batch. */
export const RELAY_REQUESTS_TARGET = 1;
/**
 * The runs the throughput target applies to: with Logfire a network hop away, as it is for both paths in
 * production. On loopback the ingest answers in well under a millisecond, so those rows measure the relay's
 * own cost, reported as the added latency.
 */
const isTargeted = (run: RelayRun) => run.upstreamDelayMs === EMULATED_RTT_MS && !run.chargeFromMemory;

const rate = (r: { count: number; elapsedMs: number }) => (r.count / r.elapsedMs) * 1000;
const totalCpu = (cpu: CpuPerBatch) => (cpu.broker ?? 0) + (cpu.dynamo ?? 0) + cpu.ingest + cpu.worker;
const logfireOf = (run: RelayRun) =>
  (run.upstreamDelayMs ? `+${run.upstreamDelayMs} ms` : 'loopback') +
  (run.chargeFromMemory ? ', DynamoDB write answered from memory (diagnostic)' : '');
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

function ratioOf(run: RelayRun): number {
  return rate(run.relay) / rate(run.direct);
}

/** The relay targets this run missed, for the summary. */
export function relayFailures(result: RelayBenchResult | undefined): string[] {
  if (!result) return [];
  const failures: string[] = [];
  for (const run of result.runs.filter(isTargeted)) {
    if (ratioOf(run) < MIN_RELAY_THROUGHPUT_RATIO)
      failures.push(`relay throughput at concurrency ${run.concurrency}`);
  }
  if (result.requestsPerBatch.max > RELAY_REQUESTS_TARGET)
    failures.push('DynamoDB requests per relayed batch');
  const failed = result.runs.some(
    (run) => Object.keys(run.relay.failures).length || Object.keys(run.direct.failures).length,
  );
  if (failed) failures.push('failed exports in the relay bench');
  return failures;
}

/** @example lines.push(...relaySection(result, 7)); */
export function relaySection(result: RelayBenchResult | undefined, number: number): string[] {
  const heading = `## ${number}. Ingest relay (relay mode) against posting straight to Logfire`;
  if (!result) return [heading, '', 'Not measured in this run.', ''];
  const verdict = (ok: boolean) => (ok ? 'PASS' : '**FAIL**');
  const { requestsPerBatch } = result;
  return [
    heading,
    '',
    'The broker in relay mode as `npm start` runs it (bench/relay.ts): the local HTTP server and the real',
    'handlers in the bench process, with DynamoDB (an in-memory dynalite) and an emulated Logfire ingest',
    '(bench/ingestProcess.ts) each in a process of its own, as each is a service of its own in AWS. The',
    `load worker posts one real OTLP/HTTP protobuf export of ${SPANS_PER_BATCH} spans (${(result.batchBytes / 1024).toFixed(1)} KiB, made by the`,
    "exporter's own serializer) again and again: **straight** to the ingest with the pool's write token,",
    'and **relay** to the broker with relay tokens, one per concurrent exporter (an exporter sends one batch',
    'at a time, so 16 in flight are 16 installs), which the broker checks and charges (one DynamoDB write)',
    'before it forwards the batch to that same ingest. Both runs alternate, straight first, after a warm-up. The',
    `ingest answers at once (**loopback**), or after an emulated round trip to Logfire of ${EMULATED_RTT_MS} ms, which`,
    'both paths pay, as they do in production (the target applies to those rows).',
    '',
    row([
      'Logfire',
      'concurrency',
      'batches',
      'p50 ms straight',
      'p50 ms relay',
      'added p50 ms',
      'p99 ms straight',
      'p99 ms relay',
      'batches/s straight',
      'batches/s relay',
      'broker CPU ms per batch',
      'relay ÷ straight',
      'target',
      'result',
      'command',
    ]),
    row([
      '---',
      '--:',
      '--:',
      '--:',
      '--:',
      '--:',
      '--:',
      '--:',
      '--:',
      '--:',
      '--:',
      '--:',
      '---',
      '---',
      '---',
    ]),
    ...result.runs.map((run) => {
      const p50 = [percentile(run.direct.latenciesMs, 50), percentile(run.relay.latenciesMs, 50)] as const;
      const targeted = isTargeted(run);
      return row([
        logfireOf(run),
        run.concurrency,
        run.relay.count,
        fmt(p50[0]),
        fmt(p50[1]),
        fmt(p50[1] - p50[0]),
        fmt(percentile(run.direct.latenciesMs, 99)),
        fmt(percentile(run.relay.latenciesMs, 99)),
        fmt(rate(run.direct)),
        fmt(rate(run.relay)),
        run.cpu.relay.broker!.toFixed(2),
        // Three decimals: a run just under the target must not read as the target itself (0.7996 as 0.80×).
        `${ratioOf(run).toFixed(3)}×`,
        targeted ? `≥ ${MIN_RELAY_THROUGHPUT_RATIO}×` : '—',
        targeted ? verdict(ratioOf(run) >= MIN_RELAY_THROUGHPUT_RATIO) : '—',
        COMMAND,
      ]);
    }),
    '',
    row(['DynamoDB requests per relayed batch', 'by DynamoDB operation', 'target', 'result', 'command']),
    row(['--:', '---', '---', '---', '---']),
    row([
      requestsPerBatch.min === requestsPerBatch.max
        ? requestsPerBatch.max
        : `${requestsPerBatch.min}–${requestsPerBatch.max}`,
      requestsPerBatch.breakdown,
      `${RELAY_REQUESTS_TARGET}`,
      verdict(requestsPerBatch.max <= RELAY_REQUESTS_TARGET),
      COMMAND,
    ]),
    '',
    "The added p50 on loopback at concurrency 1 is the relay's cost per export: the HTTP hop, the event",
    'translation (base64 both ways), one conditional UpdateItem and the forward. **Broker CPU per batch** is',
    "this process's CPU time over the relayed run divided by its batches: on a profile, about a third of it is",
    "the AWS SDK's work for the one UpdateItem (serialization, signing, the middleware stack), and much of the",
    'rest is copying the batch in and out of sockets.',
    '',
    ...cpuTable(result),
  ];
}

/**
 * Where each batch's CPU goes, per process, and what that allows on this machine's cores: the reason the
 * busiest relayed run falls short of straight, in numbers from this run.
 */
function cpuTable(result: RelayBenchResult): string[] {
  const busiest = result.runs.filter(isTargeted).at(-1);
  const diagnostic = result.runs.find((run) => run.chargeFromMemory);
  const ms = (value: number | undefined) => (value === undefined ? '—' : value.toFixed(2));
  const lines = [
    `CPU per batch by process, in ms (Linux counts the other processes' CPU in 10 ms ticks; every process`,
    `shares the same ${result.cores} cores). **Bound** is what the cores allow if they did nothing else:`,
    `${result.cores} × 1000 ÷ the total.`,
    '',
    row([
      'Logfire',
      'concurrency',
      'path',
      'broker',
      'dynalite',
      'ingest',
      'load worker',
      'total',
      'bound batches/s',
      'measured batches/s',
      'command',
    ]),
    row(['---', '--:', '---', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '---']),
  ];
  for (const run of result.runs) {
    for (const [path, cpu, load] of [
      ['straight', run.cpu.direct, run.direct],
      ['relay', run.cpu.relay, run.relay],
    ] as const) {
      lines.push(
        row([
          logfireOf(run),
          run.concurrency,
          path,
          ms(cpu.broker),
          ms(cpu.dynamo),
          ms(cpu.ingest),
          ms(cpu.worker),
          ms(totalCpu(cpu)),
          fmt((result.cores * 1000) / totalCpu(cpu)),
          fmt(rate(load)),
          COMMAND,
        ]),
      );
    }
  }
  lines.push('');
  if (busiest && diagnostic) {
    const relay = busiest.cpu.relay;
    lines.push(
      `In the busiest targeted run (concurrency ${busiest.concurrency}, Logfire +${busiest.upstreamDelayMs} ms) a relayed batch costs`,
      `${ms(totalCpu(relay))} ms of CPU across the processes, against ${ms(totalCpu(busiest.cpu.direct))} ms straight. The cores would allow`,
      `${fmt((result.cores * 1000) / totalCpu(relay))} batches/s; the run made ${fmt(rate(busiest.relay))}. What holds it back is that each relayed batch passes, one after the other,`,
      `through two single-threaded servers, each spending CPU on it: the broker (${ms(relay.broker)} ms) and`,
      `dynalite (${ms(relay.dynamo)} ms, standing in for DynamoDB, which in AWS spends its CPU on its own machines and serves`,
      "different items in parallel). The exporters' batches come back from the fixed upstream delay together and",
      `queue at each. With the one DynamoDB write answered from memory (the diagnostic row: no request, no SDK`,
      `work, no dynalite; the quotas are not charged meanwhile) the same relay keeps ${ratioOf(diagnostic).toFixed(2)}× the throughput of`,
      `posting straight, with the broker at ${ms(diagnostic.cpu.relay.broker)} ms per batch. In AWS each relayed batch runs in a Lambda`,
      'instance of its own, so the relay adds its latency to an export but no event loop is shared between',
      'exports; the concurrency-1 row is what one exporter sees.',
      '',
    );
  }
  return lines;
}
