/**
 * The broker's settings, read in this one place from the environment (the local shell, or the Lambda
 * environment that the Pulumi stack writes). Every setting is `BROKER_<NAME>`; Logfire's own variables
 * keep their names. Invalid values fail at start with a message that names the variable.
 */
import { upstreamBudgetMs } from './adapters/upstream/budget';
import { parseCidr } from './core/cidr';
import {
  ANOMALY_RULE_DEFAULTS,
  ANOMALY_RULES,
  ANOMALY_WINDOW_DEFAULT,
  MAX_ANOMALY_WINDOW_MS,
  MIN_ANOMALY_WINDOW_MS,
  parseAnomalyRule,
  type AnomalySettings,
} from './core/anomalies/settings';
import type { QuotaLimits, TokenSettings } from './core/deps';
import type { UpstreamKind } from './core/model';

export type Env = Record<string, string | undefined>;

/** Where the upstream credential comes from: the environment (local mode) or Secrets Manager (AWS). */
export type CredentialSource = { from: 'env'; value: string } | { from: 'secret'; secretId: string };

export type UpstreamConfig =
  | { kind: 'api-key'; credential: CredentialSource; projectId: string; baseUrl?: string }
  | {
      kind: 'user-token';
      credential: CredentialSource;
      organization: string;
      project: string;
      baseUrl?: string;
    }
  | { kind: 'dev' };

/** Every setting of the broker: the core's token settings and what the adapters need. */
export interface BrokerConfig extends TokenSettings {
  /** How long audit entries are kept (DynamoDB TTL). */
  auditRetentionMs: number;
  tableName: string;
  /** The audit trail's table; defaults to `<tableName>-audit`. */
  auditTableName: string;
  /** Custom DynamoDB endpoint (a local DynamoDB); unset in AWS. */
  dynamodbEndpoint?: string;
  upstream: UpstreamConfig;
  upstreamTimeoutMs: number;
  upstreamRetries: number;
  /** The Lambda's timeout (`BROKER_FUNCTION_TIMEOUT`, set by the stack); unset for the local server. */
  functionTimeoutMs?: number;
  /**
   * The longest one Logfire request may take, attempts and waits together: derived from the function's
   * timeout, 25 s without one.
   */
  upstreamBudgetMs: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * `direct`: clients send OTLP to Logfire with a Logfire write token of their own. `relay`: clients get a
   * broker-issued token and send OTLP to the broker, which forwards it with a pooled Logfire token
   * (docs/relay.md).
   */
  ingestMode: IngestMode;
  relay: RelaySettings;
  /** The Secrets Manager secret of the admin TOTP seed (AWS; the stack creates it without a value). */
  adminTotpSecretId?: string;
}

export type IngestMode = 'direct' | 'relay';

/** The ingest relay's settings (docs/relay.md); read in every mode, used in relay mode. */
export interface RelaySettings {
  /** Requests one token may relay per UTC minute. */
  requestsPerMinute: number;
  /** Bytes (as received) one token may relay per UTC day; the request that crosses it is still relayed. */
  bytesPerDay: number;
  /** Adds the token's install and app to every batch's resource (issue #9 point 4). */
  stampIdentity: boolean;
  /**
   * The broker's public base URL, handed out as `ingest.baseUrl` in relay mode. Unset: the local server's
   * URL, or in AWS `https://{domainName}/{stage}` of the request.
   */
  publicUrl?: string;
}

export interface LocalConfig {
  /** How often `npm start` runs the rotation and sweep jobs (EventBridge Scheduler does in AWS). */
  scheduleIntervalMs: number;
  port: number;
  host: string;
  dataDir: string;
  /** Dev upstream: serve ingest on this port of `host` (0: a free one); unset: at the broker's own root. */
  devIngestPort?: number;
  /** The local admin SigV4 key pair; unset: the pair generated once under the data folder. */
  adminAccessKeyId?: string;
  adminSecretAccessKey?: string;
  /** The local admin TOTP seed (base32); unset: the one `otp enroll` wrote under the data folder. */
  adminTotpSecret?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration written like `500ms`, `30s`, `10m`, `6h` or `14d`.
 * @example parseDuration('6h') // 21600000
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Formats milliseconds in the largest unit that divides them: 86400000 → `1d`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's']) {
    if (ms % UNIT_MS[unit]! === 0 && ms >= UNIT_MS[unit]!) return `${ms / UNIT_MS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

function duration(env: Env, key: string, fallback: string, min = 1000): number {
  const text = env[key]?.trim() || fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw new ConfigError(key, `expected a duration like 30s, 6h or 14d, got "${text}"`);
  if (ms < min) throw new ConfigError(key, `must be at least ${formatDuration(min)}, got "${text}"`);
  return ms;
}

function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const text = env[key]?.trim();
  if (!text) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ConfigError(key, `expected a whole number from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/**
 * Parses a size written like `4096`, `500KB`, `100MiB` or `1GB` (bytes; KB/MB/GB are powers of 1000,
 * KiB/MiB/GiB of 1024).
 * @example parseSize('100MiB') // 104857600
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d{1,15})\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/.exec(text.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * SIZE_UNITS[match[2] ?? 'B']!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function size(env: Env, key: string, fallback: string, min: number): number {
  const text = env[key]?.trim() || fallback;
  const bytes = parseSize(text);
  if (bytes === undefined) throw new ConfigError(key, `expected a size like 500KB or 100MiB, got "${text}"`);
  if (bytes < min) throw new ConfigError(key, `must be at least ${min} bytes, got "${text}"`);
  return bytes;
}

function flag(env: Env, key: string): boolean {
  const text = env[key]?.trim() || '0';
  if (text !== '0' && text !== '1') throw new ConfigError(key, `expected 0 or 1, got "${text}"`);
  return text === '1';
}

function readIngestMode(env: Env): IngestMode {
  const mode = env.BROKER_INGEST_MODE?.trim() || 'direct';
  if (mode !== 'direct' && mode !== 'relay') {
    throw new ConfigError('BROKER_INGEST_MODE', `expected direct or relay, got "${mode}"`);
  }
  return mode;
}

function required(env: Env, key: string, why: string): string {
  const value = env[key]?.trim();
  if (!value) throw new ConfigError(key, `is required ${why}`);
  return value;
}

function optionalUrl(env: Env, key: string): string | undefined {
  const text = env[key]?.trim();
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(key, `expected an http(s) URL, got "${text}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(key, `expected an http(s) URL, got "${text}"`);
  }
  return text.replace(/\/+$/, '');
}

/**
 * Which Logfire credential to use. Locally the credential itself is in the environment; in AWS the
 * environment names the Secrets Manager secret that holds it (`BROKER_UPSTREAM_SECRET_ID`), and
 * `BROKER_UPSTREAM` says its kind.
 */
function readUpstream(env: Env): UpstreamConfig {
  const baseUrl = optionalUrl(env, 'LOGFIRE_BASE_URL');
  const secretId = env.BROKER_UPSTREAM_SECRET_ID?.trim();
  let kind = env.BROKER_UPSTREAM?.trim() as UpstreamKind | undefined;
  if (!kind) {
    if (env.LOGFIRE_API_KEY?.trim()) kind = 'api-key';
    else if (env.LOGFIRE_USER_TOKEN?.trim()) kind = 'user-token';
    else kind = 'dev';
  }
  if (env.LOGFIRE_API_KEY?.trim() && env.LOGFIRE_USER_TOKEN?.trim()) {
    throw new ConfigError('LOGFIRE_USER_TOKEN', 'set either LOGFIRE_API_KEY or LOGFIRE_USER_TOKEN, not both');
  }
  switch (kind) {
    case 'api-key': {
      const credential: CredentialSource = secretId
        ? { from: 'secret', secretId }
        : { from: 'env', value: required(env, 'LOGFIRE_API_KEY', 'for BROKER_UPSTREAM=api-key') };
      return {
        kind,
        credential,
        projectId: required(env, 'LOGFIRE_PROJECT_ID', 'with a Logfire API key'),
        baseUrl,
      };
    }
    case 'user-token': {
      const credential: CredentialSource = secretId
        ? { from: 'secret', secretId }
        : { from: 'env', value: required(env, 'LOGFIRE_USER_TOKEN', 'for BROKER_UPSTREAM=user-token') };
      return {
        kind,
        credential,
        organization: required(env, 'LOGFIRE_ORG', 'with a Logfire user token'),
        project: required(env, 'LOGFIRE_PROJECT', 'with a Logfire user token'),
        baseUrl,
      };
    }
    case 'dev':
      return { kind };
    default:
      throw new ConfigError('BROKER_UPSTREAM', `expected api-key, user-token or dev, got "${String(kind)}"`);
  }
}

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** Each quota's variable and default (0 = no limit); README's Configuration table says why these. */
export const QUOTA_VARIABLES: Record<keyof QuotaLimits, { env: string; fallback: number }> = {
  mintsPerInstallPerDay: { env: 'BROKER_QUOTA_MINTS_PER_INSTALL_PER_DAY', fallback: 20 },
  mintsPerIpPerHour: { env: 'BROKER_QUOTA_MINTS_PER_IP_PER_HOUR', fallback: 60 },
  mintsPerNetworkPerHour: { env: 'BROKER_QUOTA_MINTS_PER_NETWORK_PER_HOUR', fallback: 600 },
  mintsPerDay: { env: 'BROKER_QUOTA_MINTS_PER_DAY', fallback: 20_000 },
  heartbeatsPerTokenPerHour: { env: 'BROKER_QUOTA_HEARTBEATS_PER_TOKEN_PER_HOUR', fallback: 30 },
  refreshesPerTokenPerHour: { env: 'BROKER_QUOTA_REFRESHES_PER_TOKEN_PER_HOUR', fallback: 10 },
};

function readQuotas(env: Env): QuotaLimits {
  const entries = Object.entries(QUOTA_VARIABLES).map(([name, { env: key, fallback }]) => [
    name,
    integer(env, key, fallback, 0, 1_000_000_000),
  ]);
  return Object.fromEntries(entries) as unknown as QuotaLimits;
}

/** `BROKER_ANOMALY_WINDOW` and one `BROKER_ANOMALY_<RULE>` per rule (`<threshold>:<action>[:dry-run]` or `off`). */
function readAnomalies(env: Env): AnomalySettings {
  const windowMs = duration(env, 'BROKER_ANOMALY_WINDOW', ANOMALY_WINDOW_DEFAULT, MIN_ANOMALY_WINDOW_MS);
  if (windowMs > MAX_ANOMALY_WINDOW_MS) {
    throw new ConfigError('BROKER_ANOMALY_WINDOW', `must be at most 1h, got "${env.BROKER_ANOMALY_WINDOW}"`);
  }
  const rules: AnomalySettings['rules'] = {};
  for (const rule of ANOMALY_RULES) {
    const { env: key, fallback } = ANOMALY_RULE_DEFAULTS[rule];
    const parsed = parseAnomalyRule(rule, env[key]?.trim() || fallback);
    if ('problem' in parsed) throw new ConfigError(key, parsed.problem);
    if (parsed.setting) rules[rule] = parsed.setting;
  }
  return { windowMs, rules };
}

/** A comma-separated list of IPv4/IPv6 CIDRs, each checked (a bare address is one host). */
function cidrList(env: Env, key: string): string[] {
  const text = env[key]?.trim();
  if (!text) return [];
  return text.split(',').map((entry) => {
    const cidr = parseCidr(entry);
    if (!cidr)
      throw new ConfigError(key, `"${entry.trim()}" is not an IPv4 or IPv6 CIDR like 203.0.113.0/24`);
    return cidr.cidr;
  });
}

/** Reads and validates every broker setting. Throws `ConfigError` naming the first bad variable. */
export function readConfig(env: Env = process.env): BrokerConfig {
  const tokenTtlMs = duration(env, 'BROKER_TOKEN_TTL', '14d', 60_000);
  const rotateAfterMs = duration(env, 'BROKER_ROTATE_AFTER', '7d');
  if (rotateAfterMs >= tokenTtlMs) {
    throw new ConfigError(
      'BROKER_ROTATE_AFTER',
      'must be shorter than BROKER_TOKEN_TTL, or tokens expire before they rotate',
    );
  }
  const logLevel = (env.BROKER_LOG_LEVEL?.trim().toUpperCase() || 'INFO') as BrokerConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      'BROKER_LOG_LEVEL',
      `expected one of ${LOG_LEVELS.join(', ')}, got "${env.BROKER_LOG_LEVEL}"`,
    );
  }
  const tableName = env.BROKER_TABLE_NAME?.trim() || 'logfire-broker-tokens';
  const functionTimeoutMs = env.BROKER_FUNCTION_TIMEOUT?.trim()
    ? duration(env, 'BROKER_FUNCTION_TIMEOUT', '', 1000)
    : undefined;
  return {
    tokenTtlMs,
    rotateAfterMs,
    heartbeatIntervalMs: duration(env, 'BROKER_HEARTBEAT_INTERVAL', '6h'),
    idempotencyWindowMs: duration(env, 'BROKER_IDEMPOTENCY_WINDOW', '10m'),
    rotationGraceMs: duration(env, 'BROKER_ROTATION_GRACE', '24h', 0),
    refreshGraceMs: duration(env, 'BROKER_REFRESH_GRACE', '30s', 0),
    quotas: readQuotas(env),
    mintAllowCidrs: cidrList(env, 'BROKER_MINT_ALLOW_CIDRS'),
    bindTokensToNetwork: flag(env, 'BROKER_BIND_TOKENS_TO_NETWORK'),
    trustedProxies: cidrList(env, 'BROKER_TRUSTED_PROXIES'),
    staleAfterMs: duration(env, 'BROKER_STALE_AFTER', '30d'),
    anomalies: readAnomalies(env),
    auditRetentionMs: duration(env, 'BROKER_AUDIT_RETENTION', '365d', 86_400_000),
    tableName,
    auditTableName: env.BROKER_AUDIT_TABLE_NAME?.trim() || `${tableName}-audit`,
    dynamodbEndpoint: optionalUrl(env, 'BROKER_DYNAMODB_ENDPOINT'),
    upstream: readUpstream(env),
    upstreamTimeoutMs: duration(env, 'BROKER_UPSTREAM_TIMEOUT', '5s', 100),
    upstreamRetries: integer(env, 'BROKER_UPSTREAM_RETRIES', 3, 0, 10),
    functionTimeoutMs,
    upstreamBudgetMs: upstreamBudgetMs(functionTimeoutMs),
    logLevel,
    ingestMode: readIngestMode(env),
    relay: {
      requestsPerMinute: integer(env, 'BROKER_RELAY_REQUESTS_PER_MINUTE', 120, 1, 1_000_000),
      bytesPerDay: size(env, 'BROKER_RELAY_BYTES_PER_DAY', '100MiB', 1),
      stampIdentity: flag(env, 'BROKER_RELAY_STAMP_IDENTITY'),
      publicUrl: optionalUrl(env, 'BROKER_PUBLIC_URL'),
    },
    adminTotpSecretId: env.BROKER_ADMIN_TOTP_SECRET_ID?.trim() || undefined,
  };
}

/** Settings of `npm start` only. */
export function readLocalConfig(env: Env = process.env): LocalConfig {
  return {
    scheduleIntervalMs: duration(env, 'BROKER_SCHEDULE_INTERVAL', '1m'),
    port: integer(env, 'BROKER_PORT', 8787, 0, 65535),
    host: env.BROKER_HOST?.trim() || '127.0.0.1',
    dataDir: env.BROKER_DATA_DIR?.trim() || './.broker-data',
    devIngestPort: env.BROKER_DEV_INGEST_PORT?.trim()
      ? integer(env, 'BROKER_DEV_INGEST_PORT', 0, 0, 65535)
      : undefined,
    ...readLocalAdmin(env),
  };
}

/** The local admin credentials and TOTP seed, when the environment gives them (checked, never echoed). */
function readLocalAdmin(
  env: Env,
): Pick<LocalConfig, 'adminAccessKeyId' | 'adminSecretAccessKey' | 'adminTotpSecret'> {
  const adminAccessKeyId = env.BROKER_ADMIN_ACCESS_KEY_ID?.trim() || undefined;
  const adminSecretAccessKey = env.BROKER_ADMIN_SECRET_ACCESS_KEY?.trim() || undefined;
  if (adminAccessKeyId && !/^[A-Za-z0-9]{4,128}$/.test(adminAccessKeyId)) {
    throw new ConfigError('BROKER_ADMIN_ACCESS_KEY_ID', 'expected 4 to 128 letters and digits');
  }
  if (adminAccessKeyId && !adminSecretAccessKey) {
    throw new ConfigError('BROKER_ADMIN_SECRET_ACCESS_KEY', 'is required with BROKER_ADMIN_ACCESS_KEY_ID');
  }
  if (adminSecretAccessKey && !adminAccessKeyId) {
    throw new ConfigError('BROKER_ADMIN_ACCESS_KEY_ID', 'is required with BROKER_ADMIN_SECRET_ACCESS_KEY');
  }
  if (adminSecretAccessKey && adminSecretAccessKey.length < 16) {
    throw new ConfigError('BROKER_ADMIN_SECRET_ACCESS_KEY', 'must be at least 16 characters');
  }
  const adminTotpSecret = env.BROKER_ADMIN_TOTP_SECRET?.replace(/\s+/g, '').toUpperCase() || undefined;
  if (adminTotpSecret && !/^[A-Z2-7]{16,}=*$/.test(adminTotpSecret)) {
    throw new ConfigError('BROKER_ADMIN_TOTP_SECRET', 'expected a base32 seed of at least 16 characters');
  }
  return { adminAccessKeyId, adminSecretAccessKey, adminTotpSecret };
}
