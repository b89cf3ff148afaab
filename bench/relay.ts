/**
 * The ingest relay against posting straight to the same upstream (issue #9): the broker in relay mode as
 * `npm start` runs it (local HTTP server, real handlers), with DynamoDB (dynalite) and Logfire's ingest
 * (bench/ingestProcess.ts) each in a process of its own, as each is a service of its own in AWS, fed real
 * OTLP protobuf batches of 512 spans by the load worker. "Straight" posts the
 * same batch to that ingest with the pool's Logfire token; "relay" posts it to the broker with a relay
 * token. Each is measured with the ingest answering at once (loopback: the relay's own cost) and after an
 * emulated network round trip to Logfire. Also counts the DynamoDB requests of each relayed batch (target 1),
 * the CPU each process spends per batch, and (a diagnostic, no target) the relay with its one DynamoDB write
 * answered from memory, which shows what that write costs when everything shares this machine's cores.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Server } from 'node:http';
import pidusage from 'pidusage';
import { readConfig } from '../functions/config';
import { createLog } from '../functions/adapters/logger';
import { createDynamoClient, toDocumentClient } from '../functions/adapters/store/dynamoClient';
import { ensureTables } from '../functions/adapters/store/ensureTables';
import { DevUpstream } from '../functions/adapters/upstream';
import { wireBroker } from '../functions/adapters/wiring';
import { HANDLER_FACTORIES } from '../functions/handlers';
import type { RelayCharged, TokenStore } from '../functions/core/ports';
import type { ProxyHandler } from '../functions/http/reply';
import type { RouteName } from '../functions/http/routes';
import { createLocalServer } from '../functions/local/server';
import { countRequests } from '../test/support/requestCounter';
import { BenchClient } from './client';
import { dynamoProcess } from './dynamoProcess';
import { ingestProcess } from './ingestProcess';
import type { LoadResult, LoadWorker } from './load';

/** What OpenTelemetry's BatchSpanProcessor sends at most per export by default. */
export const SPANS_PER_BATCH = 512;
/** A round trip to a Logfire region from a nearby client or AWS region (it varies: 10 to 100 ms and more). */
export const EMULATED_RTT_MS = 25;
/** [upstream delay ms, concurrency, batches]: each measured straight and through the relay, alternately. */
const PLAN: [number, number, number][] = [
  [0, 1, 400],
  [0, 16, 1200],
  [EMULATED_RTT_MS, 1, 200],
  [EMULATED_RTT_MS, 16, 800],
];
const COUNT_REPEATS = 20;

/**
 * CPU milliseconds per batch of each process in a run: the broker (this process: DynamoDB, Logfire and the
 * load run elsewhere) and dynalite only take part in the relayed runs.
 */
export interface CpuPerBatch {
  broker?: number;
  dynamo?: number;
  ingest: number;
  worker: number;
}

export interface RelayRun {
  upstreamDelayMs: number;
  concurrency: number;
  direct: LoadResult;
  relay: LoadResult;
  cpu: { direct: CpuPerBatch; relay: CpuPerBatch };
  /** Diagnostic: the relay's DynamoDB write answered from memory (no request, no SDK work, no dynalite). */
  chargeFromMemory?: boolean;
}

export interface RelayBenchResult {
  batchBytes: number;
  /** The cores every process of the bench shares. */
  cores: number;
  runs: RelayRun[];
  /** DynamoDB requests of each relayed batch, counted on the wire. */
  requestsPerBatch: { min: number; max: number; breakdown: string };
}

/** A real OTLP/HTTP protobuf export of `spans` spans, serialized by the exporter's own transformer. */
async function otlpBatch(spans: number): Promise<Buffer> {
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } =
    await import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  // The transformer version the exporter ships with (the top-level one is older).
  const fromExporter = createRequire(require.resolve('@opentelemetry/exporter-trace-otlp-proto'));
  const { ProtobufTraceSerializer } = fromExporter('@opentelemetry/otlp-transformer') as {
    ProtobufTraceSerializer: { serializeRequest(spans: unknown[]): Uint8Array | undefined };
  };
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-cli', 'service.version': '1.0.0' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('bench');
  for (let i = 0; i < spans; i++) {
    tracer.startSpan(`step ${i}`, { attributes: { 'cli.command': 'build', 'cli.step': i } }).end();
  }
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!);
}

/**
 * The store with each token's first relay charge answered again for every later batch: the relay without
 * its one DynamoDB write. Only for the diagnostic run; the quotas are not charged meanwhile.
 */
function chargeFromMemory<Store extends TokenStore>(store: Store): Store {
  const charged = new Map<string, Promise<RelayCharged | undefined>>();
  const chargeRelayUse: Store['chargeRelayUse'] = (charge) => {
    const known = charged.get(charge.tokenId) ?? store.chargeRelayUse(charge);
    charged.set(charge.tokenId, known);
    return known;
  };
  return Object.assign(Object.create(store) as Store, { chargeRelayUse });
}

/** Total CPU milliseconds of each process so far (user and system; Linux counts in 10 ms ticks). */
async function cpuTimes(pids: Record<string, number>): Promise<Record<string, number>> {
  const stats = await pidusage(Object.values(pids));
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, stats[pid]!.ctime]));
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

/**
 * @example const relay = await measureRelay(worker); // relay.runs[1].relay vs relay.runs[1].direct
 */
export async function measureRelay(worker: LoadWorker): Promise<RelayBenchResult> {
  // An explicit environment, never process.env; quotas far above what the bench sends.
  const config = readConfig({
    BROKER_UPSTREAM: 'dev',
    BROKER_INGEST_MODE: 'relay',
    BROKER_TABLE_NAME: 'bench-relay-tokens',
    BROKER_LOG_LEVEL: 'WARN',
    BROKER_RELAY_REQUESTS_PER_MINUTE: '1000000',
    BROKER_RELAY_BYTES_PER_DAY: '1000GB',
  });
  const log = createLog(config.logLevel, 'bench');
  const dynamo = await dynamoProcess();
  const client = createDynamoClient({ endpoint: dynamo.endpoint });
  await ensureTables(client, config.tableName, { auditTableName: config.auditTableName });
  const requests = countRequests(client);

  const wiring: { deps?: ReturnType<typeof wireBroker> } = {};
  const handlers = Object.fromEntries(
    Object.entries(HANDLER_FACTORIES).map(([name, factory]) => [name, factory(() => wiring.deps!)]),
  ) as Record<RouteName, ProxyHandler>;
  const brokerServer = createLocalServer({ handlers, log, mode: 'relay' });
  const brokerUrl = await listen(brokerServer);
  // Logfire's ingest in a process of its own; the dev upstream only makes the pool's write tokens.
  const ingest = await ingestProcess();
  const upstream = new DevUpstream({ log, ingestBaseUrl: ingest.baseUrl });
  wiring.deps = wireBroker({
    config,
    doc: toDocumentClient(client),
    upstream,
    log,
    baseUrl: brokerUrl,
  });

  const benchClient = new BenchClient(brokerUrl, 4);
  try {
    const batch = await otlpBatch(SPANS_PER_BATCH);
    // One install per concurrent exporter: an OpenTelemetry exporter sends one batch at a time, so 16
    // batches in flight are 16 installs, each charging its own token's counters.
    const maxConcurrency = Math.max(...PLAN.map(([, concurrency]) => concurrency));
    const relayTokens: string[] = [];
    for (let i = 0; i < maxConcurrency; i++) relayTokens.push((await benchClient.mintOk()).writeToken);
    const relayToken = relayTokens[0]!;
    const poolToken = (await wiring.deps.relay!.pool.open()).current.token;
    await ingest.configure({ tokens: [poolToken], delayMs: 0 });
    const ingestUrl = ingest.baseUrl;
    const job = (url: string, tokens: string[], concurrency: number, count: number) => ({
      url,
      scenario: 'ingest' as const,
      concurrency,
      count,
      ingest: { tokens, batchBase64: batch.toString('base64') },
    });

    // Warm-up, untimed: JIT, sockets, dynalite's table and the pool cache.
    await worker.run(job(ingestUrl, [poolToken], 16, 200));
    await worker.run(job(brokerUrl, relayTokens, 16, 200));

    const totals: number[] = [];
    let breakdown = '';
    for (let i = 0; i < COUNT_REPEATS; i++) {
      requests.reset();
      const reply = await benchClient.postBytes(
        '/v1/traces',
        { authorization: relayToken, 'content-type': 'application/x-protobuf' },
        batch,
      );
      if (reply.status !== 200) throw new Error(`bench: a relayed batch answered ${reply.status}`);
      totals.push(requests.total());
      breakdown = Object.entries(requests.counts)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ');
    }

    const others = { dynamo: dynamo.child.pid!, ingest: ingest.pid, worker: worker.pid };
    /** Runs `job`, and the CPU each process spent on it per batch. */
    const measured = async (load: Parameters<LoadWorker['run']>[0], relayed: boolean) => {
      const [before, brokerBefore] = [await cpuTimes(others), process.cpuUsage()];
      const result = await worker.run(load);
      const [after, broker] = [await cpuTimes(others), process.cpuUsage(brokerBefore)];
      const per = (ms: number) => ms / result.count;
      const cpu: CpuPerBatch = {
        ingest: per(after.ingest! - before.ingest!),
        worker: per(after.worker! - before.worker!),
        ...(relayed
          ? { broker: per((broker.user + broker.system) / 1000), dynamo: per(after.dynamo! - before.dynamo!) }
          : {}),
      };
      return { result, cpu };
    };
    const runs: RelayRun[] = [];
    const measure = async (
      upstreamDelayMs: number,
      concurrency: number,
      count: number,
      fromMemory = false,
    ) => {
      await ingest.configure({ tokens: [poolToken], delayMs: upstreamDelayMs });
      const direct = await measured(job(ingestUrl, [poolToken], concurrency, count), false);
      const relay = await measured(job(brokerUrl, relayTokens, concurrency, count), true);
      runs.push({
        upstreamDelayMs,
        concurrency,
        direct: direct.result,
        relay: relay.result,
        cpu: { direct: direct.cpu, relay: relay.cpu },
        ...(fromMemory ? { chargeFromMemory: true } : {}),
      });
      console.log(
        `  relay (upstream +${upstreamDelayMs} ms${fromMemory ? ', charge from memory' : ''}) ` +
          `c=${concurrency} n=${count}: ` +
          `${((relay.result.count / relay.result.elapsedMs) * 1000).toFixed(0)} batches/s vs straight ` +
          `${((direct.result.count / direct.result.elapsedMs) * 1000).toFixed(0)} batches/s, ` +
          `broker CPU ${relay.cpu.broker!.toFixed(2)} ms per batch, dynalite ${relay.cpu.dynamo!.toFixed(2)}`,
      );
    };
    for (const [upstreamDelayMs, concurrency, count] of PLAN)
      await measure(upstreamDelayMs, concurrency, count);
    // Diagnostic: the busiest targeted run again, with the relay's DynamoDB write answered from memory.
    const broker = wiring.deps;
    wiring.deps = { ...broker, store: chargeFromMemory(broker.store) };
    const [delay, concurrency, count] = PLAN[PLAN.length - 1]!;
    await measure(delay, concurrency, count, true);
    wiring.deps = broker;
    return {
      batchBytes: batch.length,
      cores: availableParallelism(),
      runs,
      requestsPerBatch: { min: Math.min(...totals), max: Math.max(...totals), breakdown },
    };
  } finally {
    benchClient.close();
    brokerServer.closeAllConnections();
    await new Promise<void>((resolve) => brokerServer.close(() => resolve()));
    ingest.close();
    client.destroy();
    dynamo.child.kill();
  }
}
