import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { MAX_BODY_BYTES } from '../functions/http/reply';
import { ofType, settle, setupMocks, valueOf } from './testing/mocks';
import { Api } from './api';
import { Waf, type WafArgs } from './waf';

const resources = setupMocks();

const STAGE_ARN = 'arn:aws:apigateway:us-east-1::/restapis/abc123/stages/prod';
const defaults: WafArgs = {
  stageArn: STAGE_ARN,
  mintAllowlist: [],
  adminAllowlist: [],
  rateLimit: 100,
  mintRateLimit: 20,
  rateWindowSeconds: 300,
};

interface Rule {
  name: string;
  priority: number;
  statement: Record<string, unknown>;
  action?: unknown;
  visibilityConfig: { cloudwatchMetricsEnabled: boolean; sampledRequestsEnabled: boolean };
}

async function build(name: string, args: Partial<WafArgs> = {}) {
  const waf = new Waf(name, { ...defaults, ...args });
  await valueOf(waf.webAcl.arn);
  await settle();
  const mine = resources.filter((resource) => resource.name.startsWith(`${name}-`));
  const webAcl = ofType(mine, 'aws:wafv2/webAcl:WebAcl')[0]!;
  const rules = webAcl.inputs.rules as Rule[];
  return {
    waf,
    mine,
    webAcl,
    rules,
    rule: (ruleName: string) => rules.find((rule) => rule.name === ruleName),
  };
}

describe('Component: Waf', () => {
  it("is a REGIONAL WebACL that allows by default and is associated with the API stage's ARN", async () => {
    const functions = Object.fromEntries(
      (['mint', 'heartbeat', 'refresh', 'relay', 'admin'] as const).map((route) => [
        route,
        new aws.lambda.Function(`assoc-${route}`, {
          role: 'arn:aws:iam::123456789012:role/fake',
          runtime: 'nodejs22.x',
          handler: 'index.handler',
          code: new pulumi.asset.AssetArchive({}),
        }),
      ]),
    ) as Record<'mint' | 'heartbeat' | 'refresh' | 'relay' | 'admin', aws.lambda.Function>;
    const api = new Api('assoc-api', {
      functions,
      stageName: 'prod',
      throttle: { rateLimit: 10, burstLimit: 20 },
      logRetentionDays: 30,
    });
    const { mine, webAcl } = await build('assoc', { stageArn: api.stage.arn });
    const association = ofType(mine, 'aws:wafv2/webAclAssociation:WebAclAssociation')[0]!;
    expect(webAcl.inputs).toMatchObject({ scope: 'REGIONAL', defaultAction: { allow: {} } });
    expect(association.inputs.resourceArn).toBe(await valueOf(api.stage.arn));
    expect(association.inputs.resourceArn).toMatch(
      /^arn:aws:apigateway:us-east-1::\/restapis\/.+\/stages\/prod$/,
    );
    expect(association.inputs.webAclArn).toBe(webAcl.state.arn);
  });

  it('creates no IP set and no blocking allowlist rule when both allowlists are empty', async () => {
    const { mine, rules } = await build('open');
    expect(ofType(mine, 'aws:wafv2/ipSet:IpSet')).toHaveLength(0);
    expect(rules.map((rule) => rule.name)).not.toEqual(expect.arrayContaining(['client-allowlist']));
    expect(rules.map((rule) => rule.name)).not.toEqual(expect.arrayContaining(['admin-allowlist']));
  });

  it('blocks clients outside the mint allowlist, with one IP set per address family', async () => {
    const { mine, rule } = await build('client', { mintAllowlist: ['203.0.113.9/24', '2001:db8::/48'] });
    const sets = ofType(mine, 'aws:wafv2/ipSet:IpSet');
    expect(sets.map((set) => [set.inputs.ipAddressVersion, set.inputs.addresses])).toEqual([
      ['IPV4', ['203.0.113.0/24']],
      ['IPV6', ['2001:db8::/48']],
    ]);
    const statement = JSON.stringify(rule('client-allowlist')?.statement);
    for (const set of sets) expect(statement).toContain(`"arn":"${String(set.state.arn)}"`);
    expect(rule('client-allowlist')?.action).toMatchObject({
      block: { customResponse: { responseCode: 403 } },
    });
    expect(rule('admin-allowlist')).toBeUndefined();
  });

  it('uses only an IPv4 set when the allowlist has only IPv4 entries', async () => {
    const { mine, rule } = await build('v4only', { adminAllowlist: ['198.51.100.7'] });
    expect(ofType(mine, 'aws:wafv2/ipSet:IpSet').map((set) => set.inputs.ipAddressVersion)).toEqual(['IPV4']);
    expect(rule('admin-allowlist')).toBeDefined();
    expect(rule('client-allowlist')).toBeUndefined();
  });

  it('limits requests per IP with the configured limit and window', async () => {
    const { rule } = await build('rate', { rateLimit: 500, rateWindowSeconds: 60 });
    expect(rule('rate-per-ip')?.statement).toEqual({
      rateBasedStatement: { aggregateKeyType: 'IP', limit: 500, evaluationWindowSec: 60 },
    });
  });

  it('runs the AWS Common, KnownBadInputs and IP reputation managed groups', async () => {
    const { rules } = await build('managed');
    const groups = rules.flatMap((rule) => {
      const group = rule.statement.managedRuleGroupStatement as { name: string } | undefined;
      return group ? [group.name] : [];
    });
    expect(groups.sort()).toEqual([
      'AWSManagedRulesAmazonIpReputationList',
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
    ]);
  });

  it('blocks bodies over 64 KiB and lets WAF inspect that much of an API Gateway body', async () => {
    const { rule, webAcl } = await build('body');
    expect(rule('body-size')?.statement).toMatchObject({
      sizeConstraintStatement: {
        comparisonOperator: 'GT',
        size: MAX_BODY_BYTES,
        fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
      },
    });
    expect(webAcl.inputs.associationConfig).toEqual({
      requestBodies: [{ apiGateway: { defaultSizeInspectionLimit: 'KB_64' } }],
    });
  });

  it('records metrics and sampled requests for every rule and the WebACL', async () => {
    const { rules, webAcl } = await build('metrics', {
      mintAllowlist: ['10.0.0.0/8'],
      adminAllowlist: ['10.1.0.0/16'],
    });
    for (const rule of [...rules, webAcl.inputs as unknown as Rule]) {
      expect(rule.visibilityConfig).toMatchObject({
        cloudwatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
      });
    }
  });

  it.each([
    ['a rate limit under WAF’s minimum of 10', { rateLimit: 5 }, /rateLimit: 5/],
    ['a window WAF does not offer', { rateWindowSeconds: 30 as 60 }, /rateWindowSeconds: 30/],
    ['an allowlist entry that is not a CIDR', { mintAllowlist: ['10.0.0.0/0'] }, /^mintAllowlist: /],
  ])('refuses %s', (what, args, message) => {
    expect(() => new Waf(`bad-${what.replace(/\W+/g, '-')}`, { ...defaults, ...args })).toThrow(message);
  });
});
