/** The ingest relay's section of docs/benchmarks.md (bench/relay.ts). */
import type { RelayBenchResult } from './relay';
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
const isTargeted = (run: RelayBenchResult['runs'][number]) => run.upstreamDelayMs === EMULATED_RTT_MS;

const rate = (r: { count: number; elapsedMs: number }) => (r.count / r.elapsedMs) * 1000;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

function ratioOf(run: RelayBenchResult['runs'][number]): number {
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
        run.upstreamDelayMs ? `+${run.upstreamDelayMs} ms` : 'loopback',
        run.concurrency,
        run.relay.count,
        fmt(p50[0]),
        fmt(p50[1]),
        fmt(p50[1] - p50[0]),
        fmt(percentile(run.direct.latenciesMs, 99)),
        fmt(percentile(run.relay.latenciesMs, 99)),
        fmt(rate(run.direct)),
        fmt(rate(run.relay)),
        run.brokerCpuMsPerBatch.toFixed(2),
        `${ratioOf(run).toFixed(2)}×`,
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
    'rest is copying 58 KiB in and out of sockets. One broker process is one event loop, so it relays at most',
    '1000 ÷ that many batches per second, and on this 2-core machine it shares the cores with the load worker,',
    'dynalite and the ingest: the concurrency-16 row with Logfire +25 ms is bounded by that, not by waiting. In',
    'AWS each relayed batch runs in a Lambda instance of its own, so the relay adds its latency to an export',
    "but does not cap the exports' throughput; the concurrency-1 row is what one exporter sees.",
    '',
  ];
}
