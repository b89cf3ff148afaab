/**
 * `npm start`: the broker on 127.0.0.1 with an embedded DynamoDB persisted under BROKER_DATA_DIR, and the
 * real Logfire upstream when a credential is set, else the dev upstream. Same handlers and core as Lambda.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ConfigError, formatDuration, readConfig, readLocalConfig } from '../config';
import { createLog } from '../adapters/logger';
import { createDynamoClient, toDocumentClient } from '../adapters/store/dynamoClient';
import { ensureTables } from '../adapters/store/ensureTables';
import { wireBroker } from '../adapters/wiring';
import { createUpstream, DevUpstream } from '../adapters/upstream';
import type { BrokerDeps } from '../core/deps';
import { HANDLER_FACTORIES } from '../handlers';
import type { ProxyHandler } from '../http/reply';
import type { RouteName } from '../http/routes';
import { startEmbeddedDynamo } from './embeddedDynamo';
import { startSchedules } from './scheduler';
import { createLocalServer } from './server';
import { UpstreamUnavailable } from '../core/errors';

async function main(): Promise<void> {
  const config = readConfig();
  const local = readLocalConfig();
  const dataDir = resolve(local.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = createLog(config.logLevel, 'local');

  const dynamo = config.dynamodbEndpoint
    ? undefined
    : await startEmbeddedDynamo({ path: join(dataDir, 'dynamodb') });
  const client = createDynamoClient({ endpoint: config.dynamodbEndpoint ?? dynamo!.endpoint });
  await ensureTables(client, config.tableName, { auditTableName: config.auditTableName });
  const doc = toDocumentClient(client);

  // The dev upstream's ingest URL needs the port, known only once listening: requests before then wait.
  const ready: { deps?: BrokerDeps } = {};
  const depsSource = () => {
    if (!ready.deps) throw new UpstreamUnavailable('The broker is starting.', 1);
    return ready.deps;
  };
  const handlers = Object.fromEntries(
    Object.entries(HANDLER_FACTORIES).map(([name, factory]) => [name, factory(depsSource)]),
  ) as Record<RouteName, ProxyHandler>;
  let devIngest: DevUpstream | undefined;
  const server = createLocalServer({
    handlers,
    log,
    mode: config.upstream.kind,
    devIngest: { receiveOtlp: (batch) => devIngest!.receiveOtlp(batch) },
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(local.port, local.host, () => done());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${local.host.includes(':') ? `[${local.host}]` : local.host}:${port}`;

  const upstream = createUpstream(config, { log, dataDir, ingestBaseUrl: `${url}/dev-logfire` });
  if (upstream instanceof DevUpstream) devIngest = upstream;
  ready.deps = wireBroker({ config, doc, upstream, log });
  const schedules = startSchedules(ready.deps, local.scheduleIntervalMs, log);

  const mode =
    config.upstream.kind === 'dev'
      ? `dev upstream (local write tokens; OTLP accepted at ${url}/dev-logfire)`
      : `Logfire upstream (${config.upstream.kind}${config.upstream.baseUrl ? `, ${config.upstream.baseUrl}` : ''})`;
  // One write, so whoever watches the output sees the whole banner at once.
  console.log(
    [
      `logfire-broker listening on ${url}`,
      `mode: ${mode}`,
      `jobs: rotation and sweep every ${formatDuration(local.scheduleIntervalMs)}`,
      `data: ${dataDir}${config.dynamodbEndpoint ? ` (DynamoDB at ${config.dynamodbEndpoint})` : ''}`,
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, stopping`);
    server.closeAllConnections();
    server.close(() => {
      void schedules
        .stop()
        .then(() => dynamo?.close())
        .finally(() => process.exit(0));
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  // A bad setting is the user's to fix: say which, without a stack trace.
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
