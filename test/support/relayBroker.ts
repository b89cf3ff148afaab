/**
 * The broker in relay mode (BROKER_INGEST_MODE=relay) for tests: the broker of test/support/broker.ts (real
 * handlers, dynalite, the fake Logfire, a test clock) behind the real local HTTP server on 127.0.0.1, so a
 * test can mint a relay token and post OTLP to it the way an exporter does.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IssuedToken } from '../../functions/core/contract';
import { createLocalServer } from '../../functions/local/server';
import { startTestBroker, type TestBroker } from './broker';
import { capturingLog } from './log';
import { mintEvent } from './events';

export interface RelayBroker extends TestBroker {
  /** The local server's URL: what mints hand out as `ingest.baseUrl`. */
  url: string;
  /** Each body the relay handler received, as the client sent it: to compare with what reached Logfire. */
  received: Buffer[];
  /** Mints a token through the real mint handler; fails the test unless it answers 201. */
  mint(installId?: string): Promise<IssuedToken>;
  /** POSTs `body` to `/v1/<signal>` of the broker with `Authorization: <token>`. */
  post(
    signal: string,
    token: string | undefined,
    body: Buffer | string,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

let installs = 0;

/**
 * @example
 * const broker = await startRelayBroker({ env: { BROKER_RELAY_REQUESTS_PER_MINUTE: '5' } });
 * const { writeToken } = await broker.mint();
 * const reply = await broker.post('traces', writeToken, body);
 */
export async function startRelayBroker(
  options: Parameters<typeof startTestBroker>[0] = {},
): Promise<RelayBroker> {
  const broker = await startTestBroker({
    ...options,
    env: { BROKER_INGEST_MODE: 'relay', ...options.env },
  });
  const received: Buffer[] = [];
  const relay = broker.handlers.relay;
  const server: Server = createLocalServer({
    handlers: {
      ...broker.handlers,
      relay: (event) => {
        received.push(Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8'));
        return relay(event);
      },
    },
    log: capturingLog(broker.logs),
    mode: 'relay',
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // What main.ts passes to the wiring as the local server's URL.
  broker.deps.relay!.baseUrl = url;
  return {
    ...broker,
    url,
    received,
    mint: async (installId = `relay-install-${process.pid}-${++installs}`) => {
      const reply = await broker.handlers.mint(
        mintEvent({ installId, app: { name: 'relay-cli', version: '2.0.0' } }),
      );
      if (reply.statusCode !== 201) throw new Error(`mint answered ${reply.statusCode}: ${reply.body}`);
      return JSON.parse(reply.body) as IssuedToken;
    },
    post: (signal, token, body, headers = {}) =>
      fetch(`${url}/v1/${signal}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-protobuf',
          ...(token === undefined ? {} : { authorization: token }),
          ...headers,
        },
        body,
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await broker.close();
    },
  };
}
