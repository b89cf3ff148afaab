/**
 * The one-line summary the dev upstream prints per OTLP batch: how many spans, log records or metrics, and
 * the first `service.name`, read from OTLP/JSON or OTLP/protobuf. The protobuf side walks the wire format
 * directly (the three export requests share one shape), so no protobuf library is needed at run time.
 */
import { InvalidRequest } from '../../core/errors';

export type OtlpSignal = 'traces' | 'logs' | 'metrics';

/** The item count under the signal's name (`spans`, `logRecords` or `metrics`), and `serviceName`. */
export type OtlpSummary = Record<string, number | string>;

const JSON_KEYS: Record<OtlpSignal, [resources: string, scopes: string, items: string]> = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'],
  logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
  metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'],
};

/**
 * Counts the items of an OTLP/JSON export request.
 * @example summarizeOtlpJson('traces', { resourceSpans: [...] }) // { spans: 3, serviceName: 'mycli' }
 */
export function summarizeOtlpJson(signal: OtlpSignal, parsed: unknown): OtlpSummary {
  const [resourcesKey, scopesKey, itemsKey] = JSON_KEYS[signal];
  let count = 0;
  let serviceName: string | undefined;
  for (const resource of asArray((parsed as Record<string, unknown> | null)?.[resourcesKey])) {
    for (const scope of asArray(resource?.[scopesKey])) count += asArray(scope?.[itemsKey]).length;
    const attributes = asArray((resource?.resource as Record<string, unknown> | undefined)?.attributes);
    const service = attributes.find((attribute) => attribute?.key === 'service.name');
    const value = (service?.value as Record<string, unknown> | undefined)?.stringValue;
    if (!serviceName && typeof value === 'string') serviceName = value;
  }
  return { [itemsKey]: count, ...(serviceName ? { serviceName } : {}) };
}

/**
 * Counts the items of an OTLP/protobuf export request. In all three (opentelemetry-proto `collector/*`):
 * field 1 repeats the resource entries; in each, field 1 is the Resource (attributes = field 1, each a
 * KeyValue of key = 1 and AnyValue = 2, whose string_value is 1) and field 2 repeats the scope entries,
 * whose field 2 repeats the items. Throws `InvalidRequest` when the bytes are not protobuf.
 */
export function summarizeOtlpProtobuf(signal: OtlpSignal, body: Uint8Array): OtlpSummary {
  const itemsKey = JSON_KEYS[signal][2];
  let count = 0;
  let serviceName: string | undefined;
  for (const resourceEntry of lengthDelimited(body, 1)) {
    for (const [field, value] of fields(resourceEntry)) {
      if (field === 2) count += [...lengthDelimited(value, 2)].length;
      else if (field === 1 && !serviceName) serviceName = serviceNameOf(value);
    }
  }
  return { [itemsKey]: count, ...(serviceName ? { serviceName } : {}) };
}

function serviceNameOf(resource: Uint8Array): string | undefined {
  for (const keyValue of lengthDelimited(resource, 1)) {
    let key: string | undefined;
    let value: Uint8Array | undefined;
    for (const [field, bytes] of fields(keyValue)) {
      if (field === 1) key = Buffer.from(bytes).toString('utf8');
      else if (field === 2) value = bytes;
    }
    if (key !== 'service.name' || !value) continue;
    for (const bytes of lengthDelimited(value, 1)) return Buffer.from(bytes).toString('utf8');
  }
  return undefined;
}

function* lengthDelimited(message: Uint8Array, wanted: number): Generator<Uint8Array> {
  for (const [field, value] of fields(message)) if (field === wanted) yield value;
}

/** The length-delimited fields of one message, in order; varint and fixed-size fields are skipped. */
function* fields(message: Uint8Array): Generator<[field: number, value: Uint8Array]> {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (at >= message.length) throw notProtobuf();
      const byte = message[at++]!;
      // Lengths and tags fit in 32 bits; wider varints (skipped values) only need their bytes consumed.
      if (shift < 32) value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw notProtobuf();
  };
  const skip = (bytes: number) => {
    if (at + bytes > message.length) throw notProtobuf();
    at += bytes;
  };
  while (at < message.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) throw notProtobuf();
    if (wireType === 0) varint();
    else if (wireType === 1) skip(8);
    else if (wireType === 5) skip(4);
    else if (wireType === 2) {
      const length = varint();
      const start = at;
      skip(length);
      yield [field, message.subarray(start, at)];
    } else throw notProtobuf(); // groups (3, 4) are not used by OTLP; 6 and 7 do not exist
  }
}

function notProtobuf(): InvalidRequest {
  return new InvalidRequest('The body is not an OTLP protobuf message.');
}

function asArray(value: unknown): Array<Record<string, unknown> | undefined> {
  return Array.isArray(value) ? (value as Array<Record<string, unknown> | undefined>) : [];
}
