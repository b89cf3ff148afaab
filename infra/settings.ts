/**
 * The stack's settings, validated: plain text in (what `pulumi config` holds), typed settings out, or a
 * `SettingsError` that names the key. No Pulumi import: infra/config.ts reads the values, and the tests call
 * `parseSettings` directly. Durations use the Lambdas' own parser, and the environment the stack writes is
 * checked with the Lambdas' own `readConfig`, so a stack that deploys is a stack whose functions start.
 */
import {
  formatDuration,
  parseSize,
  QUOTA_VARIABLES,
  type IngestMode,
  type RelaySettings,
} from '../functions/config';
import type { QuotaLimits, TokenSettings } from '../functions/core/deps';
import { defaultAuditTableName } from '../functions/adapters/store/tables';
import { LOGFIRE_REGIONS } from '../functions/adapters/upstream/region';
import { assertLambdasAccept } from './environment';
import { namePrefix } from './names';
import {
  readProductionSettings,
  type AccountLogRoleSetting,
  type DomainSettings,
  type ManagedRuleGroup,
} from './productionSettings';
import {
  LOG_RETENTION_DAYS,
  NAMESPACE,
  SettingsError,
  SettingsReader,
  cidrCheck,
  emailCheck,
  readAnomalySettings,
  readLifecycleSettings,
  scheduleCheck,
} from './validation';

export { NAMESPACE, SettingsError } from './validation';
export { namePrefix } from './names';

/** Every stack setting, `logfire-broker:<key>`; Pulumi.dev.yaml documents each one. */
export const SETTING_KEYS = [
  'upstreamKind',
  'logfireProjectId',
  'logfireOrg',
  'logfireProject',
  'logfireRegion',
  'logfireBaseUrl',
  'upstreamCredential',
  'tokenTtl',
  'rotateAfter',
  'heartbeatInterval',
  'idempotencyWindow',
  'rotationGrace',
  'refreshGrace',
  'quotas',
  'bindTokensToNetwork',
  'trustedProxies',
  'anomalies',
  'staleAfter',
  'auditRetention',
  'upstreamTimeout',
  'upstreamRetries',
  'logLevel',
  'lambdaMemoryMb',
  'lambdaTimeoutSeconds',
  'reservedConcurrency',
  'logRetentionDays',
  'kmsKeyArn',
  'protect',
  'stageName',
  'manageAccountLogRole',
  'throttleRateLimit',
  'throttleBurstLimit',
  'mintAllowlist',
  'adminAllowlist',
  'rateLimit',
  'mintRateLimit',
  'rateWindowSeconds',
  'alarmEmail',
  'mintAlarmPerMinute',
  'rotationSchedule',
  'sweepSchedule',
  'ingestMode',
  'relayRequestsPerMinute',
  'relayBytesPerDay',
  'relayStampIdentity',
  'publicUrl',
  'domainName',
  'certificateArn',
  'hostedZoneId',
  'disableExecuteApiEndpoint',
  'wafLogging',
  'wafRuleVersions',
  'wafBlockedAlarmPercent',
  'tracing',
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];

export type UpstreamSettings =
  { kind: 'api-key'; projectId: string } | { kind: 'user-token'; organization: string; project: string };

export type RateWindowSeconds = 60 | 120 | 300 | 600;

/** The token settings are the core's own (functions/core/deps.ts), so the stack and the Lambdas agree. */
export interface StackSettings extends TokenSettings {
  /** `<project>-<stack>`: the start of every physical name the stack chooses. */
  namePrefix: string;
  upstream: UpstreamSettings;
  /** Unset: the Lambdas take the region from the credential's prefix (`pylf_v1_eu_...`). */
  logfireBaseUrl?: string;
  /** Audit entries are kept this long (DynamoDB TTL on the audit table). */
  auditRetentionMs: number;
  upstreamTimeoutMs: number;
  upstreamRetries: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  lambda: { memoryMb: number; timeoutSeconds: number; reservedConcurrency: Record<string, number> };
  logRetentionDays: number;
  kmsKeyArn?: string;
  /** DynamoDB deletion protection, and tables kept when the stack is destroyed. */
  protect: boolean;
  api: {
    stageName: string;
    throttleRateLimit: number;
    throttleBurstLimit: number;
    /** API Gateway's account-wide CloudWatch role: one per account and region, so only one stack sets it. */
    manageAccountLogRole: AccountLogRoleSetting;
    /** The custom domain a CLI should ship (README, "A stable URL"). */
    domain?: DomainSettings;
    disableExecuteApiEndpoint: boolean;
  };
  waf: {
    mintAllowlist: string[];
    adminAllowlist: string[];
    rateLimit: number;
    /** Mints per IP per window (WAF, POST /v1/tokens only). */
    mintRateLimit: number;
    rateWindowSeconds: RateWindowSeconds;
    /** WAF logs to CloudWatch Logs, credentials redacted. */
    logging: boolean;
    ruleVersions: Partial<Record<ManagedRuleGroup, string>>;
  };
  alarms: { email?: string; mintPerMinute: number; wafBlockedPercent: number };
  /** X-Ray active tracing on the functions and the stage. */
  tracing: boolean;
  schedules: { rotationSchedule: string; sweepSchedule: string };
  /** `relay` deploys the ingest relay (docs/relay.md): its function, its routes, binary media types. */
  ingestMode: IngestMode;
  /** The relay's settings are the Lambdas' own (functions/config.ts). */
  relay: RelaySettings;
}

export interface SettingsContext {
  stack: string;
  project?: string;
  /** `aws:region`, when set: a customer managed key must live in the same region. */
  awsRegion?: string;
  /** Handler names `reservedConcurrency` may name (infra/handlers.ts). */
  handlerNames: readonly string[];
}

/** API Gateway ends every integration at 29 s, whatever the function's own timeout. */
export const API_TIMEOUT_LIMIT_SECONDS = 29;

/**
 * Validates raw settings (`logfire-broker:*` values without the prefix, as `pulumi config get` prints them).
 * @example parseSettings({ logfireProjectId: '0b6e…' }, { stack: 'prod', handlerNames: ['mint'] }).protect // true
 */
export function parseSettings(raw: Partial<Record<string, string>>, context: SettingsContext): StackSettings {
  for (const key of Object.keys(raw)) {
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      const near = SETTING_KEYS.find((known) => known.toLowerCase() === key.toLowerCase());
      throw new SettingsError(key, `is not a setting of this stack${near ? `; did you mean ${near}?` : ''}`);
    }
  }
  const read = new SettingsReader(raw);
  const tokenTtlMs = read.duration('tokenTtl', '14d');
  const rotateAfterMs = read.duration('rotateAfter', '7d');
  if (rotateAfterMs >= tokenTtlMs) {
    throw new SettingsError(
      'rotateAfter',
      `must be shorter than tokenTtl (${formatDuration(tokenTtlMs)}), or tokens expire before they rotate`,
    );
  }
  const heartbeatIntervalMs = read.duration('heartbeatInterval', '6h');
  const lifecycle = readLifecycleSettings(read, heartbeatIntervalMs);
  const upstreamTimeoutMs = read.duration('upstreamTimeout', '5s');
  const timeoutSeconds = read.integer(
    'lambdaTimeoutSeconds',
    API_TIMEOUT_LIMIT_SECONDS,
    1,
    API_TIMEOUT_LIMIT_SECONDS,
    "API Gateway's limit",
  );
  if (timeoutSeconds * 1000 <= upstreamTimeoutMs) {
    throw new SettingsError(
      'lambdaTimeoutSeconds',
      `must be longer than upstreamTimeout (${formatDuration(upstreamTimeoutMs)}), or a slow Logfire call ends the function before it can answer 503, got ${timeoutSeconds}`,
    );
  }
  const rateLimit = read.integer('rateLimit', 300, 10, 2_000_000_000, 'WAF minimum');
  const production = readProductionSettings(read, context.awsRegion);
  const settings: StackSettings = {
    namePrefix: namePrefix(context.project ?? NAMESPACE, context.stack),
    upstream: readUpstream(read),
    logfireBaseUrl: readBaseUrl(read),
    tokenTtlMs,
    rotateAfterMs,
    heartbeatIntervalMs,
    idempotencyWindowMs: read.duration('idempotencyWindow', '10m'),
    ...lifecycle,
    // The broker's own quotas and IP policy (issue #9): the same names and defaults as the Lambdas' variables.
    quotas: readQuotaSettings(read),
    mintAllowCidrs: read.list('mintAllowlist', cidrCheck),
    bindTokensToNetwork: read.boolean('bindTokensToNetwork', false),
    trustedProxies: read.list('trustedProxies', cidrCheck),
    anomalies: readAnomalySettings(read),
    upstreamTimeoutMs,
    upstreamRetries: read.integer('upstreamRetries', 3, 0, 10),
    logLevel: read.choice('logLevel', ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const, 'INFO'),
    lambda: {
      memoryMb: read.integer('lambdaMemoryMb', 256, 128, 10_240),
      timeoutSeconds,
      reservedConcurrency: read.integerMap('reservedConcurrency', context.handlerNames, 0, 10_000),
    },
    logRetentionDays: read.oneOf('logRetentionDays', LOG_RETENTION_DAYS, 30, 'CloudWatch Logs retention'),
    kmsKeyArn: readKmsKey(read, context.awsRegion),
    protect: read.boolean('protect', context.stack !== 'dev'),
    api: {
      stageName: read.matching('stageName', /^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, - and _', 'api'),
      throttleRateLimit: read.number('throttleRateLimit', 100, 1, 10_000),
      throttleBurstLimit: read.integer('throttleBurstLimit', 200, 1, 5_000),
      manageAccountLogRole: production.manageAccountLogRole,
      domain: production.domain,
      disableExecuteApiEndpoint: production.disableExecuteApiEndpoint,
    },
    waf: {
      mintAllowlist: read.list('mintAllowlist', cidrCheck),
      adminAllowlist: read.list('adminAllowlist', cidrCheck),
      rateLimit,
      mintRateLimit: read.integer('mintRateLimit', 100, 10, 2_000_000_000, 'WAF minimum'),
      rateWindowSeconds: read.oneOf(
        'rateWindowSeconds',
        [60, 120, 300, 600] as const,
        300,
        'WAF rate windows',
      ),
      logging: production.wafLogging,
      ruleVersions: production.wafRuleVersions,
    },
    alarms: {
      email: read.optional('alarmEmail', emailCheck),
      mintPerMinute: read.integer('mintAlarmPerMinute', 60, 1, 1_000_000),
      wafBlockedPercent: production.wafBlockedAlarmPercent,
    },
    tracing: production.tracing,
    schedules: {
      rotationSchedule: read.expression('rotationSchedule', 'rate(1 hour)', scheduleCheck),
      sweepSchedule: read.expression('sweepSchedule', 'rate(15 minutes)', scheduleCheck),
    },
    ingestMode: read.choice('ingestMode', ['direct', 'relay'] as const, 'direct'),
    relay: readRelay(read, production.domain),
  };
  assertLambdasAccept(settings);
  return settings;
}

/**
 * `quotas`, a map like `{"mintsPerIpPerHour": 50}`: each limit given replaces the default of
 * functions/config.ts (0 = no limit).
 */
function readQuotaSettings(read: SettingsReader): QuotaLimits {
  const names = Object.keys(QUOTA_VARIABLES) as (keyof QuotaLimits)[];
  const given = read.integerMap('quotas', names, 0, 1_000_000_000);
  return Object.fromEntries(
    names.map((name) => [name, given[name] ?? QUOTA_VARIABLES[name].fallback]),
  ) as unknown as QuotaLimits;
}

/**
 * The two table names: per account and region in DynamoDB, so they carry the stack. The code finds the
 * audit table from the tokens table's name, so it is derived the same way here.
 * @example tableNames({ namePrefix: 'logfire-broker-prod' }).audit // 'logfire-broker-prod-tokens-audit'
 */
export function tableNames(settings: Pick<StackSettings, 'namePrefix'>): { tokens: string; audit: string } {
  const tokens = `${settings.namePrefix}-tokens`;
  return { tokens, audit: defaultAuditTableName(tokens) };
}

function readUpstream(read: SettingsReader): UpstreamSettings {
  const kind = read.choice('upstreamKind', ['api-key', 'user-token'] as const, 'api-key');
  const other = kind === 'api-key' ? ['logfireOrg', 'logfireProject'] : ['logfireProjectId'];
  for (const key of other) {
    if (read.has(key)) throw new SettingsError(key, `is not used with upstreamKind ${kind}; remove it`);
  }
  if (kind === 'api-key') {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    return {
      kind,
      projectId: read.required('logfireProjectId', uuid, 'the project UUID', 'with upstreamKind api-key'),
    };
  }
  const slug = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
  return {
    kind,
    organization: read.required('logfireOrg', slug, 'an organization name', 'with upstreamKind user-token'),
    project: read.required('logfireProject', slug, 'a project name', 'with upstreamKind user-token'),
  };
}

function readBaseUrl(read: SettingsReader): string | undefined {
  const region = read.optional('logfireRegion', (text) =>
    Object.hasOwn(LOGFIRE_REGIONS, text)
      ? undefined
      : `must be one of ${Object.keys(LOGFIRE_REGIONS).join(', ')}`,
  );
  const url = read.optional('logfireBaseUrl', (text) => {
    try {
      return new URL(text).protocol === 'https:'
        ? undefined
        : 'must be an https:// URL (the credential travels to it)';
    } catch {
      return 'is not a URL';
    }
  });
  if (region && url) throw new SettingsError('logfireBaseUrl', 'and logfireRegion are both set; keep one');
  return url?.replace(/\/+$/, '') ?? (region ? LOGFIRE_REGIONS[region] : undefined);
}

/** `publicUrl` defaults to the custom domain, which is mapped at the root (Python's SDK drops a path). */
function readRelay(read: SettingsReader, domain?: DomainSettings): RelaySettings {
  const bytes = read.optional('relayBytesPerDay', (text) =>
    (parseSize(text) ?? 0) >= 1 ? undefined : 'must be a size like 500KB, 100MiB or 1GB',
  );
  const publicUrl = read.optional('publicUrl', (text) => {
    try {
      return new URL(text).protocol === 'https:' ? undefined : 'must be an https:// URL';
    } catch {
      return 'is not a URL';
    }
  });
  return {
    requestsPerMinute: read.integer('relayRequestsPerMinute', 120, 1, 1_000_000),
    bytesPerDay: bytes === undefined ? parseSize('100MiB')! : parseSize(bytes)!,
    stampIdentity: read.boolean('relayStampIdentity', false),
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? (domain ? `https://${domain.name}` : undefined),
  };
}

function readKmsKey(read: SettingsReader, awsRegion: string | undefined): string | undefined {
  const arn = read.optional('kmsKeyArn', (text) =>
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(text)
      ? undefined
      : 'must be a key ARN (arn:aws:kms:<region>:<account>:key/<id>); an alias does not work in IAM policies',
  );
  const keyRegion = arn?.split(':')[3];
  if (arn && awsRegion && keyRegion !== awsRegion) {
    throw new SettingsError(
      'kmsKeyArn',
      `is in ${keyRegion}, but the stack deploys to ${awsRegion} (aws:region); DynamoDB needs a key in its own region`,
    );
  }
  return arn;
}
