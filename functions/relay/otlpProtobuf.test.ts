import { Writer } from 'protobufjs/light';
import {
  decodeProtobuf,
  identityAttributes,
  type Json,
  loadOtlpExamples,
  type OtlpExamples,
  stringAttribute,
} from '../../test/support/otlp';
import { wireFields } from './otlpProtobuf';
import { fieldNumber, KeyValue, Resource, SIGNALS } from './otlpSchema';
import { InvalidOtlp, stampIdentity } from './stampIdentity';

const identity = { installId: 'install-0c1d2e3f', serviceName: 'mycli', serviceVersion: '1.0.0' };
const PROTOBUF = 'application/x-protobuf';
const traces = SIGNALS.traces;

let examples: OtlpExamples;
beforeAll(async () => {
  examples = await loadOtlpExamples();
});

/** A field as protobuf.js's writer puts it: tag, then a varint or the length and the bytes. */
const lengthDelimited = (field: number, content: Uint8Array) =>
  Buffer.from(
    Writer.create()
      .uint32((field << 3) | 2)
      .bytes(content)
      .finish(),
  );
const varint = (field: number, value: number) =>
  Buffer.from(
    Writer.create()
      .uint32(field << 3)
      .uint32(value)
      .finish(),
  );
const keyValue = (key: string, value: string) =>
  lengthDelimited(1, KeyValue.encode({ key, value: { stringValue: value } }).finish());

/** The first ScopeSpans of the SDK's trace request, its bytes as the protobuf serializer wrote them. */
const scopeSpans = () => {
  const field = (bytes: Uint8Array, type: typeof Resource, name: string) =>
    wireFields(bytes, type).find((found) => found.number === fieldNumber(type, name))!.content!;
  const group = field(examples.protobuf('traces'), traces.request, 'resourceSpans');
  return Buffer.from(field(group, traces.resourceGroup, 'scopeSpans'));
};
/** The SDK's first span starts at 1767225601.456789001 s: a 64-bit value a double cannot hold. */
const FIRST_SPAN_START = '1767225601456789001';

describe('Function: stampIdentity (protobuf)', () => {
  it('copies every byte outside the resource attributes, unknown fields and 64-bit values included', () => {
    const scope = scopeSpans();
    const futureResourceField = lengthDelimited(9, Buffer.from('an entity from a newer OTLP'));
    const futureGroupField = varint(77, 300);
    const futureRequestField = lengthDelimited(15, Buffer.from('profiles, some day'));
    const resource = Buffer.concat([
      keyValue('service.name', 'someone-else'),
      keyValue('host.name', 'build-42'),
      varint(2, 3), // dropped_attributes_count
      futureResourceField,
      keyValue('logfire_broker.install_id', 'install-of-another-user'),
    ]);
    const body = Buffer.concat([
      lengthDelimited(
        1,
        Buffer.concat([lengthDelimited(1, resource), lengthDelimited(2, scope), futureGroupField]),
      ),
      futureRequestField,
    ]);

    const out = stampIdentity('traces', { bytes: body, contentType: PROTOBUF }, identity);

    const expectedResource = Buffer.concat([
      keyValue('host.name', 'build-42'),
      varint(2, 3),
      futureResourceField,
      keyValue('logfire_broker.install_id', identity.installId),
      keyValue('service.name', identity.serviceName),
      keyValue('service.version', identity.serviceVersion),
    ]);
    const expected = Buffer.concat([
      lengthDelimited(
        1,
        Buffer.concat([lengthDelimited(1, expectedResource), lengthDelimited(2, scope), futureGroupField]),
      ),
      futureRequestField,
    ]);
    expect(out.toString('hex')).toBe(expected.toString('hex'));
    const decodedSpan = (
      (decodeProtobuf('traces', out).resourceSpans as Json[])[0]!.scopeSpans as Json[]
    )[0]!;
    expect((decodedSpan.spans as Json[])[0]!.startTimeUnixNano).toBe(FIRST_SPAN_START);
  });

  it('merges a resource given twice into one, as any protobuf parser would read it, and stamps that one', () => {
    const first = Resource.encode({ attributes: [stringAttribute('service.name', 'someone-else')] }).finish();
    const second = Resource.encode({
      attributes: [stringAttribute('host.name', 'build-42'), stringAttribute('service.version', '0.0.1')],
    }).finish();
    const group = Buffer.concat([
      lengthDelimited(1, first),
      lengthDelimited(2, scopeSpans()),
      lengthDelimited(1, second),
    ]);

    const out = stampIdentity(
      'traces',
      { bytes: lengthDelimited(1, group), contentType: PROTOBUF },
      identity,
    );

    const decoded = decodeProtobuf('traces', out);
    const attributes = ((decoded.resourceSpans as Json[])[0]!.resource as Json).attributes as Json[];
    expect(attributes.map((attribute) => attribute.key)).toEqual([
      'host.name',
      'logfire_broker.install_id',
      'service.name',
      'service.version',
    ]);
    expect(identityAttributes('traces', decoded)).toEqual([
      ['logfire_broker.install_id=install-0c1d2e3f', 'service.name=mycli', 'service.version=1.0.0'],
    ]);
    // One resource field, where the first one was.
    expect(out.indexOf(lengthDelimited(2, scopeSpans()))).toBeGreaterThan(
      out.indexOf(Buffer.from('host.name')),
    );
  });

  it('puts a missing resource first in its group', () => {
    const scope = lengthDelimited(2, scopeSpans());

    const out = stampIdentity(
      'traces',
      { bytes: lengthDelimited(1, scope), contentType: PROTOBUF },
      identity,
    );

    const resource = Buffer.concat(
      [
        ['logfire_broker.install_id', identity.installId],
        ['service.name', identity.serviceName],
        ['service.version', identity.serviceVersion],
      ].map(([key, value]) => keyValue(key!, value!)),
    );
    expect(out.toString('hex')).toBe(
      lengthDelimited(1, Buffer.concat([lengthDelimited(1, resource), scope])).toString('hex'),
    );
  });

  it('refuses a resource field that is not encoded as a message, rather than guess what a parser makes of it', () => {
    // Field 1 as a varint: protobuf.js's decoder reads it as an empty resource, Go's as an unknown field.
    const group = Buffer.concat([varint(1, 0), lengthDelimited(2, scopeSpans())]);

    expect(() =>
      stampIdentity('traces', { bytes: lengthDelimited(1, group), contentType: PROTOBUF }, identity),
    ).toThrow(InvalidOtlp);
  });

  it('refuses an attribute framed as a group, which the schema decode reads as a message (found by fuzzing)', () => {
    const asGroup = Buffer.concat([Buffer.from([0x0b]), keyValue('host.name', 'build-42').subarray(1)]); // field 1, wire type 3
    const body = lengthDelimited(1, lengthDelimited(1, asGroup));

    expect(() => stampIdentity('traces', { bytes: body, contentType: PROTOBUF }, identity)).toThrow(
      InvalidOtlp,
    );
  });

  it('refuses a known field in another wire type, which one parser reads as a message and another skips', () => {
    // entity_refs (field 3) as a varint 0x18, then a length: protobuf.js's decoder takes the next bytes as an
    // EntityRef, Go's skips the varint and reads them as an attribute. Forwarded, either could hide a stamp.
    const inner = keyValue('service.version', '9.9.9');
    const resource = Buffer.concat([Buffer.from([0x18, inner.length]), inner]);

    expect(() =>
      stampIdentity(
        'traces',
        { bytes: lengthDelimited(1, lengthDelimited(1, resource)), contentType: PROTOBUF },
        identity,
      ),
    ).toThrow('The OTLP field Resource.entityRefs is not encoded as its type.');
  });

  it('refuses an attribute that is not a KeyValue message', () => {
    const resource = Buffer.concat([keyValue('host.name', 'build-42'), Buffer.from([0x0d, 1, 2, 3, 4])]); // field 1, fixed32

    expect(() =>
      stampIdentity(
        'traces',
        { bytes: lengthDelimited(1, lengthDelimited(1, resource)), contentType: PROTOBUF },
        identity,
      ),
    ).toThrow(InvalidOtlp);
  });
});
