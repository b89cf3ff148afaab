/**
 * Builds the core's deps from real adapters: the one place that knows which store and audit log go with
 * a config. The Lambdas, the local server, the tests and the bench all wire the broker through it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BrokerConfig } from '../config';
import { claimLeaseFor, type AdminDeps, type BrokerDeps } from '../core/deps';
import { systemClock, type Clock, type Log, type Upstream } from '../core/ports';
import type { RelayDeps, StampIdentity } from '../core/relay';
import { UpstreamPool } from '../core/relayPool';
import { loadCredential } from './secrets';
import { DynamoAuditLog } from './store/auditLog';
import { DynamoTokenStore } from './store/dynamoTokenStore';
import { createIngestForwarder } from './upstream/ingest';

export interface WiredBroker extends BrokerDeps {
  store: DynamoTokenStore;
  audit: DynamoAuditLog;
}

/** @example const deps = wireBroker({ config, doc: createDocumentClient(), upstream, log }); */
export function wireBroker(options: {
  config: BrokerConfig;
  doc: DynamoDBDocumentClient;
  upstream: Upstream;
  log: Log;
  clock?: Clock;
  sleep?: BrokerDeps['sleep'];
  /** The local server's URL: relay mode hands it out as `ingest.baseUrl` unless BROKER_PUBLIC_URL is set. */
  baseUrl?: string;
  /**
   * The identity stamper (functions/relay/stampIdentity.ts), given only where the relay runs (its Lambda and
   * the local server), so protobufjs stays out of every other bundle. Used when BROKER_RELAY_STAMP_IDENTITY=1.
   */
  stamp?: StampIdentity;
  /** The admin API's parts (the admin function and the local server): where the TOTP seed comes from. */
  admin?: AdminDeps;
}): WiredBroker {
  const { config, doc, upstream, log, sleep } = options;
  const clock = options.clock ?? systemClock;
  const audit = new DynamoAuditLog({
    client: doc,
    tableName: config.auditTableName,
    retentionMs: config.auditRetentionMs,
  });
  const store = new DynamoTokenStore({ client: doc, tableName: config.tableName, clock, audit });
  const relay =
    config.ingestMode === 'relay'
      ? wireRelay({
          config,
          store,
          audit,
          upstream,
          clock,
          log,
          baseUrl: options.baseUrl,
          stamp: options.stamp,
        })
      : undefined;
  return {
    store,
    audit,
    upstream,
    clock,
    log,
    settings: config,
    sleep,
    claimLeaseMs: claimLeaseFor(config.functionTimeoutMs, config.upstreamBudgetMs),
    relay,
    admin: options.admin,
  };
}

/** The ingest relay's parts (docs/relay.md): the upstream pool and the forwarder to Logfire's ingest. */
function wireRelay(options: {
  config: BrokerConfig;
  store: DynamoTokenStore;
  audit: DynamoAuditLog;
  upstream: Upstream;
  clock: Clock;
  log: Log;
  baseUrl?: string;
  stamp?: StampIdentity;
}): RelayDeps {
  const { config, store, audit, upstream, clock, log } = options;
  const source = config.upstream.kind === 'dev' ? undefined : config.upstream.credential;
  const pool = new UpstreamPool({
    store,
    upstream,
    audit,
    clock,
    log,
    // The pool key is derived from the credential, which only Secrets Manager (or the shell) holds; the dev
    // upstream has none, and its tokens are only good for the local dev ingest anyway.
    keyMaterial: source ? () => loadCredential(source) : async () => 'logfire-broker dev upstream',
    tokenTtlMs: config.tokenTtlMs,
  });
  const prepare = (upstream as { prepare?: () => Promise<void> }).prepare?.bind(upstream);
  const forwarder = createIngestForwarder({
    // The base follows from the credential's region when LOGFIRE_BASE_URL is unset: load it first.
    baseUrl: async () => {
      await prepare?.();
      return upstream.ingestBaseUrl;
    },
    timeoutMs: Math.min(config.upstreamTimeoutMs, config.upstreamBudgetMs),
    log,
  });
  return {
    settings: config.relay,
    pool,
    forwarder,
    stamp: config.relay.stampIdentity ? (options.stamp ?? noStamper) : undefined,
    baseUrl: config.relay.publicUrl ?? options.baseUrl,
  };
}

/**
 * Where stamping is on but the entry point gave no stamper (only the relay's entry points give one, and only
 * the relay stamps): a batch must never pass unstamped, so it fails loudly instead.
 */
const noStamper: StampIdentity = () => {
  throw new Error('BROKER_RELAY_STAMP_IDENTITY=1, but this entry point wires no stamper');
};
