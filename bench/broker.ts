/**
 * The broker as `npm start` runs it, in this process: the local HTTP server, the real handlers, the
 * DynamoDB store on an embedded dynalite (in memory) and the in-process dev upstream. Its DynamoDB client
 * counts requests, so the bench can report requests per operation.
 */
import type { AddressInfo } from 'node:net';
import { QUOTA_VARIABLES, readConfig } from '../functions/config';
import { createLog } from '../functions/adapters/logger';
import { createDynamoClient, toDocumentClient } from '../functions/adapters/store/dynamoClient';
import type { DynamoTokenStore } from '../functions/adapters/store/dynamoTokenStore';
import { ensureTables } from '../functions/adapters/store/ensureTables';
import { DevUpstream } from '../functions/adapters/upstream';
import type { BrokerDeps } from '../functions/core/deps';
import { wireBroker } from '../functions/adapters/wiring';
import { HANDLER_FACTORIES } from '../functions/handlers';
import type { ProxyHandler } from '../functions/http/reply';
import type { RouteName } from '../functions/http/routes';
import { startEmbeddedDynamo } from '../functions/local/embeddedDynamo';
import { createLocalServer } from '../functions/local/server';
import { countRequests, type RequestCounter } from '../test/support/requestCounter';
import { dynamoProcess } from './dynamoProcess';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface BenchBroker {
  url: string;
  requests: RequestCounter;
  /** The store itself, to time a DynamoDB round trip without HTTP or handler in front (the floor). */
  store: DynamoTokenStore;
  close(): Promise<void>;
}

/**
 * Quotas `on` (the default): every quota enforced, with limits far above what the bench sends, so each
 * request pays for its counters and none is refused; `off`: every limit 0 (no counter written).
 */
export async function startBenchBroker(
  options: {
    quotas?: 'on' | 'off';
    dynamo?: 'in-process' | 'own-process';
    /**
     * Emulated network round trips, as in AWS: each DynamoDB request waits `dynamo` ms before it is sent
     * (requests in parallel wait side by side, as they travel side by side), each Logfire token create `logfire` ms.
     */
    roundTripMs?: { dynamo: number; logfire: number };
  } = {},
): Promise<BenchBroker> {
  const limit = options.quotas === 'off' ? '0' : '1000000000';
  // An explicit environment, never process.env: a LOGFIRE_API_KEY in the shell must not send the bench to Logfire.
  const config = readConfig({
    BROKER_UPSTREAM: 'dev',
    BROKER_TABLE_NAME: 'bench-tokens',
    BROKER_LOG_LEVEL: 'WARN',
    ...Object.fromEntries(Object.values(QUOTA_VARIABLES).map(({ env }) => [env, limit])),
  });
  // WARN: the real logger, but without one INFO line per mint on the terminal (thousands of them).
  const log = createLog(config.logLevel, 'bench');
  // In this process by default (section 1's figures); in its own, as DynamoDB is a service of its own in AWS.
  const dynamo =
    options.dynamo === 'own-process'
      ? await dynamoProcess().then(({ endpoint, child }) => ({
          endpoint,
          close: async () => void child.kill(),
        }))
      : await startEmbeddedDynamo();
  const client = createDynamoClient({ endpoint: dynamo.endpoint });
  await ensureTables(client, config.tableName, { auditTableName: config.auditTableName });
  const requests = countRequests(client);
  const roundTrip = options.roundTripMs;
  if (roundTrip) {
    client.middlewareStack.add(
      (next) => async (args) => {
        await sleep(roundTrip.dynamo);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'benchRoundTrip' },
    );
  }

  // The dev upstream's ingest URL needs the port, known once listening: the handlers read deps per request.
  const wiring: { deps?: BrokerDeps } = {};
  const handlers = Object.fromEntries(
    Object.entries(HANDLER_FACTORIES).map(([name, factory]) => [name, factory(() => wiring.deps!)]),
  ) as Record<RouteName, ProxyHandler>;
  const server = createLocalServer({ handlers, log, mode: 'dev' });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // In memory (no dataDir): no file writes on the mint path, so figures are the broker's own overhead.
  const dev = new DevUpstream({ log, ingestBaseUrl: `${url}/dev-logfire` });
  const upstream: DevUpstream = roundTrip
    ? Object.assign(Object.create(dev) as DevUpstream, {
        createWriteToken: async (request: Parameters<DevUpstream['createWriteToken']>[0]) => {
          await sleep(roundTrip.logfire);
          return dev.createWriteToken(request);
        },
      })
    : dev;
  const deps = wireBroker({ config, doc: toDocumentClient(client), upstream, log });
  wiring.deps = deps;
  requests.reset(); // table creation is not an operation

  return {
    url,
    requests,
    store: deps.store,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.destroy();
      await dynamo.close();
    },
  };
}
