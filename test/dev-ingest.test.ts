/**
 * The dev upstream's ingest as real clients meet it, through the real `npm start` process: the mint reply's
 * `ingest.baseUrl` is a base URL without a path, at which OpenTelemetry's protobuf exporter (what
 * `@pydantic/logfire-node` uses) and a client that joins `/v1/...` at the root of the URL (the Python SDK's
 * `urljoin`, with gzip protobuf and `GET /v1/info`) both work, without a warning.
 */
import { randomUUID } from 'node:crypto';
import type { IssuedToken } from '../functions/core/contract';
import { runOtelExport } from './support/otelExport';
import {
  logLines,
  mintAt,
  startLocalBroker,
  stopAllLocalBrokers,
  type LocalBroker,
} from './support/localBroker';

jest.setTimeout(30_000);

const mint = (broker: LocalBroker): Promise<IssuedToken> =>
  mintAt(broker.url, randomUUID(), { name: 'ingest-cli', version: '2.0.0' });

const summaryOf = async (broker: LocalBroker, serviceName: string) => {
  await broker.waitForOutput(serviceName);
  return logLines(broker.output()).filter((line) => line.serviceName === serviceName);
};

afterAll(() => stopAllLocalBrokers());

describe('dev ingest at the root of the broker (the default)', () => {
  let broker: LocalBroker;
  beforeAll(async () => {
    broker = await startLocalBroker();
  });

  it('hands out the broker URL itself as ingest.baseUrl', async () => {
    const token = await mint(broker);

    expect(token.ingest.baseUrl).toBe(broker.url);
    expect(new URL(token.ingest.baseUrl).pathname).toBe('/');
  });

  it('takes a real OpenTelemetry protobuf export with no warning, and prints its span count', async () => {
    // Prepare
    const token = await mint(broker);
    // Act
    const { diagnostics } = await runOtelExport({
      url: `${token.ingest.baseUrl}/v1/traces`,
      token: token.writeToken,
      serviceName: 'otel-proto-check',
      spans: 1,
    });
    // Assess
    expect(diagnostics).toEqual([]);
    expect(await summaryOf(broker, 'otel-proto-check')).toEqual([
      expect.objectContaining({ signal: 'traces', contentType: 'application/x-protobuf', spans: 1 }),
    ]);
  });

  it('answers a protobuf export with an empty application/x-protobuf body', async () => {
    const token = await mint(broker);

    const reply = await fetch(`${token.ingest.baseUrl}/v1/logs`, {
      method: 'POST',
      headers: { authorization: token.writeToken, 'content-type': 'application/x-protobuf' },
      body: new Uint8Array(),
    });

    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await reply.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves a client that joins paths at the root of the base URL, as the Python SDK does', async () => {
    // Prepare: Python's urljoin(base, '/v1/traces') keeps only the scheme and host of `base`
    const token = await mint(broker);
    const urljoin = (base: string, path: string) => new URL(path, base).href;
    // Act: what `logfire.configure()` does first, then a gzip protobuf export
    const info = await fetch(urljoin(token.ingest.baseUrl, '/v1/info'), {
      headers: { Authorization: token.writeToken },
    });
    const refused = await fetch(urljoin(token.ingest.baseUrl, '/v1/info'), {
      headers: { Authorization: 'dev_wt_not-a-token' },
    });
    const { diagnostics } = await runOtelExport({
      url: urljoin(token.ingest.baseUrl, '/v1/traces'),
      token: token.writeToken,
      serviceName: 'python-style-check',
      spans: 3,
      compression: 'gzip',
    });
    // Assess
    expect(info.status).toBe(200);
    expect(await info.json()).toEqual({ project_name: 'dev-upstream', project_url: broker.url });
    expect(refused.status).toBe(401);
    expect(diagnostics).toEqual([]);
    expect(await summaryOf(broker, 'python-style-check')).toEqual([
      expect.objectContaining({ encoding: 'gzip', contentType: 'application/x-protobuf', spans: 3 }),
    ]);
  });

  it('still accepts exports at the former /dev-logfire base, for clients configured with it', async () => {
    const token = await mint(broker);

    const reply = await fetch(`${broker.url}/dev-logfire/v1/traces`, {
      method: 'POST',
      headers: { authorization: token.writeToken, 'content-type': 'application/json' },
      body: '{}',
    });

    expect(reply.status).toBe(200);
  });
});

describe('dev ingest on its own port (BROKER_DEV_INGEST_PORT)', () => {
  let broker: LocalBroker;
  beforeAll(async () => {
    broker = await startLocalBroker({ env: { BROKER_DEV_INGEST_PORT: '0' } });
  });

  it('hands out that port as ingest.baseUrl, serves ingest there and not at the broker', async () => {
    // Prepare
    const token = await mint(broker);
    const ingestUrl = /OTLP and \/v1\/info at (http:\/\/127\.0\.0\.1:\d+)/.exec(broker.output())?.[1];
    const post = (base: string) =>
      fetch(`${base}/v1/traces`, {
        method: 'POST',
        headers: { authorization: token.writeToken, 'content-type': 'application/json' },
        body: '{}',
      });
    // Assess
    expect(ingestUrl).toBeDefined();
    expect(ingestUrl).not.toBe(broker.url);
    expect(token.ingest.baseUrl).toBe(ingestUrl);
    expect((await post(ingestUrl!)).status).toBe(200);
    const atBroker = await post(broker.url);
    expect(atBroker.status).toBe(404);
    expect(await atBroker.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await fetch(`${ingestUrl}/v1/tokens`, { method: 'POST' })).status).toBe(404);
  });
});
