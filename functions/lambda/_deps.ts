/**
 * Wires the real adapters for a Lambda from its environment. Built once per execution environment, at
 * init (module scope), where Lambda gives the most CPU; the Logfire credential is fetched on first use.
 */
import { readConfig } from '../config';
import { createLog } from '../adapters/logger';
import { loadAdminTotpSeed } from '../adapters/secrets';
import { createDocumentClient } from '../adapters/store/dynamoClient';
import { createUpstream } from '../adapters/upstream';
import { wireBroker } from '../adapters/wiring';
import type { BrokerDeps } from '../core/deps';
import type { StampIdentity } from '../core/relay';

export function lambdaDeps(
  env: Record<string, string | undefined> = process.env,
  options: { stamp?: StampIdentity } = {},
): BrokerDeps {
  const config = readConfig(env);
  const log = createLog(config.logLevel);
  if (config.upstream.kind === 'dev') {
    throw new Error(
      'BROKER_UPSTREAM: the dev upstream runs only in the local server; set api-key or user-token',
    );
  }
  const doc = createDocumentClient({ endpoint: config.dynamodbEndpoint });
  const { adminTotpSecretId } = config;
  return wireBroker({
    config,
    doc,
    upstream: createUpstream(config, { log }),
    log,
    stamp: options.stamp,
    // Only the admin function's role may read this secret; no other function ever asks for it.
    admin: adminTotpSecretId ? { otpSeed: () => loadAdminTotpSeed(adminTotpSecretId) } : undefined,
  });
}
