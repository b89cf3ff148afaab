/**
 * A child program (run with `node --import tsx`) that records spans with the OpenTelemetry SDK and sends
 * them once with a real OTLP/HTTP trace exporter, protobuf or JSON, with or without gzip, then prints the
 * export's result as JSON. A child, because the exporters load `node:http` with a dynamic import, which
 * jest's module system does not run; `runTraceExporter` in otlpExporters.ts starts it.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ExportRun } from './otlpExporters';

type Compression = NonNullable<
  NonNullable<ConstructorParameters<typeof ProtobufTraceExporter>[0]>['compression']
>;

export function traceExporter(format: ExportRun['format'], url: string, gzip: boolean) {
  const config = { url, compression: (gzip ? 'gzip' : 'none') as Compression, timeoutMillis: 10_000 };
  return format === 'protobuf' ? new ProtobufTraceExporter(config) : new JsonTraceExporter(config);
}

/**
 * `count` finished spans as a CLI makes them: one root per 10, children with string, int, double, bool and
 * array attributes, an event, a link, an error status, all under `resource`.
 */
export async function recordSpans(resource: Record<string, string>, count: number): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('mycli.commands', '2.4.1');
  let root = tracer.startSpan('mycli deploy');
  for (let index = 0; index < count; index += 1) {
    if (index % 10 === 0) {
      if (index > 0) root.end();
      root = tracer.startSpan(`mycli deploy ${index / 10}`, { kind: SpanKind.INTERNAL });
      continue;
    }
    const span = tracer.startSpan(
      `step ${index}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'step.index': index,
          'step.ratio': index / 7,
          'step.cached': index % 2 === 0,
          'step.tags': ['build', `t${index}`],
          'http.url': `https://example.test/api/${index}`,
        },
        links: [{ context: root.spanContext(), attributes: { 'link.kind': 'parent-run' } }],
      },
      trace.setSpan(context.active(), root),
    );
    span.addEvent('checkpoint', { 'checkpoint.bytes': index * 1024 });
    if (index % 9 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `step ${index} failed` });
    span.end();
  }
  root.end();
  await provider.forceFlush();
  return memory.getFinishedSpans(); // before shutdown, which empties the memory exporter
}

/** Exports the spans with the exporter once; resolves with the export's result code (0 = success). */
export async function exportOnce(
  exporter: ReturnType<typeof traceExporter>,
  spans: ReadableSpan[],
): Promise<{ code: number; error?: Error }> {
  const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
    exporter.export(spans, resolve),
  );
  await exporter.shutdown();
  return result;
}

if (require.main === module) {
  const run = JSON.parse(process.argv[2] ?? '{}') as ExportRun;
  recordSpans(run.resource, run.spans)
    .then((spans) => exportOnce(traceExporter(run.format, run.url, run.gzip), spans))
    .then(
      (result) => console.log(JSON.stringify({ code: result.code, error: result.error?.message })),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
}
