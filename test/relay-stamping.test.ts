/**
 * Identity stamping end to end: real OpenTelemetry exporters (OTLP/HTTP protobuf and JSON, with and without
 * gzip, each in a child process) post to a local server that runs stampIdentity on each body, as the relay does with
 * BROKER_RELAY_STAMP_IDENTITY=1; the test decodes what would go on to Logfire.
 */
import { gunzipSync } from 'node:zlib';
import type { OtlpSignal } from '../functions/relay/otlpSchema';
import { InvalidOtlp, stampIdentity, type StampIdentity } from '../functions/relay/stampIdentity';
import { decodeProtobuf, identityAttributes, type Json, withoutIdentity } from './support/otlp';
import {
  type ExporterFormat,
  type OtlpServer,
  type ReceivedRequest,
  runTraceExporter,
  startOtlpServer,
} from './support/otlpExporters';

const identity: StampIdentity = {
  installId: 'install-5d6e7f80',
  serviceName: 'mycli',
  serviceVersion: '2.4.1',
};
const STAMPED = ['logfire_broker.install_id=install-5d6e7f80', 'service.name=mycli', 'service.version=2.4.1'];
/** What a client trying to pose as another install of another app sets on its resource. */
const POSING_RESOURCE = {
  'service.name': 'someone-elses-app',
  'service.version': '9.9.9',
  'logfire_broker.install_id': 'install-of-another-user',
  'host.arch': 'arm64',
  'process.runtime.name': 'nodejs',
};

const stamped = new Map<ReceivedRequest, Buffer>();

/** The relay's part: stamp, and answer as OTLP/HTTP does (an empty protobuf reply, or `{}` in JSON). */
function stampingHandler(request: ReceivedRequest) {
  const signal = request.path.replace('/v1/', '') as OtlpSignal;
  const contentType = request.headers['content-type'] ?? '';
  try {
    const body = { bytes: request.body, contentType, contentEncoding: request.headers['content-encoding'] };
    stamped.set(request, stampIdentity(signal, body, identity));
  } catch (error) {
    if (!(error instanceof InvalidOtlp)) throw error;
    const reply = { error: { code: error.code, message: error.message } };
    return {
      status: error.status,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(reply)),
    };
  }
  return contentType.startsWith('application/json')
    ? { status: 200, contentType: 'application/json', body: Buffer.from('{}') }
    : { status: 200, contentType: 'application/x-protobuf', body: Buffer.alloc(0) };
}

function decode(format: ExporterFormat, bytes: Buffer, gzip: boolean): Json {
  const plain = gzip ? gunzipSync(bytes) : bytes;
  return format === 'protobuf'
    ? decodeProtobuf('traces', plain)
    : (JSON.parse(plain.toString('utf8')) as Json);
}

const spansOf = (payload: Json) =>
  (payload.resourceSpans as Json[]).flatMap((group) =>
    (group.scopeSpans as Json[]).flatMap((scope) => scope.spans as Json[]),
  );

const resourceKeys = (payload: Json) =>
  (((payload.resourceSpans as Json[])[0]!.resource as Json).attributes as Array<{ key: string }>).map(
    ({ key }) => key,
  );

describe('identity stamping with real OpenTelemetry exporters', () => {
  let server: OtlpServer;

  beforeAll(async () => {
    server = await startOtlpServer(stampingHandler);
  });
  afterAll(() => server.close());

  it.each([
    ['protobuf', false],
    ['protobuf', true],
    ['json', false],
    ['json', true],
  ] as Array<[ExporterFormat, boolean]>)(
    'the %s exporter (gzip: %s): exactly the three identity attributes change, every span stays the same',
    async (format, gzip) => {
      const before = server.received.length;

      const result = await runTraceExporter({
        format,
        gzip,
        url: `${server.url}/v1/traces`,
        resource: POSING_RESOURCE,
        spans: 40,
      });

      expect(result).toEqual({ code: 0 }); // the exporter took the relay's reply
      const [request, ...more] = server.received.slice(before);
      expect(more).toEqual([]);
      expect(request!.headers['content-encoding']).toBe(gzip ? 'gzip' : undefined);
      const out = stamped.get(request!)!;
      if (gzip) expect([...out.subarray(0, 2)]).toEqual([0x1f, 0x8b]); // gzip again, as it came

      const original = decode(format, request!.body, gzip);
      const forwarded = decode(format, out, gzip);
      expect(identityAttributes('traces', original)).toEqual([
        [
          'service.name=someone-elses-app',
          'service.version=9.9.9',
          'logfire_broker.install_id=install-of-another-user',
        ],
      ]);
      expect(identityAttributes('traces', forwarded)).toEqual([STAMPED]);
      expect(withoutIdentity('traces', forwarded)).toEqual(withoutIdentity('traces', original));
      expect(resourceKeys(forwarded)).toEqual([
        'host.arch',
        'process.runtime.name',
        'logfire_broker.install_id',
        'service.name',
        'service.version',
      ]);
      expect(spansOf(forwarded)).toHaveLength(40);
      expect(spansOf(forwarded)).toEqual(spansOf(original));
    },
  );

  it('answers a body that is not OTLP with a 400 JSON error, and forwards nothing', async () => {
    const before = stamped.size;

    const response = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: '<!doctype html><title>Not OTLP</title>',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 'invalid_request',
        message: expect.stringMatching(/^The body is not an OTLP traces export request/),
      },
    });
    expect(stamped.size).toBe(before);
  });
});
