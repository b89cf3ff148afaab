import {
  identityAttributes,
  type Json,
  loadOtlpExamples,
  type OtlpExamples,
  stringAttribute,
} from '../../test/support/otlp';
import { InvalidOtlp, type OtlpSignal, stampIdentity } from './stampIdentity';

const identity = { installId: 'install-0c1d2e3f', serviceName: 'mycli', serviceVersion: '1.0.0' };
const STAMPED = ['logfire_broker.install_id=install-0c1d2e3f', 'service.name=mycli', 'service.version=1.0.0'];
/** The SDK's example requests hold two resource groups. */
const BOTH_GROUPS_STAMPED = [STAMPED, STAMPED];

let examples: OtlpExamples;
beforeAll(async () => {
  examples = await loadOtlpExamples();
});
const exampleJson = (signal: OtlpSignal) => examples.json(signal);

const stampText = (text: string | Buffer, signal: 'traces' | 'logs' | 'metrics' = 'traces') =>
  stampIdentity(signal, { bytes: Buffer.from(text), contentType: 'application/json' }, identity).toString(
    'utf8',
  );
const stamp = (payload: unknown, signal: 'traces' | 'logs' | 'metrics' = 'traces') =>
  JSON.parse(stampText(JSON.stringify(payload), signal)) as Json;

/** The SDK's trace request with `change` applied to its first span. */
function traceWith(change: (span: Json, payload: Json) => void): Json {
  const payload = exampleJson('traces');
  const span = (((payload.resourceSpans as Json[])[0]!.scopeSpans as Json[])[0]!.spans as Json[])[0]!;
  change(span, payload);
  return payload;
}

const refusal = (payload: unknown) => {
  try {
    stamp(payload);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOtlp);
    return (error as InvalidOtlp).message;
  }
  throw new Error('the payload was accepted');
};

const SPAN = 'resourceSpans[0].scopeSpans[0].spans[0]';

describe('Function: stampIdentity (OTLP/JSON)', () => {
  it('keeps unknown fields at every level, with their values as they were', () => {
    const payload = traceWith((span, all) => {
      span.futureField = { nested: [1, 'two', null, { deep: true }] };
      all.requestExtension = 'kept';
      const group = (all.resourceSpans as Json[])[0]!;
      group.groupExtension = [3.25];
      (group.resource as Json).entityRefs = [{ type: 'service', idKeys: ['service.name'] }];
      (group.resource as Json).resourceExtension = 42;
    });

    const out = stamp(payload);

    const group = (out.resourceSpans as Json[])[0]!;
    expect(out.requestExtension).toBe('kept');
    expect(group.groupExtension).toEqual([3.25]);
    expect(group.resource).toMatchObject({
      resourceExtension: 42,
      entityRefs: [{ type: 'service', idKeys: ['service.name'] }],
    });
    expect(group.scopeSpans).toEqual((payload.resourceSpans as Json[])[0]!.scopeSpans);
    expect(identityAttributes('traces', out)).toEqual(BOTH_GROUPS_STAMPED);
  });

  it('keeps 64-bit integers written as strings exactly, and safe integers written as numbers', () => {
    const out = stamp(
      traceWith((span) => {
        span.startTimeUnixNano = '1544712660000000123';
        span.attributes = [
          { key: 'count', value: { intValue: 12 } },
          { key: 'big', value: { intValue: '-9223372036854775808' } },
        ];
      }),
    );

    const span = (((out.resourceSpans as Json[])[0]!.scopeSpans as Json[])[0]!.spans as Json[])[0]!;
    expect(span.startTimeUnixNano).toBe('1544712660000000123');
    expect(span.attributes).toEqual([
      { key: 'count', value: { intValue: 12 } },
      { key: 'big', value: { intValue: '-9223372036854775808' } },
    ]);
  });

  it('refuses a 64-bit integer that JSON.parse has already rounded, rather than forward another value', () => {
    const text = JSON.stringify(traceWith((span) => (span.startTimeUnixNano = 'PLACEHOLDER'))).replace(
      '"PLACEHOLDER"',
      '1544712660000000123',
    );

    expect(() => stampText(text)).toThrow(
      `OTLP/JSON ${SPAN}.startTimeUnixNano: is an integer beyond 2^53; send it as a decimal string.`,
    );
  });

  it.each([
    [
      'resource_spans',
      (payload: Json) => (payload.resource_spans = payload.resourceSpans),
      'resource_spans',
      'resourceSpans',
    ],
    [
      'dropped_attributes_count',
      (payload: Json) =>
        (((payload.resourceSpans as Json[])[0]!.resource as Json).dropped_attributes_count = 1),
      'resourceSpans[0].resource.dropped_attributes_count',
      'droppedAttributesCount',
    ],
    [
      'string_value',
      (payload: Json) =>
        (((payload.resourceSpans as Json[])[0]!.resource as Json).attributes = [
          { key: 'service.name', value: { string_value: 'x' } },
        ]),
      'resourceSpans[0].resource.attributes[0].value.string_value',
      'stringValue',
    ],
  ])(
    'refuses the proto field name %s, which a lenient parser would read past the stamp',
    (_name, change, path, camel) => {
      const payload = exampleJson('traces');
      change(payload);

      expect(refusal(payload)).toBe(`OTLP/JSON ${path}: OTLP/JSON names this field "${camel}".`);
    },
  );

  it.each([
    [
      'an enum by name',
      (span: Json) => (span.kind = 'SPAN_KIND_SERVER'),
      'kind: must be an integer (OTLP/JSON enums are numbers)',
    ],
    [
      'a base64 trace id',
      (span: Json) => (span.traceId = 'W47/95gDgQPSabYzgT/GDA=='),
      'traceId: must be 32 hex digits',
    ],
    ['a short span id', (span: Json) => (span.spanId = 'EEE19B7E'), 'spanId: must be 16 hex digits'],
    [
      'a timestamp with a fraction',
      (span: Json) => (span.endTimeUnixNano = '1.5'),
      'endTimeUnixNano: must be an integer',
    ],
    [
      'a negative unsigned count',
      (span: Json) => (span.droppedEventsCount = -1),
      'droppedEventsCount: is out of range for uint32',
    ],
    ['a name that is a number', (span: Json) => (span.name = 7), 'name: must be a string'],
    [
      'attributes as an object',
      (span: Json) => (span.attributes = { key: 'a' }),
      'attributes: must be an array',
    ],
    ['a null in a list', (span: Json) => (span.events = [null]), 'events[0]: must be an object'],
    [
      'an AnyValue with two values',
      (span: Json) => (span.attributes = [{ key: 'a', value: { stringValue: 'x', intValue: 1 } }]),
      'attributes[0].value: sets stringValue and intValue, of which one at most may be set',
    ],
    [
      'a boolean as text',
      (span: Json) => (span.attributes = [{ key: 'a', value: { boolValue: 'true' } }]),
      'attributes[0].value.boolValue: must be a bool',
    ],
    [
      'bytes that are not base64',
      (span: Json) => (span.attributes = [{ key: 'a', value: { bytesValue: '%%' } }]),
      'attributes[0].value.bytesValue: must be base64',
    ],
  ])('refuses %s, naming where it is', (_case, change, problem) => {
    expect(refusal(traceWith(change))).toBe(`OTLP/JSON ${SPAN}.${problem}.`);
  });

  it('accepts what proto3 JSON allows: ids in either case or empty, numbers as strings, special doubles, base64url', () => {
    const out = stamp(
      traceWith((span) => {
        span.traceId = '5b8efff798038103d269b633813fc60c';
        span.parentSpanId = '';
        span.kind = '2';
        span.attributes = [
          { key: 'ratio', value: { doubleValue: 'NaN' } },
          { key: 'bytes', value: { bytesValue: '-_8' } },
          { key: 'none', value: null },
        ];
      }),
    );

    expect(identityAttributes('traces', out)).toEqual(BOTH_GROUPS_STAMPED);
  });

  it('creates a resource that is null and replaces attributes that are null', () => {
    const payload = exampleJson('logs');
    const groups = payload.resourceLogs as Json[];
    groups.push(
      { ...structuredClone(groups[0]!), resource: null },
      { ...structuredClone(groups[0]!), resource: { attributes: null } },
    );

    expect(identityAttributes('logs', stamp(payload, 'logs'))).toEqual([
      ...BOTH_GROUPS_STAMPED,
      STAMPED,
      STAMPED,
    ]);
  });

  it('writes one resourceSpans when the body repeats the key, so no reader can pick the unstamped one', () => {
    const poser = JSON.stringify([
      { resource: { attributes: [stringAttribute('service.name', 'someone-else')] } },
    ]);
    const text = `{"resourceSpans":${poser},"resourceSpans":${JSON.stringify(exampleJson('traces').resourceSpans)}}`;

    const out = stampText(text);

    expect(out.match(/"resourceSpans"/g)).toHaveLength(1);
    expect(out).not.toContain('someone-else');
    expect(identityAttributes('traces', JSON.parse(out) as Json)).toEqual(BOTH_GROUPS_STAMPED);
  });

  it('keeps a "__proto__" key as data, without touching any prototype', () => {
    const text = JSON.stringify(exampleJson('traces')).replace('{', '{"__proto__":{"polluted":true},');

    const out = stampText(text);

    expect(({} as Json).polluted).toBeUndefined();
    expect(out.startsWith('{"__proto__":{"polluted":true},')).toBe(true);
  });

  it('takes a UTF-8 byte order mark, and refuses bytes that are not UTF-8', () => {
    const text = JSON.stringify(exampleJson('metrics'));

    expect(
      identityAttributes(
        'metrics',
        JSON.parse(
          stampText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'metrics'),
        ) as Json,
      ),
    ).toEqual(BOTH_GROUPS_STAMPED);
    expect(
      () => stampText(Buffer.from(text.replace('mycli', 'myclé'), 'latin1'), 'metrics'), // é is one byte in latin1
    ).toThrow('The OTLP/JSON body is not valid UTF-8.');
  });

  it.each([
    ['null'],
    ['"traces"'],
    ['[]'],
    ['{"resourceSpans":{}}'],
    ['{"resourceSpans":[[]]}'],
    ['{"resourceSpans": ['],
  ])('refuses %s, which is not an export request', (text) => {
    expect(() => stampText(text)).toThrow(InvalidOtlp);
  });

  it('refuses a value nested past the protobuf recursion limit, without overflowing the stack', () => {
    let value: Json = { stringValue: 'leaf' };
    for (let depth = 0; depth < 200; depth += 1) value = { kvlistValue: { values: [{ key: 'k', value }] } };

    expect(refusal(traceWith((span) => (span.attributes = [{ key: 'deep', value }])))).toMatch(
      /nests too deeply\.$/,
    );
  });
});
