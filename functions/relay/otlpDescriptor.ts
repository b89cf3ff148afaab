/**
 * The OTLP 1.x messages the relay reads, as a protobuf.js JSON descriptor (what `Root.fromJSON` takes):
 * the three `Export…ServiceRequest`s and every type they reach. Written for this project; the field
 * numbers, types and labels are those the OpenTelemetry Protocol specification defines (the
 * opentelemetry-proto packages `opentelemetry.proto.{common,resource,trace,logs,metrics,collector.*}.v1`).
 * `otlpDescriptor.test.ts` checks them against the OpenTelemetry JS SDK's published serializers.
 *
 * Names are lowerCamelCase, as protobuf.js and OTLP/JSON spell them. Messages are proto3 (protobuf.js's
 * default for a type); `optional` fields are proto3 `optional` (a synthetic one-field oneof, as protoc
 * writes it), so an absent `sum` stays absent rather than 0. The flag enums (`SpanFlags`, …) are left out:
 * no field has their type, the `flags` fields are plain integers.
 */
import type { INamespace } from 'protobufjs/light';

const COMMON = 'opentelemetry.proto.common.v1';
const KEY_VALUE = `${COMMON}.KeyValue`;
const ANY_VALUE = `${COMMON}.AnyValue`;
const SCOPE = `${COMMON}.InstrumentationScope`;
const RESOURCE = 'opentelemetry.proto.resource.v1.Resource';
const TRACE = 'opentelemetry.proto.trace.v1';
const LOGS = 'opentelemetry.proto.logs.v1';
const METRICS = 'opentelemetry.proto.metrics.v1';

/** proto3 `optional`: presence tracked, as protoc describes it. */
const optional = (type: string, id: number) => ({ type, id, options: { proto3_optional: true } });
const syntheticOneofs = (...fields: string[]) =>
  Object.fromEntries(fields.map((field) => [`_${field}`, { oneof: [field] }]));

const common: INamespace = {
  nested: {
    AnyValue: {
      oneofs: {
        value: {
          oneof: [
            'stringValue',
            'boolValue',
            'intValue',
            'doubleValue',
            'arrayValue',
            'kvlistValue',
            'bytesValue',
          ],
        },
      },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
        arrayValue: { type: `${COMMON}.ArrayValue`, id: 5 },
        kvlistValue: { type: `${COMMON}.KeyValueList`, id: 6 },
        bytesValue: { type: 'bytes', id: 7 },
      },
    },
    ArrayValue: { fields: { values: { rule: 'repeated', type: ANY_VALUE, id: 1 } } },
    KeyValueList: { fields: { values: { rule: 'repeated', type: KEY_VALUE, id: 1 } } },
    KeyValue: {
      fields: {
        key: { type: 'string', id: 1 },
        value: { type: ANY_VALUE, id: 2 },
      },
    },
    InstrumentationScope: {
      fields: {
        name: { type: 'string', id: 1 },
        version: { type: 'string', id: 2 },
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 3 },
        droppedAttributesCount: { type: 'uint32', id: 4 },
      },
    },
    EntityRef: {
      fields: {
        schemaUrl: { type: 'string', id: 1 },
        type: { type: 'string', id: 2 },
        idKeys: { rule: 'repeated', type: 'string', id: 3 },
        descriptionKeys: { rule: 'repeated', type: 'string', id: 4 },
      },
    },
  },
};

const resource: INamespace = {
  nested: {
    Resource: {
      fields: {
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 1 },
        droppedAttributesCount: { type: 'uint32', id: 2 },
        entityRefs: { rule: 'repeated', type: `${COMMON}.EntityRef`, id: 3 },
      },
    },
  },
};

const trace: INamespace = {
  nested: {
    ResourceSpans: {
      fields: {
        resource: { type: RESOURCE, id: 1 },
        scopeSpans: { rule: 'repeated', type: `${TRACE}.ScopeSpans`, id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    ScopeSpans: {
      fields: {
        scope: { type: SCOPE, id: 1 },
        spans: { rule: 'repeated', type: `${TRACE}.Span`, id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        traceState: { type: 'string', id: 3 },
        parentSpanId: { type: 'bytes', id: 4 },
        flags: { type: 'fixed32', id: 16 },
        name: { type: 'string', id: 5 },
        kind: { type: `${TRACE}.Span.SpanKind`, id: 6 },
        startTimeUnixNano: { type: 'fixed64', id: 7 },
        endTimeUnixNano: { type: 'fixed64', id: 8 },
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 9 },
        droppedAttributesCount: { type: 'uint32', id: 10 },
        events: { rule: 'repeated', type: `${TRACE}.Span.Event`, id: 11 },
        droppedEventsCount: { type: 'uint32', id: 12 },
        links: { rule: 'repeated', type: `${TRACE}.Span.Link`, id: 13 },
        droppedLinksCount: { type: 'uint32', id: 14 },
        status: { type: `${TRACE}.Status`, id: 15 },
      },
      nested: {
        SpanKind: {
          values: {
            SPAN_KIND_UNSPECIFIED: 0,
            SPAN_KIND_INTERNAL: 1,
            SPAN_KIND_SERVER: 2,
            SPAN_KIND_CLIENT: 3,
            SPAN_KIND_PRODUCER: 4,
            SPAN_KIND_CONSUMER: 5,
          },
        },
        Event: {
          fields: {
            timeUnixNano: { type: 'fixed64', id: 1 },
            name: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: KEY_VALUE, id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Link: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            attributes: { rule: 'repeated', type: KEY_VALUE, id: 4 },
            droppedAttributesCount: { type: 'uint32', id: 5 },
            flags: { type: 'fixed32', id: 6 },
          },
        },
      },
    },
    Status: {
      fields: {
        message: { type: 'string', id: 2 },
        code: { type: `${TRACE}.Status.StatusCode`, id: 3 },
      },
      nested: {
        StatusCode: { values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 } },
      },
    },
  },
};

/** SEVERITY_NUMBER_TRACE … TRACE4 = 1 … 4, then DEBUG, INFO, WARN, ERROR, FATAL, four each, up to 24. */
const severityNumbers = Object.fromEntries([
  ['SEVERITY_NUMBER_UNSPECIFIED', 0],
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level, index) =>
    ['', '2', '3', '4'].map((step, within) => [`SEVERITY_NUMBER_${level}${step}`, index * 4 + within + 1]),
  ),
]) as Record<string, number>;

const logs: INamespace = {
  nested: {
    SeverityNumber: { values: severityNumbers },
    ResourceLogs: {
      fields: {
        resource: { type: RESOURCE, id: 1 },
        scopeLogs: { rule: 'repeated', type: `${LOGS}.ScopeLogs`, id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    ScopeLogs: {
      fields: {
        scope: { type: SCOPE, id: 1 },
        logRecords: { rule: 'repeated', type: `${LOGS}.LogRecord`, id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    LogRecord: {
      fields: {
        timeUnixNano: { type: 'fixed64', id: 1 },
        observedTimeUnixNano: { type: 'fixed64', id: 11 },
        severityNumber: { type: `${LOGS}.SeverityNumber`, id: 2 },
        severityText: { type: 'string', id: 3 },
        body: { type: ANY_VALUE, id: 5 },
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 6 },
        droppedAttributesCount: { type: 'uint32', id: 7 },
        flags: { type: 'fixed32', id: 8 },
        traceId: { type: 'bytes', id: 9 },
        spanId: { type: 'bytes', id: 10 },
        eventName: { type: 'string', id: 12 },
      },
    },
  },
};

const EXEMPLARS = { rule: 'repeated', type: `${METRICS}.Exemplar` };
const TEMPORALITY = `${METRICS}.AggregationTemporality`;

const metrics: INamespace = {
  nested: {
    AggregationTemporality: {
      values: {
        AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
        AGGREGATION_TEMPORALITY_DELTA: 1,
        AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
      },
    },
    ResourceMetrics: {
      fields: {
        resource: { type: RESOURCE, id: 1 },
        scopeMetrics: { rule: 'repeated', type: `${METRICS}.ScopeMetrics`, id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    ScopeMetrics: {
      fields: {
        scope: { type: SCOPE, id: 1 },
        metrics: { rule: 'repeated', type: `${METRICS}.Metric`, id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    Metric: {
      oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
      fields: {
        name: { type: 'string', id: 1 },
        description: { type: 'string', id: 2 },
        unit: { type: 'string', id: 3 },
        gauge: { type: `${METRICS}.Gauge`, id: 5 },
        sum: { type: `${METRICS}.Sum`, id: 7 },
        histogram: { type: `${METRICS}.Histogram`, id: 9 },
        exponentialHistogram: { type: `${METRICS}.ExponentialHistogram`, id: 10 },
        summary: { type: `${METRICS}.Summary`, id: 11 },
        metadata: { rule: 'repeated', type: KEY_VALUE, id: 12 },
      },
    },
    Gauge: {
      fields: { dataPoints: { rule: 'repeated', type: `${METRICS}.NumberDataPoint`, id: 1 } },
    },
    Sum: {
      fields: {
        dataPoints: { rule: 'repeated', type: `${METRICS}.NumberDataPoint`, id: 1 },
        aggregationTemporality: { type: TEMPORALITY, id: 2 },
        isMonotonic: { type: 'bool', id: 3 },
      },
    },
    Histogram: {
      fields: {
        dataPoints: { rule: 'repeated', type: `${METRICS}.HistogramDataPoint`, id: 1 },
        aggregationTemporality: { type: TEMPORALITY, id: 2 },
      },
    },
    ExponentialHistogram: {
      fields: {
        dataPoints: { rule: 'repeated', type: `${METRICS}.ExponentialHistogramDataPoint`, id: 1 },
        aggregationTemporality: { type: TEMPORALITY, id: 2 },
      },
    },
    Summary: {
      fields: { dataPoints: { rule: 'repeated', type: `${METRICS}.SummaryDataPoint`, id: 1 } },
    },
    NumberDataPoint: {
      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
      fields: {
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 7 },
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        asDouble: { type: 'double', id: 4 },
        asInt: { type: 'sfixed64', id: 6 },
        exemplars: { ...EXEMPLARS, id: 5 },
        flags: { type: 'uint32', id: 8 },
      },
    },
    HistogramDataPoint: {
      oneofs: syntheticOneofs('sum', 'min', 'max'),
      fields: {
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 9 },
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: optional('double', 5),
        bucketCounts: { rule: 'repeated', type: 'fixed64', id: 6 },
        explicitBounds: { rule: 'repeated', type: 'double', id: 7 },
        exemplars: { ...EXEMPLARS, id: 8 },
        flags: { type: 'uint32', id: 10 },
        min: optional('double', 11),
        max: optional('double', 12),
      },
    },
    ExponentialHistogramDataPoint: {
      oneofs: syntheticOneofs('sum', 'min', 'max'),
      fields: {
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 1 },
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: optional('double', 5),
        scale: { type: 'sint32', id: 6 },
        zeroCount: { type: 'fixed64', id: 7 },
        positive: { type: `${METRICS}.ExponentialHistogramDataPoint.Buckets`, id: 8 },
        negative: { type: `${METRICS}.ExponentialHistogramDataPoint.Buckets`, id: 9 },
        flags: { type: 'uint32', id: 10 },
        exemplars: { ...EXEMPLARS, id: 11 },
        min: optional('double', 12),
        max: optional('double', 13),
        zeroThreshold: { type: 'double', id: 14 },
      },
      nested: {
        Buckets: {
          fields: {
            offset: { type: 'sint32', id: 1 },
            bucketCounts: { rule: 'repeated', type: 'uint64', id: 2 },
          },
        },
      },
    },
    SummaryDataPoint: {
      fields: {
        attributes: { rule: 'repeated', type: KEY_VALUE, id: 7 },
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: { type: 'double', id: 5 },
        quantileValues: {
          rule: 'repeated',
          type: `${METRICS}.SummaryDataPoint.ValueAtQuantile`,
          id: 6,
        },
        flags: { type: 'uint32', id: 8 },
      },
      nested: {
        ValueAtQuantile: {
          fields: {
            quantile: { type: 'double', id: 1 },
            value: { type: 'double', id: 2 },
          },
        },
      },
    },
    Exemplar: {
      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
      fields: {
        filteredAttributes: { rule: 'repeated', type: KEY_VALUE, id: 7 },
        timeUnixNano: { type: 'fixed64', id: 2 },
        asDouble: { type: 'double', id: 3 },
        asInt: { type: 'sfixed64', id: 6 },
        spanId: { type: 'bytes', id: 4 },
        traceId: { type: 'bytes', id: 5 },
      },
    },
  },
};

/** `Export…ServiceRequest`: one repeated field of resource groups, number 1. */
const exportRequest = (name: string, field: string, type: string): INamespace => ({
  nested: { [name]: { fields: { [field]: { rule: 'repeated', type, id: 1 } } } },
});

export const OTLP_DESCRIPTOR: INamespace = {
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            common: { nested: { v1: common } },
            resource: { nested: { v1: resource } },
            trace: { nested: { v1: trace } },
            logs: { nested: { v1: logs } },
            metrics: { nested: { v1: metrics } },
            collector: {
              nested: {
                trace: {
                  nested: {
                    v1: exportRequest('ExportTraceServiceRequest', 'resourceSpans', `${TRACE}.ResourceSpans`),
                  },
                },
                logs: {
                  nested: {
                    v1: exportRequest('ExportLogsServiceRequest', 'resourceLogs', `${LOGS}.ResourceLogs`),
                  },
                },
                metrics: {
                  nested: {
                    v1: exportRequest(
                      'ExportMetricsServiceRequest',
                      'resourceMetrics',
                      `${METRICS}.ResourceMetrics`,
                    ),
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};
