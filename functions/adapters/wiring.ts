/**
 * Builds the core's deps from real adapters: the one place that knows which store and audit log go with
 * a config. The Lambdas, the local server, the tests and the bench all wire the broker through it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BrokerConfig } from '../config';
import { claimLeaseFor, type BrokerDeps } from '../core/deps';
import { systemClock, type Clock, type Log, type Upstream } from '../core/ports';
import { DynamoAuditLog } from './store/auditLog';
import { DynamoTokenStore } from './store/dynamoTokenStore';

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
}): WiredBroker {
  const { config, doc, upstream, log, sleep } = options;
  const clock = options.clock ?? systemClock;
  const audit = new DynamoAuditLog({
    client: doc,
    tableName: config.auditTableName,
    retentionMs: config.auditRetentionMs,
  });
  const store = new DynamoTokenStore({ client: doc, tableName: config.tableName, clock, audit });
  return {
    store,
    audit,
    upstream,
    clock,
    log,
    settings: config,
    sleep,
    claimLeaseMs: claimLeaseFor(config.functionTimeoutMs, config.upstreamBudgetMs),
  };
}
