/**
 * The OTLP schema as protobuf.js reflection types: protobuf.js "light" (no .proto parser) loading our own
 * descriptor of OTLP 1.x (otlpDescriptor.ts). The same types decode protobuf requests and describe the
 * JSON ones, so both formats follow one schema.
 */
import { Root, type Type } from 'protobufjs/light';
import { OTLP_DESCRIPTOR } from './otlpDescriptor';

export type OtlpSignal = 'traces' | 'logs' | 'metrics';

const root = Root.fromJSON(OTLP_DESCRIPTOR);

/** The parts of one signal's request on the way to its resources (field names are OTLP/JSON's). */
export interface SignalSchema {
  /** `ExportTraceServiceRequest` and its siblings. */
  request: Type;
  /** The request's repeated field of resource groups: `resourceSpans`, `resourceLogs`, `resourceMetrics`. */
  resourceGroups: string;
  /** `ResourceSpans` and its siblings, each with a `resource` field. */
  resourceGroup: Type;
}

function signalSchema(requestName: string, resourceGroups: string): SignalSchema {
  const request = root.lookupType(requestName);
  const resourceGroup = request.fields[resourceGroups]!.resolve().resolvedType as Type;
  return { request, resourceGroups, resourceGroup };
}

export const SIGNALS: Record<OtlpSignal, SignalSchema> = {
  traces: signalSchema('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest', 'resourceSpans'),
  logs: signalSchema('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest', 'resourceLogs'),
  metrics: signalSchema(
    'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
    'resourceMetrics',
  ),
};

export const Resource = root.lookupType('opentelemetry.proto.resource.v1.Resource');
export const KeyValue = root.lookupType('opentelemetry.proto.common.v1.KeyValue');

/** A field's number, looked up in the schema rather than written down here. */
export function fieldNumber(type: Type, field: string): number {
  const found = type.fields[field];
  if (!found) throw new Error(`the OTLP schema has no field ${type.name}.${field}`);
  return found.id;
}
