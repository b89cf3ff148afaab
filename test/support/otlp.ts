/**
 * OTLP payloads for the stamping tests: requests the OpenTelemetry JS SDK makes (otlpSdk.ts) in OTLP/JSON
 * and protobuf, protobuf.js's own encoding of a changed one, decoding to comparable plain objects, and the
 * two views a test asserts on: the identity attributes of each resource, and everything else.
 */
import type { Type } from 'protobufjs/light';
import { STAMPED_KEYS } from '../../functions/relay/model';
import { SIGNALS, type OtlpSignal } from '../../functions/relay/otlpSchema';
import { recordTelemetry, serialize } from './otlpSdk';

export type Json = Record<string, unknown>;
export const OTLP_SIGNALS: OtlpSignal[] = ['traces', 'logs', 'metrics'];

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** One request per signal as the SDK's serializers write it, each with two resource groups. */
export interface OtlpExamples {
  /** A fresh copy of the OTLP/JSON request, to change at will. */
  json(signal: OtlpSignal): Json;
  /** The same data as the protobuf serializer writes it. */
  protobuf(signal: OtlpSignal): Buffer;
}

/**
 * Records the SDK's telemetry once (metrics are collected asynchronously: call it in `beforeAll`). The
 * metrics come from two collections, one per resource, made one request: their resource groups in one
 * JSON array, and their protobuf concatenated, which any protobuf parser reads as one message.
 */
export async function loadOtlpExamples(): Promise<OtlpExamples> {
  const telemetry = await recordTelemetry();
  const json = Object.fromEntries(
    OTLP_SIGNALS.map((signal) => {
      const requests = serialize(telemetry, signal, 'json').map(
        (bytes) => JSON.parse(bytes.toString()) as Json,
      );
      const field = SIGNALS[signal].resourceGroups;
      return [signal, JSON.stringify({ [field]: requests.flatMap((request) => request[field] as Json[]) })];
    }),
  ) as Record<OtlpSignal, string>;
  const protobuf = Object.fromEntries(
    OTLP_SIGNALS.map((signal) => [signal, Buffer.concat(serialize(telemetry, signal, 'protobuf'))]),
  ) as Record<OtlpSignal, Buffer>;
  return {
    json: (signal) => JSON.parse(json[signal]) as Json,
    protobuf: (signal) => Buffer.from(protobuf[signal]),
  };
}

/** An OTLP/JSON request encoded as protobuf (hex ids become bytes; the rest protobuf.js converts). */
export function toProtobuf(signal: OtlpSignal, payload: Json): Buffer {
  const { request } = SIGNALS[signal];
  const withBytes = mapIds(payload, (hex) => Buffer.from(hex, 'hex'));
  return Buffer.from(request.encode(request.fromObject(withBytes as Json)).finish());
}

/** A protobuf request decoded to a plain object: 64-bit values as decimal strings, ids in lowercase hex. */
export function decodeProtobuf(signal: OtlpSignal, bytes: Uint8Array): Json {
  return decodeAs(SIGNALS[signal].request, bytes);
}

/** `decodeProtobuf` with any request type (the schema test decodes with altered schemas too). */
export function decodeAs(request: Type, bytes: Uint8Array): Json {
  const plain = request.toObject(request.decode(bytes), { longs: String, bytes: String, enums: Number });
  return mapIds(plain, (base64) => Buffer.from(base64, 'base64').toString('hex')) as Json;
}

function mapIds(value: unknown, convert: (text: string) => unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => mapIds(item, convert));
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      ID_FIELDS.has(key) && typeof item === 'string' ? convert(item) : mapIds(item, convert),
    ]),
  );
}

type KeyValue = { key?: string; value?: { stringValue?: string } };

function groupsOf(signal: OtlpSignal, payload: Json): Json[] {
  return (payload[SIGNALS[signal].resourceGroups] as Json[] | undefined) ?? [];
}

/** Each resource's attributes with a stamped key, as `key=value` in their order. */
export function identityAttributes(signal: OtlpSignal, payload: Json): string[][] {
  return groupsOf(signal, payload).map((group) =>
    (((group.resource as Json | undefined)?.attributes as KeyValue[] | undefined) ?? [])
      .filter((attribute) => STAMPED_KEYS.has(attribute.key ?? ''))
      .map((attribute) => `${attribute.key}=${attribute.value?.stringValue}`),
  );
}

/** A copy without the stamped keys' attributes (and without a resource left empty by that). */
export function withoutIdentity(signal: OtlpSignal, payload: Json): Json {
  const copy = structuredClone(payload);
  for (const group of groupsOf(signal, copy)) {
    const resource = group.resource as Json | undefined | null;
    if (!resource) {
      delete group.resource;
      continue;
    }
    const kept = ((resource.attributes as KeyValue[] | undefined) ?? []).filter(
      (attribute) => !STAMPED_KEYS.has(attribute.key ?? ''),
    );
    if (kept.length > 0) resource.attributes = kept;
    else delete resource.attributes;
    if (Object.keys(resource).length === 0) delete group.resource;
  }
  return copy;
}

/** A resource attribute as OTLP/JSON writes it. */
export const stringAttribute = (key: string, value: string): KeyValue => ({
  key,
  value: { stringValue: value },
});
