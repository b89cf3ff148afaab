/**
 * The production settings of issue #12, read like the rest of infra/settings.ts: the custom domain, API
 * Gateway's account-wide log role, WAF logging and rule versions, tracing and the WAF alarm. No Pulumi.
 */
import { SettingsError, type SettingsReader } from './validation';

/** The broker's own name for its API: what a CLI ships, so it outlives any one API or region. */
export interface DomainSettings {
  /** e.g. `broker.example.com`. */
  name: string;
  /** An ACM certificate in the stack's region that covers `name`; or... */
  certificateArn?: string;
  /** ...a Route 53 public zone in which the stack requests, validates and points a certificate. */
  hostedZoneId?: string;
}

/**
 * API Gateway's CloudWatch role, one per account and region: `auto` sets it only when none is set yet (or
 * when the one set is this stack's own), `true` always, `false` never.
 */
export type AccountLogRoleSetting = 'auto' | boolean;

/** The AWS managed rule groups the WebACL uses (infra/wafRules.ts), whose versions may be pinned. */
export const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesCommonRuleSet',
] as const;

export type ManagedRuleGroup = (typeof MANAGED_RULE_GROUPS)[number];

export interface ProductionSettings {
  domain?: DomainSettings;
  /** Turns the `execute-api` endpoint off, so only the custom domain answers. Needs `domain`. */
  disableExecuteApiEndpoint: boolean;
  manageAccountLogRole: AccountLogRoleSetting;
  /** WAF logs to a CloudWatch log group (`aws-waf-logs-<prefix>`), with credentials redacted. */
  wafLogging: boolean;
  /** A pinned version per managed rule group (`Version_1.12`); unset groups follow AWS's default. */
  wafRuleVersions: Partial<Record<ManagedRuleGroup, string>>;
  /** Share of requests WAF blocked over 5 minutes (percent) that pages the operator. */
  wafBlockedAlarmPercent: number;
  /** X-Ray active tracing on the functions and the API stage. */
  tracing: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * @example readProductionSettings(new SettingsReader({ domainName: 'broker.example.com', hostedZoneId: 'Z1' }), 'us-east-1').domain
 */
export function readProductionSettings(read: SettingsReader, awsRegion?: string): ProductionSettings {
  const domain = readDomain(read, awsRegion);
  const disableExecuteApiEndpoint = read.boolean('disableExecuteApiEndpoint', false);
  if (disableExecuteApiEndpoint && !domain) {
    throw new SettingsError(
      'disableExecuteApiEndpoint',
      'needs domainName: without a custom domain the API would have no address left',
    );
  }
  const accountLogRole = read.choice('manageAccountLogRole', ['auto', 'true', 'false'] as const, 'auto');
  return {
    domain,
    disableExecuteApiEndpoint,
    manageAccountLogRole: accountLogRole === 'auto' ? 'auto' : accountLogRole === 'true',
    wafLogging: read.boolean('wafLogging', false),
    wafRuleVersions: readRuleVersions(read),
    wafBlockedAlarmPercent: read.number('wafBlockedAlarmPercent', 20, 1, 100),
    tracing: read.boolean('tracing', false),
  };
}

function readDomain(read: SettingsReader, awsRegion?: string): DomainSettings | undefined {
  const name = read.optional('domainName', (text) =>
    HOSTNAME.test(text) ? undefined : 'must be a lower-case host name like broker.example.com',
  );
  const certificateArn = read.optional('certificateArn', (text) =>
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(text)
      ? undefined
      : 'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
  );
  const hostedZoneId = read.optional('hostedZoneId', (text) =>
    /^Z[A-Z0-9]{1,31}$/.test(text) ? undefined : 'must be a Route 53 hosted zone id like Z0123456789ABC',
  );
  if (!name) {
    for (const key of ['certificateArn', 'hostedZoneId'] as const) {
      if (read.has(key)) throw new SettingsError(key, 'is only used with domainName; set it or remove this');
    }
    return undefined;
  }
  if (!certificateArn && !hostedZoneId) {
    throw new SettingsError(
      'domainName',
      'needs certificateArn (an ACM certificate for it) or hostedZoneId (a Route 53 zone the stack makes one in)',
    );
  }
  const certificateRegion = certificateArn?.split(':')[3];
  if (certificateArn && awsRegion && certificateRegion !== awsRegion) {
    throw new SettingsError(
      'certificateArn',
      `is in ${certificateRegion}, but a REGIONAL custom domain needs a certificate in ${awsRegion} (aws:region)`,
    );
  }
  return { name, certificateArn, hostedZoneId };
}

function readRuleVersions(read: SettingsReader): ProductionSettings['wafRuleVersions'] {
  const text = read.optional('wafRuleVersions', () => undefined);
  if (text === undefined) return {};
  let map: unknown;
  try {
    map = JSON.parse(text);
  } catch {
    throw new SettingsError('wafRuleVersions', `is not valid JSON: ${text}`);
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new SettingsError(
      'wafRuleVersions',
      `must be a map like {"AWSManagedRulesCommonRuleSet": "Version_1.12"}`,
    );
  }
  for (const [group, version] of Object.entries(map)) {
    if (!(MANAGED_RULE_GROUPS as readonly string[]).includes(group)) {
      throw new SettingsError(
        'wafRuleVersions',
        `names "${group}", which is not one of ${MANAGED_RULE_GROUPS.join(', ')}`,
      );
    }
    if (typeof version !== 'string' || !/^Version_[0-9.]+$/.test(version)) {
      throw new SettingsError(
        'wafRuleVersions',
        `${group} must be a version like "Version_1.12", got ${JSON.stringify(version)}`,
      );
    }
  }
  return map as ProductionSettings['wafRuleVersions'];
}
