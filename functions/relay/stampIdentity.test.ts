import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  decodeProtobuf,
  identityAttributes,
  type Json,
  loadOtlpExamples,
  OTLP_SIGNALS,
  type OtlpExamples,
  stringAttribute,
  toProtobuf,
  withoutIdentity,
} from '../../test/support/otlp';
import { SIGNALS, type OtlpSignal } from './otlpSchema';
import { InvalidOtlp, MAX_DECODED_OTLP_BYTES, stampIdentity, type StampIdentity } from './stampIdentity';

const identity: StampIdentity = {
  installId: 'install-7f3a9c21',
  serviceName: 'mycli',
  serviceVersion: '2.4.1',
};
const STAMPED = ['logfire_broker.install_id=install-7f3a9c21', 'service.name=mycli', 'service.version=2.4.1'];
/** The SDK's example requests hold two resource groups. */
const BOTH_GROUPS_STAMPED = [STAMPED, STAMPED];

let examples: OtlpExamples;
beforeAll(async () => {
  examples = await loadOtlpExamples();
});
const exampleJson = (signal: OtlpSignal) => examples.json(signal);

type Format = 'protobuf' | 'json';
const CONTENT_TYPE: Record<Format, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

const encode = (format: Format, signal: OtlpSignal, payload: Json): Buffer =>
  format === 'protobuf' ? toProtobuf(signal, payload) : Buffer.from(JSON.stringify(payload));
const decode = (format: Format, signal: OtlpSignal, bytes: Buffer): Json =>
  format === 'protobuf' ? decodeProtobuf(signal, bytes) : (JSON.parse(bytes.toString('utf8')) as Json);

/** The SDK's request with a poser's identity among the client's own resource attributes (first group). */
function posingPayload(signal: OtlpSignal): Json {
  const payload = exampleJson(signal);
  const group = (payload[SIGNALS[signal].resourceGroups] as Json[])[0]!;
  group.resource = {
    attributes: [
      stringAttribute('service.name', 'someone-else'),
      stringAttribute('host.arch', 'arm64'),
      stringAttribute('logfire_broker.install_id', 'install-of-another-user'),
      stringAttribute('service.version', '9.9.9'),
      stringAttribute('service.name', 'a-duplicate'),
    ],
    droppedAttributesCount: 2,
  };
  return payload;
}

describe('Function: stampIdentity', () => {
  describe.each(
    OTLP_SIGNALS.flatMap((signal) => (['protobuf', 'json'] as Format[]).map((format) => [signal, format])),
  )('%s as %s', (signal, format) => {
    const s = signal as OtlpSignal;
    const f = format as Format;

    it.each([false, true])(
      'replaces the client’s identity attributes and keeps everything else (gzip: %s)',
      (gzip) => {
        const payload = posingPayload(s);
        const bytes = encode(f, s, payload);
        const body = {
          bytes: gzip ? gzipSync(bytes) : bytes,
          contentType: CONTENT_TYPE[f],
          contentEncoding: gzip ? 'gzip' : undefined,
        };

        const out = stampIdentity(s, body, identity);

        const stamped = decode(f, s, gzip ? gunzipSync(out) : out);
        expect(identityAttributes(s, stamped)).toEqual(BOTH_GROUPS_STAMPED);
        expect(withoutIdentity(s, stamped)).toEqual(withoutIdentity(s, decode(f, s, bytes)));
        const resource = (stamped[SIGNALS[s].resourceGroups] as Json[])[0]!.resource as Json;
        expect((resource.attributes as Json[])[0]).toEqual(stringAttribute('host.arch', 'arm64'));
        expect(resource.droppedAttributesCount).toBe(2);
      },
    );

    it('stamps the request exactly as the SDK’s serializer writes it, changing nothing but the identity', () => {
      const bytes = f === 'protobuf' ? examples.protobuf(s) : Buffer.from(JSON.stringify(exampleJson(s)));

      const out = stampIdentity(s, { bytes, contentType: CONTENT_TYPE[f] }, identity);

      const [original, stamped] = [decode(f, s, bytes), decode(f, s, out)];
      expect(identityAttributes(s, original)).toEqual([
        ['service.name=mycli', 'service.version=2.4.1'],
        ['service.name=mycli-worker'],
      ]);
      expect(identityAttributes(s, stamped)).toEqual(BOTH_GROUPS_STAMPED);
      expect(withoutIdentity(s, stamped)).toEqual(withoutIdentity(s, original));
    });

    it('stamps every resource group and creates the resource a group lacks', () => {
      const payload = exampleJson(s);
      const groups = payload[SIGNALS[s].resourceGroups] as Json[];
      const withoutResource = structuredClone(groups[0]!);
      delete withoutResource.resource;
      const withEmptyResource = { ...structuredClone(groups[0]!), resource: {} };
      groups.push(withoutResource, withEmptyResource, {});

      const out = stampIdentity(s, { bytes: encode(f, s, payload), contentType: CONTENT_TYPE[f] }, identity);

      const stamped = decode(f, s, out);
      expect(identityAttributes(s, stamped)).toEqual([...BOTH_GROUPS_STAMPED, STAMPED, STAMPED, STAMPED]);
      expect(withoutIdentity(s, stamped)).toEqual(withoutIdentity(s, decode(f, s, encode(f, s, payload))));
    });

    it('accepts an empty request and stamps nothing in it', () => {
      const empty = f === 'protobuf' ? Buffer.alloc(0) : Buffer.from('{}');

      const out = stampIdentity(s, { bytes: empty, contentType: CONTENT_TYPE[f] }, identity);

      expect(identityAttributes(s, decode(f, s, out))).toEqual([]);
    });

    it('refuses a body that is not OTLP with InvalidOtlp (400)', () => {
      const notOtlp =
        f === 'protobuf' ? Buffer.from('<html><body>Not Found</body></html>') : Buffer.from('[1,2,3]');

      const attempt = () => stampIdentity(s, { bytes: notOtlp, contentType: CONTENT_TYPE[f] }, identity);

      expect(attempt).toThrow(InvalidOtlp);
      expect(attempt).toThrow(expect.objectContaining({ status: 400, code: 'invalid_request' }));
    });
  });

  it('leaves exactly the stamped identity and the client’s other attributes in order, for any attributes', () => {
    const key = fc.oneof(
      fc.constantFrom('service.name', 'service.version', 'logfire_broker.install_id'),
      fc.string(),
    );
    const attributes = fc.array(fc.tuple(key, fc.string()), { maxLength: 12 });
    fc.assert(
      fc.property(attributes, fc.constantFrom<Format>('protobuf', 'json'), (pairs, format) => {
        const payload = exampleJson('metrics');
        const group = (payload.resourceMetrics as Json[])[0]!;
        group.resource = { attributes: pairs.map(([k, v]) => stringAttribute(k, v)) };

        const out = stampIdentity(
          'metrics',
          { bytes: encode(format, 'metrics', payload), contentType: CONTENT_TYPE[format] },
          identity,
        );

        const resource = (decode(format, 'metrics', out).resourceMetrics as Json[])[0]!.resource as Json;
        const others = pairs.filter(([k]) => !STAMPED.some((stamped) => stamped.startsWith(`${k}=`)));
        expect(resource.attributes).toEqual([
          ...others.map(([k, v]) => stringAttribute(k, v)),
          ...STAMPED.map((stamped) => stringAttribute(stamped.split('=')[0]!, stamped.split('=')[1]!)),
        ]);
      }),
      { numRuns: 200 },
    );
  });

  it('answers any bytes, random or a valid body with bytes changed, with a stamped body or InvalidOtlp', () => {
    const valid = toProtobuf('traces', posingPayload('traces'));
    const mutated = fc
      .array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      })
      .map((changes) => {
        const bytes = Buffer.from(valid);
        for (const [at, value] of changes) bytes[at] = value;
        return bytes;
      });
    const jsonLike = fc.oneof(
      fc.json(),
      fc
        .jsonValue()
        .map((value) => JSON.stringify({ resourceSpans: [{ resource: { attributes: [value] } }] })),
    );
    const bodies = fc.oneof(
      mutated,
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      jsonLike.map((text) => Buffer.from(text)),
    );
    fc.assert(
      fc.property(bodies, fc.constantFrom<Format>('protobuf', 'json'), (bytes, format) => {
        try {
          expect(
            Buffer.isBuffer(stampIdentity('traces', { bytes, contentType: CONTENT_TYPE[format] }, identity)),
          ).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOtlp);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) },
    );
  });

  it('refuses a body labelled protobuf that is something else, whatever the bytes', () => {
    const bodies = [
      Buffer.from(JSON.stringify(exampleJson('traces'))), // JSON sent with the wrong Content-Type
      Buffer.from('plain text telemetry\n'),
      toProtobuf('traces', exampleJson('traces')).subarray(0, 40), // cut short
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a resourceSpans longer than the body
      Buffer.from([0x0f]), // wire type 7 does not exist
    ];
    for (const bytes of bodies) {
      expect(() =>
        stampIdentity('traces', { bytes, contentType: 'application/x-protobuf' }, identity),
      ).toThrow(InvalidOtlp);
    }
  });

  it('refuses a metrics body sent as traces when it does not decode as a traces request', () => {
    const metricsJson = Buffer.from(
      JSON.stringify(exampleJson('metrics')).replace('"resourceMetrics"', '"resource_spans"'),
    );

    expect(() =>
      stampIdentity('traces', { bytes: metricsJson, contentType: 'application/json' }, identity),
    ).toThrow(/resource_spans: OTLP\/JSON names this field "resourceSpans"/);
  });

  it('takes the content types in any case and with parameters', () => {
    const bytes = Buffer.from(JSON.stringify(exampleJson('logs')));
    for (const contentType of ['Application/JSON; charset=utf-8', 'application/json;charset="UTF-8"']) {
      const out = stampIdentity('logs', { bytes, contentType }, identity);
      expect(identityAttributes('logs', JSON.parse(out.toString()) as Json)).toEqual(BOTH_GROUPS_STAMPED);
    }
    const protobuf = toProtobuf('logs', exampleJson('logs'));
    const out = stampIdentity(
      'logs',
      { bytes: protobuf, contentType: 'APPLICATION/X-PROTOBUF; proto=otlp' },
      identity,
    );
    expect(identityAttributes('logs', decodeProtobuf('logs', out))).toEqual(BOTH_GROUPS_STAMPED);
  });

  it('refuses another content type or charset with 415', () => {
    const bytes = Buffer.from(JSON.stringify(exampleJson('traces')));
    for (const contentType of [
      'text/plain',
      'application/json; charset=latin1',
      'application/protobuf',
      '',
    ]) {
      expect(() => stampIdentity('traces', { bytes, contentType }, identity)).toThrow(
        expect.objectContaining({ name: 'InvalidOtlp', status: 415, code: 'unsupported_media_type' }),
      );
    }
  });

  it('takes identity and no encoding alike, and refuses other encodings with 415', () => {
    const bytes = toProtobuf('traces', exampleJson('traces'));
    for (const contentEncoding of [undefined, '', 'identity', 'Identity']) {
      expect(() =>
        stampIdentity('traces', { bytes, contentType: 'application/x-protobuf', contentEncoding }, identity),
      ).not.toThrow();
    }
    expect(() =>
      stampIdentity(
        'traces',
        { bytes: gzipSync(bytes), contentType: 'application/x-protobuf', contentEncoding: 'GZip' },
        identity,
      ),
    ).not.toThrow();
    for (const contentEncoding of ['br', 'deflate', 'zstd', 'gzip, br']) {
      expect(() =>
        stampIdentity('traces', { bytes, contentType: 'application/x-protobuf', contentEncoding }, identity),
      ).toThrow(expect.objectContaining({ status: 415 }));
    }
  });

  it('refuses a body declared gzip that is not gzip with 400', () => {
    const bytes = toProtobuf('traces', exampleJson('traces'));

    expect(() =>
      stampIdentity(
        'traces',
        { bytes, contentType: 'application/x-protobuf', contentEncoding: 'gzip' },
        identity,
      ),
    ).toThrow(expect.objectContaining({ status: 400, message: 'The body is not valid gzip.' }));
  });

  it('refuses with 413 a body that decompresses past the bound, without inflating all of it', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in about 64 KB
    const started = process.hrtime.bigint();

    const attempt = () =>
      stampIdentity(
        'traces',
        { bytes: bomb, contentType: 'application/x-protobuf', contentEncoding: 'gzip' },
        identity,
        {
          maxDecodedBytes: 1024 * 1024,
        },
      );

    expect(attempt).toThrow(expect.objectContaining({ status: 413, code: 'payload_too_large' }));
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
    const plain = toProtobuf('traces', exampleJson('traces'));
    expect(() =>
      stampIdentity('traces', { bytes: plain, contentType: 'application/x-protobuf' }, identity, {
        maxDecodedBytes: 100,
      }),
    ).toThrow(expect.objectContaining({ status: 413 }));
  });

  it('bounds decompressed bodies at 4 MiB unless told otherwise', () => {
    const justOver = gzipSync(Buffer.alloc(MAX_DECODED_OTLP_BYTES + 1));

    expect(MAX_DECODED_OTLP_BYTES).toBe(4 * 1024 * 1024);
    expect(() =>
      stampIdentity(
        'logs',
        { bytes: justOver, contentType: 'application/x-protobuf', contentEncoding: 'gzip' },
        identity,
      ),
    ).toThrow(
      expect.objectContaining({
        status: 413,
        message: 'The OTLP body is larger than 4194304 bytes once decompressed.',
      }),
    );
  });

  it('never repeats payload content in its errors', () => {
    const payload = exampleJson('logs');
    const group = (payload.resourceLogs as Json[])[0]!;
    group.resource = {
      attributes: [
        { key: 'api.secret', value: { stringValue: 'pylf_v1_us_SeCrEtSeCrEtSeCrEt', boolValue: true } },
      ],
    };

    expect(() =>
      stampIdentity(
        'logs',
        { bytes: Buffer.from(JSON.stringify(payload)), contentType: 'application/json' },
        identity,
      ),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('SeCrEt') as unknown }));
  });
});
