/**
 * The WebACL's rules as plain data. No Pulumi here: the IP set ARNs come in as a type parameter (strings
 * in tests, Outputs in infra/waf.ts), so the tests read the rules without mocks.
 */
import { MAX_BODY_BYTES } from '../functions/http/reply';
import { parseCidr } from '../functions/core/cidr';
import type { ManagedRuleGroup } from './productionSettings';

export type RateWindowSeconds = 60 | 120 | 300 | 600;

/** WAF's bounds on a rate-based rule (CreateWebACL: RateBasedStatement). */
export const MIN_RATE_LIMIT = 10;
export const MAX_RATE_LIMIT = 2_000_000_000;
export const RATE_WINDOWS: readonly RateWindowSeconds[] = [60, 120, 300, 600];

/**
 * WAF sees at most this much of an API Gateway request body (16 KB by default; 64 KB is the most, billed
 * per extra 16 KB). At 64 KiB it covers MAX_BODY_BYTES exactly, so the body-size rule can tell "too big"
 * from "fits", and the managed rules inspect every byte a valid request can have.
 */
export const BODY_INSPECTION_LIMIT = 'KB_64';
const BODY_INSPECTION_BYTES = 64 * 1024;
if (BODY_INSPECTION_BYTES < MAX_BODY_BYTES) throw new Error('WAF body inspection must cover MAX_BODY_BYTES');

/** Admin routes, whether the path carries the stage (`/prod/v1/admin/...`) or not (a custom domain). */
export const ADMIN_PATH_REGEX = '^(/[^/]+)?/v1/admin(/|$)';
/** The mint route, with or without the stage. */
export const MINT_PATH_REGEX = '^(/[^/]+)?/v1/tokens/?$';

/**
 * The ingest relay's routes (relay mode), with or without the stage in the path. Their bodies are OTLP
 * (protobuf, gzip) of up to RELAY_MAX_BODY_BYTES, bounded by the relay itself: WAF sees at most 64 KB of a
 * body, and its body-matching rules would read binary data as text.
 */
export const RELAY_PATH_REGEX = '^(/[^/]+)?/v1/(traces|logs|metrics)$';

/** JSON bodies of WAF's own block responses, in the broker's error shape. */
export const CUSTOM_RESPONSE_BODIES = {
  'ip-not-allowed': { code: 'forbidden', message: 'Requests from this address are not allowed.' },
  'rate-limited': { code: 'quota_exceeded', message: 'Too many requests from this address; retry later.' },
  'body-too-large': {
    code: 'payload_too_large',
    message: `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
  },
} as const;
export type CustomResponseKey = keyof typeof CUSTOM_RESPONSE_BODIES;

export interface IpSets<A> {
  v4?: A;
  v6?: A;
}

export interface WafRuleOptions<A> {
  /** IP sets of the client allowlist; none (empty allowlist) means every address may call. */
  clientIpSets: IpSets<A>;
  adminIpSets: IpSets<A>;
  rateLimit: number;
  rateWindowSeconds: RateWindowSeconds;
  /** Mints (POST /v1/tokens) per IP per rate window: tighter than `rateLimit`, which covers every route. */
  mintRateLimit: number;
  metricPrefix: string;
  /** The ingest relay is deployed: its routes skip the body-size rule and the body-inspecting groups. */
  relay?: boolean;
  /** Pinned versions of the managed rule groups; a group not named follows AWS's default version. */
  ruleVersions?: Partial<Record<ManagedRuleGroup, string>>;
}

type Empty = Record<string, never>;
type TextTransformation = { priority: number; type: string };

/** The subset of WAF's rule statement this WebACL uses (the shape of aws.wafv2 WebAclRuleStatement). */
export interface WafStatement<A> {
  andStatement?: { statements: WafStatement<A>[] };
  notStatement?: { statement: WafStatement<A> };
  ipSetReferenceStatement?: { arn: A };
  regexMatchStatement?: {
    regexString: string;
    fieldToMatch: { uriPath: Empty };
    textTransformations: TextTransformation[];
  };
  rateBasedStatement?: {
    aggregateKeyType: 'IP';
    limit: number;
    evaluationWindowSec: number;
    scopeDownStatement?: WafStatement<A>;
  };
  byteMatchStatement?: {
    searchString: string;
    positionalConstraint: 'EXACTLY';
    fieldToMatch: { method: Empty };
    textTransformations: TextTransformation[];
  };
  sizeConstraintStatement?: {
    comparisonOperator: string;
    size: number;
    fieldToMatch: { body: { oversizeHandling: string } };
    textTransformations: TextTransformation[];
  };
  managedRuleGroupStatement?: {
    vendorName: string;
    name: string;
    /** Unset: AWS moves the group to its new default version by itself (after its notice period). */
    version?: string;
    ruleActionOverrides?: { name: string; actionToUse: { count: Empty } }[];
    /** Only requests matching this are inspected by the group. */
    scopeDownStatement?: WafStatement<A>;
  };
}

export interface WafRule<A> {
  name: string;
  priority: number;
  /** Own rules block with a custom JSON response; managed groups keep their own actions. */
  action?: {
    block: {
      customResponse: {
        responseCode: number;
        customResponseBodyKey: CustomResponseKey;
        responseHeaders: { name: string; value: string }[];
      };
    };
  };
  overrideAction?: { none: Empty };
  statement: WafStatement<A>;
  visibilityConfig: {
    cloudwatchMetricsEnabled: boolean;
    metricName: string;
    sampledRequestsEnabled: boolean;
  };
}

/** Fixed priorities, so a rule keeps its number (and its metrics) when an allowlist is emptied. */
export const PRIORITY = {
  adminAllowlist: 0,
  clientAllowlist: 1,
  ratePerIp: 2,
  mintRatePerIp: 4,
  // Before the managed groups, so an oversized body gets 413 rather than a managed rule's 403.
  bodySize: 3,
  ipReputation: 10,
  knownBadInputs: 11,
  common: 12,
} as const;

/**
 * Splits an allowlist into IPv4 and IPv6 CIDRs (one WAF IP set per version); a bare address becomes /32
 * or /128, and each entry is rewritten to its network address. `key` names the config key in errors.
 *
 * @example
 * splitAllowlist(['203.0.113.0/24', '2001:db8::1'], 'mintAllowlist') // { v4: ['203.0.113.0/24'], v6: ['2001:db8::1/128'] }
 */
export function splitAllowlist(entries: readonly string[], key: string): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const entry of entries) {
    const parsed = parseCidr(entry);
    if (!parsed) {
      throw new Error(
        `${key}: "${entry}" is not an IPv4 or IPv6 CIDR (prefix /1 or longer; /0 is not allowed)`,
      );
    }
    const list = parsed.version === 4 ? v4 : v6;
    if (!list.includes(parsed.cidr)) list.push(parsed.cidr);
  }
  return { v4, v6 };
}

/** Refuses a rate rule WAF would refuse, naming the argument. */
export function validateRate(rateLimit: number, rateWindowSeconds: number): void {
  if (!Number.isInteger(rateLimit) || rateLimit < MIN_RATE_LIMIT || rateLimit > MAX_RATE_LIMIT) {
    throw new Error(
      `rateLimit: ${rateLimit} must be a whole number from ${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT}`,
    );
  }
  if (!RATE_WINDOWS.includes(rateWindowSeconds as RateWindowSeconds)) {
    throw new Error(`rateWindowSeconds: ${rateWindowSeconds} must be one of ${RATE_WINDOWS.join(', ')}`);
  }
}

/**
 * The WebACL's rules in priority order. Nesting stays within the three statement levels the AWS provider
 * allows (and → not → leaf).
 */
export function buildWafRules<A>(options: WafRuleOptions<A>): WafRule<A>[] {
  const { clientIpSets, adminIpSets, rateLimit, rateWindowSeconds, mintRateLimit, metricPrefix, relay } =
    options;
  const { ruleVersions } = options;
  validateRate(rateLimit, rateWindowSeconds);
  validateRate(mintRateLimit, rateWindowSeconds);
  const visibility = (rule: string) => ({
    cloudwatchMetricsEnabled: true,
    metricName: `${metricPrefix}-${rule}`,
    sampledRequestsEnabled: true,
  });
  const adminPath: WafStatement<A> = {
    regexMatchStatement: {
      regexString: ADMIN_PATH_REGEX,
      fieldToMatch: { uriPath: {} },
      // Decode and normalize first, so `%2F`, `//` or `/./` cannot move a path in or out of /v1/admin.
      textTransformations: [
        { priority: 0, type: 'URL_DECODE' },
        { priority: 1, type: 'NORMALIZE_PATH' },
      ],
    },
  };
  // Relay mode: the statement that keeps a rule off the relay's routes (undefined: the rule applies everywhere).
  const notRelay: WafStatement<A> | undefined = relay
    ? {
        notStatement: {
          statement: {
            regexMatchStatement: {
              regexString: RELAY_PATH_REGEX,
              fieldToMatch: { uriPath: {} },
              textTransformations: [
                { priority: 0, type: 'URL_DECODE' },
                { priority: 1, type: 'NORMALIZE_PATH' },
              ],
            },
          },
        },
      }
    : undefined;
  const notIn = (sets: IpSets<A>): WafStatement<A>[] =>
    [sets.v4, sets.v6]
      .filter((arn): arn is A => arn !== undefined)
      .map((arn) => ({ notStatement: { statement: { ipSetReferenceStatement: { arn } } } }));
  const block = (
    responseCode: number,
    key: CustomResponseKey,
    headers: { name: string; value: string }[] = [],
  ) => ({
    block: { customResponse: { responseCode, customResponseBodyKey: key, responseHeaders: headers } },
  });

  const rules: WafRule<A>[] = [];
  const adminNotIn = notIn(adminIpSets);
  if (adminNotIn.length) {
    rules.push({
      name: 'admin-allowlist',
      priority: PRIORITY.adminAllowlist,
      action: block(403, 'ip-not-allowed'),
      statement: { andStatement: { statements: [adminPath, ...adminNotIn] } },
      visibilityConfig: visibility('admin-allowlist'),
    });
  }
  // The client allowlist covers every route but the admin ones: where tokens are minted, refreshed,
  // heartbeated and (later) used through the ingest relay (R10).
  const clientNotIn = notIn(clientIpSets);
  if (clientNotIn.length) {
    rules.push({
      name: 'client-allowlist',
      priority: PRIORITY.clientAllowlist,
      action: block(403, 'ip-not-allowed'),
      statement: {
        andStatement: { statements: [{ notStatement: { statement: adminPath } }, ...clientNotIn] },
      },
      visibilityConfig: visibility('client-allowlist'),
    });
  }
  const bodyTooLarge: WafStatement<A> = {
    sizeConstraintStatement: {
      comparisonOperator: 'GT',
      size: MAX_BODY_BYTES,
      // A body beyond the inspection limit (which equals MAX_BODY_BYTES) is "oversize": MATCH blocks it.
      fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
      textTransformations: [{ priority: 0, type: 'NONE' }],
    },
  };
  rules.push(
    {
      name: 'rate-per-ip',
      priority: PRIORITY.ratePerIp,
      action: block(429, 'rate-limited', [{ name: 'Retry-After', value: String(rateWindowSeconds) }]),
      statement: {
        rateBasedStatement: {
          aggregateKeyType: 'IP',
          limit: rateLimit,
          evaluationWindowSec: rateWindowSeconds,
        },
      },
      visibilityConfig: visibility('rate-per-ip'),
    },
    {
      // Minting is what drains the Logfire project: its own, tighter limit, beside the global one (R9, R10).
      name: 'mint-rate-per-ip',
      priority: PRIORITY.mintRatePerIp,
      action: block(429, 'rate-limited', [{ name: 'Retry-After', value: String(rateWindowSeconds) }]),
      statement: {
        rateBasedStatement: {
          aggregateKeyType: 'IP',
          limit: mintRateLimit,
          evaluationWindowSec: rateWindowSeconds,
          scopeDownStatement: {
            andStatement: {
              statements: [
                {
                  byteMatchStatement: {
                    searchString: 'POST',
                    positionalConstraint: 'EXACTLY',
                    fieldToMatch: { method: {} },
                    textTransformations: [{ priority: 0, type: 'NONE' }],
                  },
                },
                {
                  regexMatchStatement: {
                    regexString: MINT_PATH_REGEX,
                    fieldToMatch: { uriPath: {} },
                    textTransformations: [
                      { priority: 0, type: 'URL_DECODE' },
                      { priority: 1, type: 'NORMALIZE_PATH' },
                    ],
                  },
                },
              ],
            },
          },
        },
      },
      visibilityConfig: visibility('mint-rate-per-ip'),
    },
    {
      name: 'body-size',
      priority: PRIORITY.bodySize,
      action: block(413, 'body-too-large'),
      statement: notRelay ? { andStatement: { statements: [notRelay, bodyTooLarge] } } : bodyTooLarge,
      visibilityConfig: visibility('body-size'),
    },
    managed(
      'AWSManagedRulesAmazonIpReputationList',
      PRIORITY.ipReputation,
      visibility('ip-reputation'),
      ruleVersions,
    ),
    managed(
      'AWSManagedRulesKnownBadInputsRuleSet',
      PRIORITY.knownBadInputs,
      visibility('known-bad-inputs'),
      ruleVersions,
      [],
      notRelay,
    ),
    // SizeRestrictions_BODY blocks bodies over 8 KB, but a valid mint can be larger (20 metadata entries
    // of 256 characters, multi-byte or escaped, plus whitespace). It only counts here: the body-size rule
    // enforces the broker's own bound, the same one the handler applies.
    managed(
      'AWSManagedRulesCommonRuleSet',
      PRIORITY.common,
      visibility('common'),
      ruleVersions,
      ['SizeRestrictions_BODY'],
      notRelay,
    ),
  );
  return rules;
}

/** The `customResponseBodies` of the WebACL, one per CustomResponseKey. */
export function customResponseBodies() {
  return Object.entries(CUSTOM_RESPONSE_BODIES).map(([key, error]) => ({
    key,
    contentType: 'APPLICATION_JSON',
    content: JSON.stringify({ error }),
  }));
}

function managed<A>(
  name: ManagedRuleGroup,
  priority: number,
  visibilityConfig: WafRule<A>['visibilityConfig'],
  versions: Partial<Record<ManagedRuleGroup, string>> = {},
  countOnly: string[] = [],
  scopeDownStatement?: WafStatement<A>,
): WafRule<A> {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(versions[name] ? { version: versions[name] } : {}),
        ruleActionOverrides: countOnly.length
          ? countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } }))
          : undefined,
        ...(scopeDownStatement ? { scopeDownStatement } : {}),
      },
    },
    visibilityConfig,
  };
}
