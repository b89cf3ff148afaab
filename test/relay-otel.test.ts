/**
 * Real OpenTelemetry exporters (OTLP/HTTP protobuf and JSON, with and without gzip, each in a child process)
 * send spans through the relay, over the real local server, to the fake Logfire: every batch arrives byte
 * for byte as the exporter sent it (identity stamping off), or with exactly the stamped identity (on), and at the quota the exporter is told 429 with a
 * Retry-After it honours.
 */
import { gunzipSync } from 'node:zlib';
import { runOtelExport } from './support/otelExport';
import { decodeProtobuf, identityAttributes, withoutIdentity } from './support/otlp';
import { startRelayBroker, type RelayBroker } from './support/relayBroker';

const NOON = Date.parse('2031-06-15T12:00:00.000Z');

describe('Relay: real OpenTelemetry exporters', () => {
  let broker: RelayBroker;
  beforeAll(async () => {
    broker = await startRelayBroker();
  });
  afterAll(() => broker?.close());

  it.each([
    ['protobuf', 'none'],
    ['protobuf', 'gzip'],
    ['json', 'none'],
    ['json', 'gzip'],
  ] as const)(
    'relays the %s exporter (compression %s) byte for byte, without a warning',
    async (encoding, compression) => {
      const token = await broker.mint();
      const serviceName = `relay-${encoding}-${compression}`;
      const before = broker.logfire.batches.length;

      const { diagnostics } = await runOtelExport({
        url: `${token.ingest.baseUrl}/v1/traces`,
        token: token.writeToken,
        serviceName,
        spans: 3,
        compression,
        encoding,
      });

      expect(diagnostics).toEqual([]);
      const batches = broker.logfire.batches.slice(before);
      expect(batches).toHaveLength(1);
      const [batch] = batches;
      expect(batch!.body.equals(broker.received.at(-1)!)).toBe(true);
      expect(batch!.contentType).toBe(encoding === 'json' ? 'application/json' : 'application/x-protobuf');
      expect(batch!.contentEncoding).toBe(compression === 'gzip' ? 'gzip' : undefined);
      const plain = compression === 'gzip' ? gunzipSync(batch!.body) : batch!.body;
      expect(plain.toString('latin1')).toContain(serviceName);
      expect(batch!.token).not.toBe(token.writeToken);
    },
  );
});

describe('Relay: real OpenTelemetry exporters, identity stamping on (BROKER_RELAY_STAMP_IDENTITY=1)', () => {
  let broker: RelayBroker;
  beforeAll(async () => {
    broker = await startRelayBroker({ env: { BROKER_RELAY_STAMP_IDENTITY: '1' } });
  });
  afterAll(() => broker?.close());

  it.each([
    ['protobuf', 'none'],
    ['protobuf', 'gzip'],
    ['json', 'none'],
    ['json', 'gzip'],
  ] as const)(
    'stamps the %s exporter (compression %s) with the token identity, nothing else changed',
    async (encoding, compression) => {
      const installId = `stamped-${encoding}-${compression}-0001`;
      const token = await broker.mint(installId);
      const before = broker.logfire.batches.length;

      // The CLI poses as another app and install; the relay puts the token's own identity back.
      const { diagnostics } = await runOtelExport({
        url: `${token.ingest.baseUrl}/v1/traces`,
        token: token.writeToken,
        serviceName: 'someone-else',
        spans: 3,
        compression,
        encoding,
      });

      expect(diagnostics).toEqual([]);
      const [batch] = broker.logfire.batches.slice(before);
      const decode = (body: Buffer) => {
        const plain = compression === 'gzip' ? gunzipSync(body) : body;
        return encoding === 'json'
          ? (JSON.parse(plain.toString('utf8')) as Record<string, unknown>)
          : decodeProtobuf('traces', plain);
      };
      const forwarded = decode(batch!.body);
      const sent = decode(broker.received.at(-1)!);
      expect(identityAttributes('traces', forwarded).map((keys) => [...keys].sort())).toEqual([
        [`logfire_broker.install_id=${installId}`, 'service.name=relay-cli', 'service.version=2.0.0'],
      ]);
      expect(withoutIdentity('traces', forwarded)).toEqual(withoutIdentity('traces', sent));
      expect(batch!.contentEncoding).toBe(compression === 'gzip' ? 'gzip' : undefined);
    },
  );
});

describe('Relay: an exporter at its quota', () => {
  let broker: RelayBroker;
  beforeAll(async () => {
    broker = await startRelayBroker({ env: { BROKER_RELAY_BYTES_PER_DAY: '1' } });
    broker.clock.time = NOON; // the day's quota frees at midnight: 12 hours on
  });
  afterAll(() => broker?.close());

  it('gets 429 with Retry-After once the day is used up, and does not resend before it', async () => {
    const token = await broker.mint();
    const send = () =>
      runOtelExport({
        url: `${token.ingest.baseUrl}/v1/traces`,
        token: token.writeToken,
        serviceName: 'over-quota',
        spans: 1,
        diagnostics: 'info',
      });

    const first = await send();
    const second = await send();

    expect(first.diagnostics.filter((line) => !line.startsWith('info'))).toEqual([]);
    // The exporter read the Retry-After (12 h) and gave up rather than retry within its timeout.
    expect(second.diagnostics).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Export retry time 43200000ms exceeds remaining timeout/),
      ]),
    );
    expect(second.diagnostics.some((line) => line.startsWith('error'))).toBe(true);
    expect(broker.logfire.batches).toHaveLength(1);
    expect(broker.received).toHaveLength(2);
  });
});
