/**
 * Stamping of OTLP/JSON requests. The parsed payload is checked against the OTLP schema with the OTLP/JSON
 * rules (the proto3 JSON mapping with lowerCamelCase keys, hex trace and span ids, integer enums), then
 * each resource is changed in place and the same object is written back: every other field, unknown
 * ones included, is kept. The rules and what they refuse are in docs/relay-stamping.md.
 */
import { Enum, type Field, type Type, util } from 'protobufjs/light';
import { InvalidOtlp, STAMPED_KEYS, stampedAttributes, type StampIdentity } from './model';
import { KeyValue, Resource, SIGNALS, type OtlpSignal } from './otlpSchema';

type JsonObject = Record<string, unknown>;

export function stampJson(signal: OtlpSignal, bytes: Uint8Array, identity: StampIdentity): Buffer {
  const schema = SIGNALS[signal];
  const payload = parse(bytes);
  checkMessage(schema.request, payload, '', 0);
  const groups = (payload as JsonObject)[schema.resourceGroups];
  if (Array.isArray(groups)) {
    for (const group of groups as JsonObject[]) group[RESOURCE] = stampResource(group[RESOURCE], identity);
  }
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** Field names this module writes, checked against the schema once. */
const name = (type: Type, field: string) =>
  Object.hasOwn(type.fields, field) ? field : missing(type, field);
const missing = (type: Type, field: string): never => {
  throw new Error(`the OTLP schema has no field ${type.name}.${field}`);
};
const RESOURCE = name(SIGNALS.traces.resourceGroup, 'resource');
const ATTRIBUTES = name(Resource, 'attributes');
const KEY = name(KeyValue, 'key');

function stampResource(resource: unknown, identity: StampIdentity): JsonObject {
  const target = (resource ?? {}) as JsonObject; // null is an absent resource in proto3 JSON
  const attributes = (Array.isArray(target[ATTRIBUTES]) ? target[ATTRIBUTES] : []) as JsonObject[];
  target[ATTRIBUTES] = [
    ...attributes.filter((attribute) => !STAMPED_KEYS.has((attribute[KEY] as string | undefined) ?? '')),
    ...stampedAttributes(identity).map(({ key, value }) => ({ key, value: { stringValue: value } })),
  ];
  return target;
}

function parse(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new InvalidOtlp('The OTLP/JSON body is not valid UTF-8.', 400, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidOtlp('The OTLP/JSON body is not valid JSON.', 400, { cause: error });
  }
}

const invalid = (path: string, problem: string) =>
  new InvalidOtlp(`OTLP/JSON ${path || 'body'}: ${problem}.`);
const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The snake_case names of a type's fields, which OTLP/JSON says are not valid keys. */
const snakeNames = new WeakMap<Type, Map<string, string>>();
function snakeNameOf(type: Type, key: string): string | undefined {
  let names = snakeNames.get(type);
  if (!names) {
    names = new Map();
    for (const field of type.fieldsArray) {
      const snake = field.name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      if (snake !== field.name) names.set(snake, field.name);
    }
    snakeNames.set(type, names);
  }
  return names.get(key);
}

function checkMessage(type: Type, value: unknown, path: string, depth: number): void {
  if (depth > util.recursionLimit) throw invalid(path, 'nests too deeply');
  if (!isObject(value)) throw invalid(path, 'must be an object');
  for (const [key, fieldValue] of Object.entries(value)) {
    if (!Object.hasOwn(type.fields, key)) {
      // An unknown key is ignored (OTLP/JSON), except a known field's proto name: a parser that reads
      // proto names too would see a value the relay did not stamp.
      const camel = snakeNameOf(type, key);
      if (camel !== undefined) throw invalid(join(path, key), `OTLP/JSON names this field "${camel}"`);
      continue;
    }
    if (fieldValue !== null) checkField(type.fields[key]!.resolve(), fieldValue, join(path, key), depth);
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((member) => value[member] !== undefined && value[member] !== null);
    if (set.length > 1) throw invalid(path, `sets ${set.join(' and ')}, of which one at most may be set`);
  }
}

function checkField(field: Field, value: unknown, path: string, depth: number): void {
  if (!field.repeated) return checkValue(field, value, path, depth);
  if (!Array.isArray(value)) throw invalid(path, 'must be an array');
  value.forEach((item, index) => checkValue(field, item, `${path}[${index}]`, depth));
}

function checkValue(field: Field, value: unknown, path: string, depth: number): void {
  const type = field.resolvedType;
  if (type instanceof Enum)
    return checkInteger(value, 'int32', path, 'an integer (OTLP/JSON enums are numbers)');
  if (type) return checkMessage(type, value, path, depth + 1);
  const kind = field.type;
  if (kind in INTEGER_RANGES) return checkInteger(value, kind, path, 'an integer');
  if (kind === 'double' || kind === 'float') {
    if (typeof value === 'number' || (typeof value === 'string' && FLOAT_TEXT.test(value))) return;
    throw invalid(path, 'must be a number');
  }
  if (kind === 'bytes') return checkBytes(field.name, value, path);
  if (typeof value !== (kind === 'bool' ? 'boolean' : 'string')) throw invalid(path, `must be a ${kind}`);
}

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const FLOAT_TEXT = /^(NaN|-?Infinity|-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$/;

/** proto3 JSON takes integers as numbers or decimal strings (64-bit ones are written as strings). */
function checkInteger(value: unknown, kind: string, path: string, expected: string): void {
  const [min, max] = INTEGER_RANGES[kind]!;
  let integer: bigint;
  if (typeof value === 'number' && Number.isInteger(value)) {
    // JSON.parse has already rounded such a number: writing it back would change the value.
    if (!Number.isSafeInteger(value))
      throw invalid(path, 'is an integer beyond 2^53; send it as a decimal string');
    integer = BigInt(value);
  } else if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    integer = BigInt(value);
  } else {
    throw invalid(path, `must be ${expected}`);
  }
  if (integer < min || integer > max) throw invalid(path, `is out of range for ${kind}`);
}

/** OTLP/JSON writes trace and span ids in hex (16 and 8 bytes, or empty); other bytes in base64. */
const ID_BYTES: Record<string, number> = { traceId: 16, spanId: 8, parentSpanId: 8 };

function checkBytes(fieldName: string, value: unknown, path: string): void {
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  const idBytes = ID_BYTES[fieldName];
  if (idBytes !== undefined) {
    if (value === '' || (value.length === idBytes * 2 && /^[0-9a-fA-F]+$/.test(value))) return;
    throw invalid(path, `must be ${idBytes * 2} hex digits`);
  }
  const unpadded = value.replace(/={1,2}$/, '');
  if (/^[A-Za-z0-9+/]*$|^[A-Za-z0-9_-]*$/.test(unpadded) && unpadded.length % 4 !== 1) return;
  throw invalid(path, 'must be base64');
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
