/**
 * OTLP requests made by the OpenTelemetry JS SDK itself: spans, log records and metrics of every kind
 * the SDK produces, recorded with its providers and serialized with the published serializers of
 * `@opentelemetry/otlp-transformer` (protobuf and JSON). The payloads of the stamping tests, and the
 * reference otlpDescriptor.test.ts checks the OTLP schema against.
 */
import { context, createTraceState, SpanKind, SpanStatusCode, trace, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { OtlpSignal } from '../../functions/relay/otlpSchema';

export interface SdkTelemetry {
  spans: ReadableSpan[];
  logRecords: ReadableLogRecord[];
  /** One collection per temporality: cumulative (first resource), then delta (second resource). */
  metrics: ResourceMetrics[];
}

/** Two resources, so every request has two resource groups; the second carries a schema URL. */
const RESOURCES = [
  { 'service.name': 'mycli', 'service.version': '2.4.1', 'host.arch': 'arm64', 'process.pid': 4242 },
  { 'service.name': 'mycli-worker', 'deployment.environment.name': 'test' },
];
const resources = () =>
  RESOURCES.map((attributes, index) =>
    resourceFromAttributes(
      attributes,
      index === 1 ? { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' } : {},
    ),
  );

/** A time with nanoseconds that a double cannot hold: 64-bit values must pass exactly. */
const at = (offsetSeconds: number, nanos: number): [number, number] => [1_767_225_600 + offsetSeconds, nanos];

/** A trace context from another process: a remote parent, with a trace state. */
const REMOTE_PARENT = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: 1,
  isRemote: true,
};

/** Every value an attribute can take in the tracing API. */
const SPAN_ATTRIBUTES = {
  'step.name': 'build',
  'step.index': 7,
  'step.delta': -12,
  'step.ratio': 0.625,
  'step.cached': true,
  'step.tags': ['build', 'cache'],
  'step.sizes': [1, 2.5],
  'step.flags': [true, false],
};

async function recordSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  for (const resource of resources()) {
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(memory)],
      // Small limits, so every dropped count is set, each to another number.
      spanLimits: {
        attributeCountLimit: 8,
        eventCountLimit: 2,
        linkCountLimit: 2,
        attributePerEventCountLimit: 1,
        attributePerLinkCountLimit: 1,
      },
    });
    const tracer = provider.getTracer('mycli.commands', '2.4.1', {
      schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
    });
    const remote = trace.setSpanContext(context.active(), {
      ...REMOTE_PARENT,
      traceState: createTraceState('vendor=abc,other=1'),
    });
    const root = tracer.startSpan('mycli deploy', { kind: SpanKind.SERVER, startTime: at(0, 123) }, remote);
    root.setStatus({ code: SpanStatusCode.OK });
    const kinds = [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
    kinds.forEach((kind, index) => {
      const span = tracer.startSpan(
        `step ${index}`,
        {
          kind,
          startTime: at(1 + index, 456_789_001),
          attributes: {
            ...SPAN_ATTRIBUTES,
            'http.url': `https://example.test/api/${index}`,
            'http.port': 443,
          },
          links: [
            // The SDK keeps the newest two: three dropped, as against two attributes and one event.
            ...Array.from({ length: 3 }, () => ({ context: REMOTE_PARENT, attributes: { 'link.over': 1 } })),
            { context: root.spanContext(), attributes: { 'link.kind': 'parent-run', 'link.extra': 1 } },
            { context: { ...REMOTE_PARENT, traceState: createTraceState('link=1') } },
          ],
        },
        trace.setSpan(context.active(), root),
      );
      span.addEvent('over the limit', at(2 + index, 7)); // the SDK drops the oldest
      span.addEvent(
        'checkpoint',
        { 'checkpoint.bytes': index * 1024, 'checkpoint.name': 'a' },
        at(2 + index, 8),
      );
      span.addEvent('retry', at(2 + index, 9));
      if (index === 1) span.setStatus({ code: SpanStatusCode.ERROR, message: `step ${index} failed` });
      span.end(at(3 + index, 999_999_999));
    });
    tracer.startSpan('untouched').end(); // the SDK's defaults, with the clock's own times
    root.end(at(9, 1));
    await provider.forceFlush();
  }
  return memory.getFinishedSpans();
}

/** Every kind of value a log body or attribute can take in the logs API (AnyValue). */
const LOG_BODIES = [
  'Deploying mycli',
  42,
  -7,
  3.75,
  false,
  new Uint8Array([0, 1, 254, 255]),
  ['a', 2, 2.5, true, null, ['nested']],
  { command: 'deploy', options: { force: true, retries: 3 }, paths: ['src', 'dist'] },
];

async function recordLogs(): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  for (const resource of resources()) {
    const provider = new LoggerProvider({
      resource,
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
      logRecordLimits: { attributeCountLimit: 3 },
    });
    const logger = provider.getLogger('mycli.log', '2.4.1', {
      schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
      attributes: { 'logger.kind': 'cli', 'logger.level': 3, 'logger.over': 'limit', 'logger.past': 'it' },
    });
    const inSpan = trace.setSpanContext(context.active(), REMOTE_PARENT);
    LOG_BODIES.forEach((body, index) =>
      logger.emit({
        body,
        severityNumber: [
          SeverityNumber.DEBUG,
          SeverityNumber.INFO2,
          SeverityNumber.WARN,
          SeverityNumber.FATAL4,
        ][index % 4],
        severityText: ['debug', 'info', 'warning', 'fatal'][index % 4],
        timestamp: at(index, 11),
        observedTimestamp: at(index, 12),
        attributes: {
          'log.index': index,
          'log.tags': ['x', 'y'],
          'log.nested': { deep: { deeper: 1.5 } },
          'log.over': 'the limit',
        },
        ...(index % 2 === 0 ? { context: inSpan, eventName: `mycli.event.${index}` } : {}),
      }),
    );
    provider.getLogger('bare').emit({ body: 'defaults only' });
    await provider.forceFlush();
  }
  return memory.getFinishedLogRecords();
}

/** A reader that only collects when asked. */
class CollectOnDemand extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

async function recordMetrics(
  temporality: AggregationTemporality,
  resource: Resource,
): Promise<ResourceMetrics> {
  const reader = new CollectOnDemand({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({
    resource,
    readers: [reader],
    views: [
      { instrumentName: 'mycli.step.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
      {
        instrumentName: 'mycli.queue.change',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 40 } },
      },
      {
        instrumentName: 'mycli.step.bare',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [1, 10], recordMinMax: false },
        },
      },
    ],
  });
  const meter = provider.getMeter('mycli.metrics', '2.4.1', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
  });
  const attributes = { 'step.name': 'build', 'step.cached': false };
  const runs = meter.createCounter('mycli.runs', { description: 'Commands run', unit: '{run}' });
  runs.add(3, attributes);
  runs.add(2, { 'step.name': 'test' });
  meter.createCounter('mycli.bytes', { valueType: ValueType.INT, unit: 'By' }).add(1_048_576);
  meter.createUpDownCounter('mycli.jobs', { valueType: ValueType.INT }).add(-5, attributes);
  meter.createGauge('mycli.temperature', { unit: 'Cel' }).record(-17.25);
  meter.createGauge('mycli.offset', { valueType: ValueType.INT }).record(-9_007_199_254);
  const duration = meter.createHistogram('mycli.step.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [0.1, 0.5, 2.5] },
  });
  for (const seconds of [0.05, 0.3, 0.31, 4]) duration.record(seconds, attributes);
  const size = meter.createHistogram('mycli.step.size', { unit: 'By' });
  for (const bytes of [0, 3, 1500, 1501, 70_000]) size.record(bytes, { 'step.name': 'upload' });
  // An up-down counter with an exponential histogram view: the one way to negative buckets.
  const queue = meter.createUpDownCounter('mycli.queue.change');
  for (const change of [-40, -3, 0, 8]) queue.add(change);
  meter.createHistogram('mycli.step.bare').record(5);
  meter
    .createObservableGauge('mycli.memory', { valueType: ValueType.INT })
    .addCallback((result) => result.observe(123_456, attributes));
  meter.createObservableCounter('mycli.cpu').addCallback((result) => result.observe(1.5));
  await new Promise((resolve) => setTimeout(resolve, 5)); // a start time before the collection time
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`metrics collection failed: ${String(errors[0])}`);
  await provider.shutdown();
  return resourceMetrics;
}

/** Spans, log records and metrics of every kind the SDK makes, from two resources. */
export async function recordTelemetry(): Promise<SdkTelemetry> {
  return {
    spans: await recordSpans(),
    logRecords: await recordLogs(),
    metrics: [
      await recordMetrics(AggregationTemporality.CUMULATIVE, resources()[0]!),
      await recordMetrics(AggregationTemporality.DELTA, resources()[1]!),
    ],
  };
}

export type SerializedFormat = 'protobuf' | 'json';

/** The signal's export requests as the published serializers write them (one per metrics collection). */
export function serialize(telemetry: SdkTelemetry, signal: OtlpSignal, format: SerializedFormat): Buffer[] {
  const bytes = (data: Uint8Array | undefined) => {
    if (!data) throw new Error(`the ${format} serializer wrote nothing for ${signal}`);
    return Buffer.from(data);
  };
  if (signal === 'traces') {
    const serializer = format === 'protobuf' ? ProtobufTraceSerializer : JsonTraceSerializer;
    return [bytes(serializer.serializeRequest(telemetry.spans))];
  }
  if (signal === 'logs') {
    const serializer = format === 'protobuf' ? ProtobufLogsSerializer : JsonLogsSerializer;
    return [bytes(serializer.serializeRequest(telemetry.logRecords))];
  }
  const serializer = format === 'protobuf' ? ProtobufMetricsSerializer : JsonMetricsSerializer;
  return telemetry.metrics.map((collection) => bytes(serializer.serializeRequest(collection)));
}
