/**
 * The Lambdas' environment: the stack side of functions/config.ts. Names, ARNs and settings only; the
 * Logfire credential stays in Secrets Manager and the functions get the secret's ARN. No Pulumi import.
 */
import { ConfigError, formatDuration, QUOTA_VARIABLES, readConfig } from '../functions/config';
import {
  ANOMALY_RULE_DEFAULTS,
  ANOMALY_RULES,
  formatAnomalyRule,
} from '../functions/core/anomalies/settings';
import type { SettingKey, StackSettings } from './settings';
import { SettingsError } from './validation';

/**
 * The environment every Lambda gets: names, ARNs and settings, never a credential. `refs` are the table
 * names and the secret's ARN (Outputs in the stack, strings in tests).
 * @example lambdaEnvironment(settings, { tableName: tokens.name, auditTableName: audit.name, upstreamSecretId: secret.arn })
 */
export function lambdaEnvironment<Ref>(
  settings: StackSettings,
  refs: { tableName: Ref; auditTableName: Ref; upstreamSecretId: Ref },
): Record<string, string | Ref> {
  const { upstream } = settings;
  return {
    BROKER_TABLE_NAME: refs.tableName,
    BROKER_AUDIT_TABLE_NAME: refs.auditTableName,
    BROKER_UPSTREAM: upstream.kind,
    BROKER_UPSTREAM_SECRET_ID: refs.upstreamSecretId,
    ...(upstream.kind === 'api-key'
      ? { LOGFIRE_PROJECT_ID: upstream.projectId }
      : { LOGFIRE_ORG: upstream.organization, LOGFIRE_PROJECT: upstream.project }),
    ...(settings.logfireBaseUrl ? { LOGFIRE_BASE_URL: settings.logfireBaseUrl } : {}),
    BROKER_TOKEN_TTL: formatDuration(settings.tokenTtlMs),
    BROKER_ROTATE_AFTER: formatDuration(settings.rotateAfterMs),
    BROKER_HEARTBEAT_INTERVAL: formatDuration(settings.heartbeatIntervalMs),
    BROKER_IDEMPOTENCY_WINDOW: formatDuration(settings.idempotencyWindowMs),
    BROKER_ROTATION_GRACE: formatDuration(settings.rotationGraceMs),
    BROKER_REFRESH_GRACE: formatDuration(settings.refreshGraceMs),
    BROKER_STALE_AFTER: formatDuration(settings.staleAfterMs),
    BROKER_AUDIT_RETENTION: formatDuration(settings.auditRetentionMs),
    BROKER_UPSTREAM_TIMEOUT: formatDuration(settings.upstreamTimeoutMs),
    BROKER_UPSTREAM_RETRIES: String(settings.upstreamRetries),
    BROKER_LOG_LEVEL: settings.logLevel,
    ...Object.fromEntries(
      Object.entries(QUOTA_VARIABLES).map(([name, { env }]) => [
        env,
        String(settings.quotas[name as keyof typeof settings.quotas]),
      ]),
    ),
    ...(settings.mintAllowCidrs.length ? { BROKER_MINT_ALLOW_CIDRS: settings.mintAllowCidrs.join(',') } : {}),
    BROKER_BIND_TOKENS_TO_NETWORK: settings.bindTokensToNetwork ? '1' : '0',
    ...(settings.trustedProxies.length ? { BROKER_TRUSTED_PROXIES: settings.trustedProxies.join(',') } : {}),
    BROKER_ANOMALY_WINDOW: formatDuration(settings.anomalies.windowMs),
    ...Object.fromEntries(
      ANOMALY_RULES.map((rule) => [
        ANOMALY_RULE_DEFAULTS[rule].env,
        formatAnomalyRule(settings.anomalies.rules[rule]),
      ]),
    ),
    BROKER_INGEST_MODE: settings.ingestMode,
    BROKER_RELAY_REQUESTS_PER_MINUTE: String(settings.relay.requestsPerMinute),
    BROKER_RELAY_BYTES_PER_DAY: String(settings.relay.bytesPerDay),
    BROKER_RELAY_STAMP_IDENTITY: settings.relay.stampIdentity ? '1' : '0',
    ...(settings.relay.publicUrl ? { BROKER_PUBLIC_URL: settings.relay.publicUrl } : {}),
  };
}

/** Setting behind each variable the Lambdas read (functions/config.ts). */
const SETTING_OF_ENV: Record<string, SettingKey> = {
  BROKER_TOKEN_TTL: 'tokenTtl',
  BROKER_ROTATE_AFTER: 'rotateAfter',
  BROKER_HEARTBEAT_INTERVAL: 'heartbeatInterval',
  BROKER_IDEMPOTENCY_WINDOW: 'idempotencyWindow',
  BROKER_ROTATION_GRACE: 'rotationGrace',
  BROKER_REFRESH_GRACE: 'refreshGrace',
  BROKER_STALE_AFTER: 'staleAfter',
  BROKER_AUDIT_RETENTION: 'auditRetention',
  BROKER_UPSTREAM: 'upstreamKind',
  BROKER_UPSTREAM_TIMEOUT: 'upstreamTimeout',
  BROKER_UPSTREAM_RETRIES: 'upstreamRetries',
  BROKER_LOG_LEVEL: 'logLevel',
  ...Object.fromEntries(Object.values(QUOTA_VARIABLES).map(({ env }) => [env, 'quotas' as const])),
  BROKER_MINT_ALLOW_CIDRS: 'mintAllowlist',
  BROKER_BIND_TOKENS_TO_NETWORK: 'bindTokensToNetwork',
  BROKER_TRUSTED_PROXIES: 'trustedProxies',
  BROKER_ANOMALY_WINDOW: 'anomalies',
  ...Object.fromEntries(Object.values(ANOMALY_RULE_DEFAULTS).map(({ env }) => [env, 'anomalies' as const])),
  BROKER_INGEST_MODE: 'ingestMode',
  BROKER_RELAY_REQUESTS_PER_MINUTE: 'relayRequestsPerMinute',
  BROKER_RELAY_BYTES_PER_DAY: 'relayBytesPerDay',
  BROKER_RELAY_STAMP_IDENTITY: 'relayStampIdentity',
  BROKER_PUBLIC_URL: 'publicUrl',
  LOGFIRE_PROJECT_ID: 'logfireProjectId',
  LOGFIRE_ORG: 'logfireOrg',
  LOGFIRE_PROJECT: 'logfireProject',
  LOGFIRE_BASE_URL: 'logfireBaseUrl',
};

/**
 * Runs the Lambdas' own config reader over the environment the stack will write, so its rules (minimum
 * durations, rotateAfter < tokenTtl, ...) fail `pulumi preview` rather than a cold start. Its messages name
 * the variable; this one names the stack setting.
 */
export function assertLambdasAccept(settings: StackSettings): void {
  const env = lambdaEnvironment(settings, {
    tableName: 'table',
    auditTableName: 'table-audit',
    upstreamSecretId: 'arn:aws:secretsmanager:::x',
  });
  try {
    readConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    let detail = error.message.slice(error.key.length + 2);
    for (const [env, key] of Object.entries(SETTING_OF_ENV)) detail = detail.split(env).join(key);
    throw new SettingsError(SETTING_OF_ENV[error.key] ?? error.key, detail);
  }
}
