/**
 * The OpenTelemetry part of the example CLIs, shared by `hello-cli.ts` (token from the broker client) and
 * `hello-cli-hardcoded.ts` (token from the environment), so the two differ only in where the token comes
 * from. Plain OpenTelemetry SDK pieces: a tracer provider, a batch span processor and the OTLP/HTTP
 * protobuf exporter (the encoding `@pydantic/logfire-node` uses, and the one Logfire's ingest takes).
 *
 * @example
 * const tracing = startTracing({
 *   tracesUrl: `${ingestBaseUrl}/v1/traces`,
 *   headers: async () => ({ Authorization: (await client.getWriteToken()) ?? '' }),
 *   resource: await client.resourceAttributes(),
 *   budgetMs: 1500,
 * });
 * tracing.recordSpan('hello', startedAt, { 'hello.name': 'world' });
 * await client.flush(() => tracing.shutdown());
 */
import type { Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

export interface TracingOptions {
  /** `<ingest base URL>/v1/traces`. Ignored when `debug` is set. */
  tracesUrl: string;
  /**
   * Headers of each export, read again at every export: a function, so a token the broker rotated
   * during a long run is picked up (as `@pydantic/logfire-node` re-reads its `token` function).
   */
  headers: () => Promise<Record<string, string>>;
  /** OpenTelemetry resource attributes (service.name, service.version, install id, CI). */
  resource: Record<string, string>;
  /** Upper bound of one export request, so a slow ingest cannot hold the CLI longer than its budget. */
  budgetMs: number;
  /** Share of traces to keep, 0 to 1 (`client.traceSampleRate()`); default 1. */
  sampleRate?: number;
  /** Write each span to `debug` instead of sending it (the `<APP>_TELEMETRY_DEBUG=1` convention). */
  debug?: { write(chunk: string): unknown };
}

export interface Tracing {
  /** Records one finished span that started at `startedAt` (epoch ms) and ends now. */
  recordSpan(name: string, startedAt: number, attributes?: Attributes): void;
  /** Exports what is pending and releases the exporter; pass it to `client.flush()`. */
  shutdown(): Promise<void>;
}

/** Prints each span as one JSON line instead of sending it: what `<APP>_TELEMETRY_DEBUG=1` shows. */
class DebugSpanExporter implements SpanExporter {
  constructor(private readonly out: { write(chunk: string): unknown }) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    for (const span of spans) {
      const line = {
        span: span.name,
        durationMs: span.duration[0] * 1000 + span.duration[1] / 1e6,
        attributes: span.attributes,
        resource: span.resource.attributes,
      };
      this.out.write(`telemetry debug (not sent): ${JSON.stringify(line)}\n`);
    }
    done({ code: 0 }); // ExportResultCode.SUCCESS
  }

  async shutdown(): Promise<void> {}
}

export function startTracing(options: TracingOptions): Tracing {
  const exporter = options.debug
    ? new DebugSpanExporter(options.debug)
    : new OTLPTraceExporter({
        url: options.tracesUrl,
        headers: options.headers,
        timeoutMillis: options.budgetMs,
      });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(options.resource),
    // By trace id, so every span of a trace is kept or dropped together.
    sampler: new TraceIdRatioBasedSampler(options.sampleRate ?? 1),
    spanProcessors: [new BatchSpanProcessor(exporter, { exportTimeoutMillis: options.budgetMs })],
  });
  const tracer = provider.getTracer(options.resource['service.name'] ?? 'cli');
  return {
    recordSpan(name, startedAt, attributes) {
      tracer.startSpan(name, { startTime: startedAt, attributes }).end();
    },
    // shutdown() flushes the batch processor first, then closes the exporter.
    shutdown: () => provider.shutdown(),
  };
}
