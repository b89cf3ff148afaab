/**
 * Stamping of binary protobuf OTLP requests. The whole request is first decoded with the OTLP schema, so
 * a body that is not the signal's request is refused. The output is then spliced from the input: each
 * resource group's `resource` is rebuilt (the client's three identity attributes dropped, the stamped ones
 * appended) and every other field is copied as it came, byte for byte. Nothing is re-encoded from a
 * decoded model, so unknown fields (newer OTLP than the schema here) and 64-bit values pass unchanged.
 */
import { Enum, type Field, Reader, Type, types, Writer } from 'protobufjs/light';
import { InvalidOtlp, STAMPED_KEYS, stampedAttributes, type StampIdentity } from './model';
import { fieldNumber, KeyValue, Resource, SIGNALS, type OtlpSignal, type SignalSchema } from './otlpSchema';

const LENGTH_DELIMITED = 2;
const ATTRIBUTES = fieldNumber(Resource, 'attributes');

/** One field as it is on the wire: `raw` is its tag and value, `content` the value of a length-delimited one. */
interface WireField {
  number: number;
  wireType: number;
  raw: Uint8Array;
  content?: Uint8Array;
}

export function stampProtobuf(signal: OtlpSignal, bytes: Uint8Array, identity: StampIdentity): Buffer {
  const schema = SIGNALS[signal];
  try {
    schema.request.decode(bytes);
    return splice(schema, bytes, identity);
  } catch (error) {
    if (error instanceof InvalidOtlp) throw error;
    // The splice can fail too: the schema decode reads a message field's bytes whatever their wire type,
    // so bytes it took as a message may not parse as the fields read here. Bad input is never a 500.
    const problem = `The body is not an OTLP ${signal} export request in protobuf (${reason(error)}).`;
    throw new InvalidOtlp(problem, 400, { cause: error });
  }
}

function splice(schema: SignalSchema, bytes: Uint8Array, identity: StampIdentity): Buffer {
  const groupNumber = fieldNumber(schema.request, schema.resourceGroups);
  const stamped = stampedAttributes(identity).flatMap(({ key, value }) =>
    lengthDelimited(ATTRIBUTES, KeyValue.encode({ key, value: { stringValue: value } }).finish()),
  );
  const out = wireFields(bytes, schema.request).flatMap((field) => {
    if (field.number !== groupNumber) return [field.raw];
    return lengthDelimited(groupNumber, stampGroup(field.content!, schema.resourceGroup, stamped));
  });
  return Buffer.concat(out);
}

/**
 * One `ResourceSpans` (or logs, metrics). Several `resource` fields would be merged by any protobuf
 * parser (a message field seen twice is merged, and merging is concatenation): they become one, where the
 * first was, so the relay and Logfire cannot read different resources. None: one is added first.
 */
function stampGroup(bytes: Uint8Array, groupType: Type, stamped: Uint8Array[]): Buffer {
  const resourceNumber = fieldNumber(groupType, 'resource');
  const resources: Uint8Array[] = [];
  const parts: Array<Uint8Array | 'resource'> = [];
  for (const field of wireFields(bytes, groupType)) {
    if (field.number !== resourceNumber) parts.push(field.raw);
    else if (resources.push(field.content!) === 1) parts.push('resource');
  }
  if (resources.length === 0) parts.unshift('resource');
  const resource = lengthDelimited(resourceNumber, stampResource(Buffer.concat(resources), stamped));
  return Buffer.concat(parts.flatMap((part) => (part === 'resource' ? resource : [part])));
}

/** The resource's fields as they came, less every attribute with a stamped key, then the stamped ones. */
function stampResource(bytes: Uint8Array, stamped: Uint8Array[]): Buffer {
  const kept = wireFields(bytes, Resource)
    .filter((field) => field.number !== ATTRIBUTES || !STAMPED_KEYS.has(keyOf(field.content!)))
    .map((field) => field.raw);
  return Buffer.concat([...kept, ...stamped]);
}

function keyOf(keyValue: Uint8Array): string {
  return (KeyValue.decode(keyValue) as unknown as { key: string }).key;
}

/**
 * The fields of one message of `type`, in wire order, read with protobuf.js's reader. A field the schema
 * knows must have its type's wire type (a message field is then length-delimited, so `content` is set):
 * the schema decode reads a message field's bytes whatever their wire type, and other parsers skip them
 * as unknown, so a field framed otherwise could hide bytes from one reader and not the other.
 */
export function wireFields(bytes: Uint8Array, type: Type): WireField[] {
  const reader = Reader.create(bytes);
  const fields: WireField[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const number = tag >>> 3;
    const wireType = tag & 7;
    const known = type.fieldsById[number];
    if (known && !wireTypesOf(known).includes(wireType)) {
      throw new InvalidOtlp(`The OTLP field ${type.name}.${known.name} is not encoded as its type.`);
    }
    let content: Uint8Array | undefined;
    if (wireType === LENGTH_DELIMITED) {
      const length = reader.uint32();
      const from = reader.pos;
      reader.skip(length);
      content = bytes.subarray(from, reader.pos);
    } else {
      reader.skipType(wireType);
    }
    fields.push({ number, wireType, raw: bytes.subarray(start, reader.pos), content });
  }
  return fields;
}

/** The wire types a field may come in: its type's, or length-delimited too for a packed repeated scalar. */
function wireTypesOf(field: Field): number[] {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof Type) return [LENGTH_DELIMITED];
  const wireType = resolved instanceof Enum ? 0 : types.basic[field.type as keyof typeof types.basic];
  return field.repeated ? [wireType, LENGTH_DELIMITED] : [wireType];
}

function lengthDelimited(number: number, content: Uint8Array): Uint8Array[] {
  return [
    Writer.create()
      .uint32((number << 3) | LENGTH_DELIMITED)
      .uint32(content.length)
      .finish(),
    content,
  ];
}

/** protobuf.js's own words (offsets and wire types, never payload content). */
function reason(error: unknown): string {
  return error instanceof Error ? error.message : 'undecodable';
}
