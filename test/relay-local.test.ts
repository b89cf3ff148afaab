/**
 * `npm start` in relay mode (BROKER_INGEST_MODE=relay) as a process: the relay at the broker's root, the dev
 * upstream's ingest moved to a port of its own, and concurrent uploads from several processes, on a busy
 * machine, that never pass a bytes quota by more than one request.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { IssuedToken } from '../functions/core/contract';
import { keepBusy } from './support/busy';
import { cachedToken, runHelloCli, traceBatches, useTempHomes } from './support/clientCli';
import {
  LocalBrokerExited,
  startLocalBroker,
  stopAllLocalBrokers,
  type LocalBroker,
} from './support/localBroker';

jest.setTimeout(90_000);

afterAll(() => stopAllLocalBrokers());

const newHome = useTempHomes();

const mint = async (broker: LocalBroker): Promise<IssuedToken> => {
  const response = await fetch(`${broker.url}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ installId: randomUUID(), app: { name: 'relay-cli', version: '1.0.0' } }),
  });
  if (response.status !== 201) throw new Error(`mint answered ${response.status}`);
  return (await response.json()) as IssuedToken;
};

/** A valid OTLP/JSON export of exactly `size` bytes (padded with spaces, which JSON allows). */
const otlpJson = (size: number) => {
  const text = JSON.stringify({ resourceSpans: [] });
  return text.slice(0, -1) + ' '.repeat(size - text.length) + '}';
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('npm start, BROKER_INGEST_MODE=relay', () => {
  let broker: LocalBroker;
  beforeAll(async () => {
    broker = await startLocalBroker({
      env: { BROKER_INGEST_MODE: 'relay', BROKER_RELAY_BYTES_PER_DAY: '1000', BROKER_LOG_LEVEL: 'INFO' },
    });
  });

  it('relays at its own root, with the dev ingest moved to a port of its own', async () => {
    const token = await mint(broker);

    const reply = await fetch(`${token.ingest.baseUrl}/v1/traces`, {
      method: 'POST',
      headers: { authorization: token.writeToken, 'content-type': 'application/json' },
      body: otlpJson(40),
    });

    expect(token.ingest.baseUrl).toBe(broker.url);
    expect(token.writeToken).toMatch(/^lfb_rt_/);
    expect(reply.status).toBe(200);
    await broker.waitForOutput('dev upstream received traces');
    const devIngest = /OTLP and \/v1\/info at (http:\/\/127\.0\.0\.1:\d+)/.exec(broker.output())![1]!;
    expect(devIngest).not.toBe(broker.url);
    expect(broker.output()).toContain(`ingest relay at ${broker.url}/v1/{traces,logs,metrics}`);
    // The dev ingest takes only pool tokens, never the client's relay token.
    const direct = await fetch(`${devIngest}/v1/traces`, {
      method: 'POST',
      headers: { authorization: token.writeToken, 'content-type': 'application/json' },
      body: otlpJson(40),
    });
    expect(direct.status).toBe(401);
  });

  it("carries the client library's spans: the example CLI holds a relay token and exports to the broker", async () => {
    const home = newHome();
    const before = traceBatches(broker.output()).length;

    const run = await runHelloCli({ home, brokerUrl: broker.url, args: ['relay'] });

    expect(run).toMatchObject({ code: 0, stdout: 'Hello, relay!\n' });
    expect(cachedToken(home)?.writeToken).toMatch(/^lfb_rt_/);
    for (let i = 0; i < 50 && traceBatches(broker.output()).length <= before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(traceBatches(broker.output()).length).toBeGreaterThan(before);
  });

  it('lets 50 concurrent uploads from 5 processes pass a bytes quota by at most one request, on a busy machine', async () => {
    const token = await mint(broker);
    // Each process sends its 10 uploads at once and prints their statuses.
    const script = `
      const send = () => fetch(process.env.URL, {
        method: 'POST',
        headers: { authorization: process.env.TOKEN, 'content-type': 'application/json' },
        body: process.env.BODY,
      }).then((reply) => reply.status);
      Promise.all(Array.from({ length: 10 }, send)).then((statuses) => console.log(JSON.stringify(statuses)));
    `;
    const env = {
      ...process.env,
      URL: `${broker.url}/v1/traces`,
      TOKEN: token.writeToken,
      BODY: otlpJson(150),
    };
    const busy = await keepBusy(60_000);
    let statuses: number[];
    try {
      const runs = await Promise.all(
        Array.from({ length: 5 }, () => promisify(execFile)(process.execPath, ['-e', script], { env })),
      );
      statuses = runs.flatMap((run) => JSON.parse(run.stdout) as number[]);
    } finally {
      await busy.stop();
    }

    // 6 × 150 bytes leave the day under 1000, the 7th crosses it: 7 relayed, every other one refused.
    expect(statuses.filter((status) => status === 200)).toHaveLength(7);
    expect(statuses.filter((status) => status === 429)).toHaveLength(43);
  });

  it('refuses to start with the dev ingest on the broker port itself', async () => {
    const port = String(await freePort());

    const start = startLocalBroker({
      env: { BROKER_INGEST_MODE: 'relay', BROKER_PORT: port, BROKER_DEV_INGEST_PORT: port },
    });

    await expect(start).rejects.toThrow(LocalBrokerExited);
    await expect(start).rejects.toThrow(/BROKER_DEV_INGEST_PORT: must differ from BROKER_PORT in relay mode/);
  });
});
