/**
 * The OTLP descriptor checked against published code rather than copied files: the OpenTelemetry JS SDK
 * records spans, log records and metrics of every kind (test/support/otlpSdk.ts), the
 * `@opentelemetry/otlp-transformer` serializers write them as protobuf and as OTLP/JSON, and what the
 * descriptor decodes from the protobuf must be what the JSON says, field by field. The JSON names each
 * value; the protobuf only numbers it; so a wrong field number, or a type that reads other bytes or
 * another value, shows as a difference. The last test proves that for every field the SDK writes.
 */
import { isDeepStrictEqual } from 'node:util';
import { type INamespace, Root, Type } from 'protobufjs/light';
import { decodeAs, type Json, OTLP_SIGNALS } from '../../test/support/otlp';
import { recordTelemetry, type SdkTelemetry, serialize } from '../../test/support/otlpSdk';
import { OTLP_DESCRIPTOR } from './otlpDescriptor';
import { wireFields } from './otlpProtobuf';
import { SIGNALS, type OtlpSignal } from './otlpSchema';
import { stampIdentity } from './stampIdentity';

/**
 * The fields no serializer of the JS SDK writes, so checked here by nothing but their use in the stamping
 * tests: the JS SDK has no Summary aggregation, records no exemplars, no metric metadata, no data point
 * flags, no zero threshold, no entity references, and leaves a resource's dropped count at 0.
 */
const NOT_WRITTEN_BY_THE_JS_SDK = [
  'common.v1.EntityRef.descriptionKeys',
  'common.v1.EntityRef.idKeys',
  'common.v1.EntityRef.schemaUrl',
  'common.v1.EntityRef.type',
  'metrics.v1.Exemplar.asDouble',
  'metrics.v1.Exemplar.asInt',
  'metrics.v1.Exemplar.filteredAttributes',
  'metrics.v1.Exemplar.spanId',
  'metrics.v1.Exemplar.timeUnixNano',
  'metrics.v1.Exemplar.traceId',
  'metrics.v1.ExponentialHistogramDataPoint.exemplars',
  'metrics.v1.ExponentialHistogramDataPoint.flags',
  'metrics.v1.ExponentialHistogramDataPoint.zeroThreshold',
  'metrics.v1.HistogramDataPoint.exemplars',
  'metrics.v1.HistogramDataPoint.flags',
  'metrics.v1.Metric.metadata',
  'metrics.v1.Metric.summary',
  'metrics.v1.NumberDataPoint.exemplars',
  'metrics.v1.NumberDataPoint.flags',
  'metrics.v1.Summary.dataPoints',
  'metrics.v1.SummaryDataPoint.ValueAtQuantile.quantile',
  'metrics.v1.SummaryDataPoint.ValueAtQuantile.value',
  'metrics.v1.SummaryDataPoint.attributes',
  'metrics.v1.SummaryDataPoint.count',
  'metrics.v1.SummaryDataPoint.flags',
  'metrics.v1.SummaryDataPoint.quantileValues',
  'metrics.v1.SummaryDataPoint.startTimeUnixNano',
  'metrics.v1.SummaryDataPoint.sum',
  'metrics.v1.SummaryDataPoint.timeUnixNano',
  'resource.v1.Resource.droppedAttributesCount',
  'resource.v1.Resource.entityRefs',
];

let telemetry: SdkTelemetry;
beforeAll(async () => {
  telemetry = await recordTelemetry();
});

/**
 * Both sides in one form: numbers as decimal text (OTLP/JSON writes a 64-bit integer as a number or a
 * string) and no field at its proto3 default (0, "", false, empty), which the protobuf writer leaves out
 * and the JSON one writes in places.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .map(([key, item]) => [key, canonical(item)] as const)
      .filter(([, item]) => !isDefault(item)),
  );
}

function isDefault(value: unknown): boolean {
  if (value === '0' || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/** Each request of the signal: what `request` reads from the protobuf, and what the JSON serializer wrote. */
function readBoth(request: Type, signal: OtlpSignal): Array<{ decoded: unknown; written: unknown }> {
  const written = serialize(telemetry, signal, 'json');
  return serialize(telemetry, signal, 'protobuf').map((bytes, index) => ({
    decoded: canonical(decodeAs(request, bytes)),
    written: canonical(
      withoutResourceSchemaUrl(signal, JSON.parse(written[index]!.toString('utf8')) as Json),
    ),
  }));
}

/**
 * The JSON serializer also writes the resource's schema URL inside the resource, where OTLP has no such
 * field (it belongs to the resource group, where both serializers write it; the protobuf one writes
 * nothing more in the resource, as the wire check below shows).
 */
function withoutResourceSchemaUrl(signal: OtlpSignal, payload: Json): Json {
  for (const group of (payload[SIGNALS[signal].resourceGroups] as Json[] | undefined) ?? []) {
    delete (group.resource as Json | undefined)?.schemaUrl;
  }
  return payload;
}

/** Where the protobuf holds a field number `type` does not know (wireFields throws on a wrong wire type). */
function unknownFields(type: Type, bytes: Uint8Array, path = type.name): string[] {
  return wireFields(bytes, type).flatMap((field) => {
    const known = type.fieldsById[field.number];
    if (!known) return [`${path}: field ${field.number}`];
    const nested = known.resolve().resolvedType;
    return nested instanceof Type ? unknownFields(nested, field.content!, `${path}.${known.name}`) : [];
  });
}

/** `metrics.v1.Metric.summary`: a field named by its type, short of the common `opentelemetry.proto.`. */
const fieldName = (type: Type, field: string) =>
  `${type.fullName.replace('.opentelemetry.proto.', '')}.${field}`;

/** Every message type of the three requests. */
const allTypes = () => [
  ...new Set(OTLP_SIGNALS.flatMap((signal) => [...reachable(SIGNALS[signal].request)])),
];

/** Every message type the signal's request reaches. */
function reachable(request: Type, found = new Set<Type>()): Set<Type> {
  found.add(request);
  for (const field of request.fieldsArray) {
    const nested = field.resolve().resolvedType;
    if (nested instanceof Type && !found.has(nested)) reachable(nested, found);
  }
  return found;
}

/** The fields that hold a value other than their default in some request the SDK made. */
function fieldsWritten(): Set<string> {
  const seen = new Set<string>();
  for (const signal of OTLP_SIGNALS) {
    const { request } = SIGNALS[signal];
    for (const { decoded } of readBoth(request, signal)) fieldsWithValues(request, decoded, seen);
  }
  return seen;
}

/** The fields that hold a value other than their default somewhere in the decoded `payload`. */
function fieldsWithValues(type: Type, payload: unknown, seen: Set<string>): void {
  if (Array.isArray(payload)) return payload.forEach((item) => fieldsWithValues(type, item, seen));
  for (const [key, value] of Object.entries(payload as Json)) {
    const field = type.fields[key];
    if (!field) throw new Error(`decoded a field the schema does not have: ${key}`);
    seen.add(fieldName(type, key));
    const nested = field.resolve().resolvedType;
    if (nested instanceof Type) fieldsWithValues(nested, value, seen);
  }
}

describe('Schema: our OTLP descriptor against the OpenTelemetry JS serializers', () => {
  it.each(OTLP_SIGNALS)(
    'decodes the protobuf %s requests into exactly what the JSON serializer writes for the same data',
    (signal) => {
      const requests = readBoth(SIGNALS[signal].request, signal);

      expect(requests.length).toBeGreaterThan(0);
      for (const { decoded, written } of requests) expect(decoded).toEqual(written);
    },
  );

  it.each(OTLP_SIGNALS)('knows every field the serializer writes in %s, each in its wire type', (signal) => {
    for (const bytes of serialize(telemetry, signal, 'protobuf')) {
      expect(unknownFields(SIGNALS[signal].request, bytes)).toEqual([]);
    }
  });

  it('is checked on every field of OTLP the JS SDK writes, all but a listed few', () => {
    const written = fieldsWritten();
    const all = allTypes().flatMap((type) => type.fieldsArray.map((field) => fieldName(type, field.name)));

    expect(all.filter((field) => !written.has(field)).sort()).toEqual(NOT_WRITTEN_BY_THE_JS_SDK);
  });

  it('takes what the JSON serializer writes as valid OTLP/JSON, and the protobuf as valid OTLP', () => {
    const identity = { installId: 'install-1', serviceName: 'mycli', serviceVersion: '1.0.0' };
    for (const signal of OTLP_SIGNALS) {
      for (const format of ['json', 'protobuf'] as const) {
        const contentType = format === 'json' ? 'application/json' : 'application/x-protobuf';
        for (const bytes of serialize(telemetry, signal, format)) {
          expect(() => stampIdentity(signal, { bytes, contentType }, identity)).not.toThrow();
        }
      }
    }
  });

  it('would catch any field the SDK writes given another number, the number of a sibling, or another type', () => {
    expect(OTLP_SIGNALS.filter((signal) => disagrees(OTLP_DESCRIPTOR, signal))).toEqual([]); // as it is
    const changes = [...mutants(fieldsWritten())];

    const unnoticed = changes.filter((mutant) => !disagrees(mutant.descriptor, mutant.type));

    expect(changes.length).toBeGreaterThan(500);
    expect(unnoticed.map((mutant) => mutant.change)).toEqual([]);
  });
});

/** A type of the same wire type that reads the same bytes as another value. */
const SAME_WIRE_TYPE_OTHER_VALUE: Record<string, string> = {
  int32: 'sint32',
  uint32: 'sint32',
  sint32: 'int32',
  int64: 'sint64',
  uint64: 'sint64',
  sint64: 'int64',
  bool: 'sint32',
  enum: 'sint32',
  fixed64: 'double',
  sfixed64: 'double',
  double: 'fixed64',
  fixed32: 'float',
  sfixed32: 'float',
  float: 'fixed32',
  string: 'bytes',
  bytes: 'string',
  message: 'bytes',
};

interface Mutant {
  change: string;
  /** The full name of the changed type. */
  type: string;
  descriptor: INamespace;
}

/** For each field written: an unused number, each written sibling's number (swapped), another type of its wire type. */
function* mutants(covered: Set<string>): Generator<Mutant> {
  for (const type of allTypes()) {
    const fields = type.fieldsArray.filter((field) => covered.has(fieldName(type, field.name)));
    for (const field of fields) {
      const kind = field.resolve().resolvedType;
      const other =
        SAME_WIRE_TYPE_OTHER_VALUE[kind instanceof Type ? 'message' : kind ? 'enum' : field.type]!;
      yield mutant(type, `${fieldName(type, field.name)} as number 900`, (node) => {
        node.fields[field.name]!.id = 900;
      });
      yield mutant(type, `${fieldName(type, field.name)} as ${other}`, (node) => {
        node.fields[field.name]!.type = other;
      });
      for (const sibling of fields.filter((other) => other.id > field.id)) {
        yield mutant(type, `${fieldName(type, field.name)} and .${sibling.name} swapped`, (node) => {
          node.fields[field.name]!.id = sibling.id;
          node.fields[sibling.name]!.id = field.id;
        });
      }
    }
  }
}

type TypeNode = { fields: Record<string, { id: number; type: string }> };

function mutant(type: Type, change: string, alter: (node: TypeNode) => void): Mutant {
  const descriptor = structuredClone(OTLP_DESCRIPTOR);
  let node = descriptor as { nested?: Record<string, unknown> };
  for (const name of type.fullName.slice(1).split('.')) node = node.nested![name] as typeof node;
  alter(node as unknown as TypeNode);
  return { change, type: type.fullName, descriptor };
}

/** Whether what the descriptor decodes differs from the JSON, in any request that reaches the type (or the signal). */
function disagrees(descriptor: INamespace, typeOrSignal: string): boolean {
  const root = Root.fromJSON(descriptor);
  return OTLP_SIGNALS.some((signal) => {
    const request = root.lookupType(SIGNALS[signal].request.fullName);
    const reaches = [...reachable(request)].some((type) => type.fullName === typeOrSignal);
    if (typeOrSignal !== signal && !reaches) return false;
    try {
      return readBoth(request, signal).some(({ decoded, written }) => !isDeepStrictEqual(decoded, written));
    } catch {
      return true; // the changed schema cannot even decode the request
    }
  });
}
