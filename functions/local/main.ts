/**
 * `npm start`: the broker on 127.0.0.1 with an embedded DynamoDB persisted under BROKER_DATA_DIR, and the
 * real Logfire upstream when a credential is set, else the dev upstream, whose ingest is served at the
 * broker's root (or on BROKER_DEV_INGEST_PORT; on a port of its own in relay mode, where the root serves
 * the ingest relay). Same handlers and core as Lambda.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConfigError, formatDuration, readConfig, readLocalConfig, type LocalConfig } from '../config';
import { checkKnownSettings } from '../knownSettings';
import { createLog } from '../adapters/logger';
import { createDynamoClient, toDocumentClient } from '../adapters/store/dynamoClient';
import { ensureTables } from '../adapters/store/ensureTables';
import { wireBroker } from '../adapters/wiring';
import { createUpstream, DevUpstream } from '../adapters/upstream';
import type { BrokerDeps } from '../core/deps';
import { UpstreamUnavailable } from '../core/errors';
import { HANDLER_FACTORIES } from '../handlers';
import type { ProxyHandler } from '../http/reply';
import type { RouteName } from '../http/routes';
import {
  ADMIN_PROFILE,
  localAdminCredentials,
  localTotpSeed,
  type LocalAdminCredentials,
} from './adminSecrets';
import { prepareDataDir } from './dataDir';
import { SigV4Verifier } from './sigv4';
import { startEmbeddedDynamo } from './embeddedDynamo';
import { startSchedules } from './scheduler';
import { stampIdentity } from '../relay/stampIdentity';
import { createLocalServer, type DevIngest } from './server';

/** Past this, a stop that hangs (a stuck job) gives way to an exit. */
const STOP_TIMEOUT_MS = 10_000;
/** Read first thing: by the time the banner is out, npm's shell may already be gone (see stopWithNpm). */
const STARTED_BY = process.ppid;

async function main(): Promise<void> {
  checkKnownSettings(process.env);
  const config = readConfig();
  const local = readLocalConfig();
  // The AWS SDK warns at every start on Node 20 that its releases from 2027 need Node 22. The installed SDK
  // works, and the README recommends Node 22, so here it is noise; AWS_SDK_JS_..._DISABLED=false shows it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dataDir = prepareDataDir(local.dataDir, config.dynamodbEndpoint ? [] : ['dynamodb']);
  const log = createLog(config.logLevel, 'local');

  const dynamo = config.dynamodbEndpoint
    ? undefined
    : await startEmbeddedDynamo({ path: join(dataDir, 'dynamodb') });
  const client = createDynamoClient({ endpoint: config.dynamodbEndpoint ?? dynamo!.endpoint });
  await ensureTables(client, config.tableName, { auditTableName: config.auditTableName });
  const doc = toDocumentClient(client);

  // The dev upstream's ingest URL needs the port, known only once listening: requests before then wait.
  const ready: { deps?: BrokerDeps; dev?: DevUpstream } = {};
  const whenReady = <T>(value: T | undefined): T => {
    if (value === undefined) throw new UpstreamUnavailable('The broker is starting.', 1);
    return value;
  };
  const handlers = Object.fromEntries(
    Object.entries(HANDLER_FACTORIES).map(([name, factory]) => [name, factory(() => whenReady(ready.deps))]),
  ) as Record<RouteName, ProxyHandler>;
  const devIngest: DevIngest | undefined =
    config.upstream.kind === 'dev'
      ? {
          receiveOtlp: (post) => whenReady(ready.dev).receiveOtlp(post),
          projectInfo: (authorization) => whenReady(ready.dev).projectInfo(authorization),
        }
      : undefined;
  // Its own port only when asked for one that is not the broker's; always in relay mode, where the broker's
  // root serves the relay's /v1/{traces,logs,metrics} (a free port unless BROKER_DEV_INGEST_PORT says one).
  const relay = config.ingestMode === 'relay';
  const samePort = local.devIngestPort === local.port && local.port !== 0;
  if (devIngest && relay && samePort) {
    throw new ConfigError(
      'BROKER_DEV_INGEST_PORT',
      'must differ from BROKER_PORT in relay mode: the relay serves the broker port root',
    );
  }
  const ingestPort = !devIngest
    ? undefined
    : relay
      ? (local.devIngestPort ?? 0)
      : local.devIngestPort !== undefined && !samePort
        ? local.devIngestPort
        : undefined;

  const mode = config.upstream.kind;
  const admin = localAdminCredentials(local, dataDir);
  const servers = [
    createLocalServer({
      handlers,
      log,
      mode,
      devIngest: ingestPort === undefined ? devIngest : undefined,
      adminSignatures: new SigV4Verifier(admin),
    }),
  ];
  const url = await listen(servers[0]!, local.port, local.host);
  let ingestUrl = url;
  if (ingestPort !== undefined) {
    servers.push(createLocalServer({ log, mode, devIngest }));
    ingestUrl = await listen(servers[1]!, ingestPort, local.host);
  }

  const upstream = createUpstream(config, { log, dataDir, ingestBaseUrl: ingestUrl });
  if (upstream instanceof DevUpstream) ready.dev = upstream;
  ready.deps = wireBroker({
    config,
    doc,
    upstream,
    log,
    baseUrl: url,
    stamp: stampIdentity,
    admin: { otpSeed: async () => localTotpSeed(local, dataDir) },
  });
  const schedules = startSchedules(ready.deps, local.scheduleIntervalMs, log);

  // Stopping is wired before the banner: whoever waits for it may signal at once.
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${why}, stopping`);
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
    void Promise.all(servers.map(close))
      .then(() => schedules.stop())
      .then(() => dynamo?.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT received'));
  process.on('SIGTERM', () => stop('SIGTERM received'));
  stopWithNpm(() => stop('npm start was stopped'));

  const relayLine = relay
    ? `; ingest relay at ${config.relay.publicUrl ?? url}/v1/{traces,logs,metrics}`
    : '';
  const upstreamLine =
    config.upstream.kind === 'dev'
      ? `dev upstream (local write tokens; OTLP and /v1/info at ${ingestUrl})`
      : `Logfire upstream (${config.upstream.kind}${config.upstream.baseUrl ? `, ${config.upstream.baseUrl}` : ''})`;
  // One write, so whoever watches the output sees the whole banner at once.
  console.log(
    [
      `logfire-broker listening on ${url}`,
      `mode: ${upstreamLine}${relayLine}`,
      `jobs: rotation and sweep every ${formatDuration(local.scheduleIntervalMs)}`,
      `data: ${dataDir}${config.dynamodbEndpoint ? ` (DynamoDB at ${config.dynamodbEndpoint})` : ''}`,
      adminLine(admin, local, dataDir),
    ].join('\n'),
  );
}

/**
 * How to reach the admin API: the access key id and where the secret key is (never the secret itself: the
 * output may end up in a log), and whether the second factor is set up.
 */
function adminLine(admin: LocalAdminCredentials, local: LocalConfig, dataDir: string): string {
  const where =
    admin.source === 'env'
      ? 'from BROKER_ADMIN_ACCESS_KEY_ID / BROKER_ADMIN_SECRET_ACCESS_KEY'
      : `${admin.source === 'created' ? 'created in' : 'in'} ${admin.file} ` +
        `(AWS_SHARED_CREDENTIALS_FILE=${admin.file} AWS_PROFILE=${ADMIN_PROFILE})`;
  const otp = localTotpSeed(local, dataDir) ? 'set up' : 'not set up (logfire-broker otp enroll)';
  return `admin: SigV4 with access key ${admin.accessKeyId}, ${where}; second factor ${otp}`;
}

/** Listens on `host:port` (0: a free port) and resolves with the server's URL. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  const { port: bound } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

/**
 * npm runs a script through `sh -c` and forwards a SIGTERM it receives to that shell only; dash, Debian's
 * and Ubuntu's sh, dies of it without passing it on, which left the broker running. Under npm, the shell
 * going away (the broker is handed to another parent) therefore means npm is stopping: stop too.
 */
function stopWithNpm(stop: () => void): void {
  if (!process.env.npm_lifecycle_event) return;
  setInterval(() => {
    if (process.ppid !== STARTED_BY) stop();
  }, 250).unref();
}

main().catch((error: unknown) => {
  // A bad setting is the user's to fix: say which, without a stack trace.
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
