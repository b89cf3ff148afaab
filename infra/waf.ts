/**
 * The firewall in front of the API stage: IP allowlists, a per-IP rate limit, a body-size bound and AWS's
 * managed rule groups, in a REGIONAL WebACL associated with the stage. The rules themselves are plain
 * data in infra/wafRules.ts.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  BODY_INSPECTION_LIMIT,
  buildWafRules,
  customResponseBodies,
  splitAllowlist,
  validateRate,
  type IpSets,
} from './wafRules';
import type { ManagedRuleGroup } from './productionSettings';

export interface WafArgs {
  stageArn: pulumi.Input<string>;
  /** CIDRs that may call the client routes (mint, heartbeat, refresh); empty = every address. */
  mintAllowlist: string[];
  /** CIDRs that may call `/v1/admin/*` (on top of SigV4); empty = every address. */
  adminAllowlist: string[];
  /** Requests per IP per window before WAF blocks with 429 (WAF minimum 10). */
  rateLimit: number;
  /** Mints (POST /v1/tokens) per IP per window, a tighter rule beside `rateLimit`. */
  mintRateLimit: number;
  rateWindowSeconds: 60 | 120 | 300 | 600;
  /** The ingest relay is deployed (relay mode): its binary bodies skip the body rules (infra/wafRules.ts). */
  relay?: boolean;
  ruleVersions?: Partial<Record<ManagedRuleGroup, string>>;
  /** Logs every request WAF sees to `aws-waf-logs-<logName>` (WAF requires that prefix), credentials redacted. */
  logging?: { logName: string; retentionDays: number; kmsKeyArn?: string };
}

/**
 * Headers WAF logs must not hold: the client secret and relay tokens (Authorization), SigV4 signatures
 * and session tokens of admin calls, and the admin's one-time code.
 */
export const REDACTED_HEADERS = ['authorization', 'x-amz-security-token', 'x-broker-otp'] as const;

export class Waf extends pulumi.ComponentResource {
  readonly webAcl: aws.wafv2.WebAcl;

  constructor(name: string, args: WafArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:index:Waf', name, {}, opts);
    const { stageArn, mintAllowlist, adminAllowlist, rateLimit, mintRateLimit, rateWindowSeconds, relay } =
      args;
    const { ruleVersions, logging } = args;
    validateRate(rateLimit, rateWindowSeconds);
    validateRate(mintRateLimit, rateWindowSeconds);
    const clientIpSets = this.ipSets(`${name}-client`, splitAllowlist(mintAllowlist, 'mintAllowlist'));
    const adminIpSets = this.ipSets(`${name}-admin`, splitAllowlist(adminAllowlist, 'adminAllowlist'));
    const metricPrefix = metricSafe(name);

    this.webAcl = new aws.wafv2.WebAcl(
      `${name}-web-acl`,
      {
        description: 'logfire-broker: allowlists, per-IP rate limit, body size, AWS managed rules',
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        rules: buildWafRules({
          clientIpSets,
          adminIpSets,
          rateLimit,
          mintRateLimit,
          rateWindowSeconds,
          metricPrefix,
          relay,
          ruleVersions,
        }),
        customResponseBodies: customResponseBodies(),
        // API Gateway forwards only the first 16 KB of a body to WAF by default; 64 KB lets the body-size
        // rule see all of MAX_BODY_BYTES, so anything larger is "oversize" and blocked (billed per 16 KB).
        associationConfig: {
          requestBodies: [{ apiGateway: { defaultSizeInspectionLimit: BODY_INSPECTION_LIMIT } }],
        },
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          metricName: metricPrefix,
          sampledRequestsEnabled: true,
        },
      },
      { parent: this },
    );

    new aws.wafv2.WebAclAssociation(
      `${name}-association`,
      { resourceArn: stageArn, webAclArn: this.webAcl.arn },
      { parent: this },
    );

    if (logging) {
      const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-logs`,
        {
          name: `aws-waf-logs-${logging.logName}`,
          retentionInDays: logging.retentionDays,
          kmsKeyId: logging.kmsKeyArn,
        },
        { parent: this },
      );
      // WAF adds the log group's resource policy for its delivery itself (the deployer needs
      // logs:PutResourcePolicy once).
      new aws.wafv2.WebAclLoggingConfiguration(
        `${name}-logging`,
        {
          resourceArn: this.webAcl.arn,
          logDestinationConfigs: [logGroup.arn],
          redactedFields: REDACTED_HEADERS.map((header) => ({ singleHeader: { name: header } })),
        },
        { parent: this },
      );
    }
    this.registerOutputs({ webAcl: this.webAcl });
  }

  /** One IP set per address family that has entries (a WAF IP set holds one family); none for an empty list. */
  private ipSets(name: string, cidrs: { v4: string[]; v6: string[] }): IpSets<pulumi.Output<string>> {
    const make = (version: 'IPV4' | 'IPV6', addresses: string[]) =>
      addresses.length === 0
        ? undefined
        : new aws.wafv2.IpSet(
            `${name}-${version.toLowerCase()}`,
            { scope: 'REGIONAL', ipAddressVersion: version, addresses },
            { parent: this },
          ).arn;
    return { v4: make('IPV4', cidrs.v4), v6: make('IPV6', cidrs.v6) };
  }
}

/** WAF metric names: letters, digits, - and _ only (no whitespace), at most 128 characters. */
function metricSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100);
}
