import { MAX_BODY_BYTES } from '../functions/http/reply';
import { parseCidr } from '../functions/core/cidr';
import {
  ADMIN_PATH_REGEX,
  buildWafRules,
  customResponseBodies,
  splitAllowlist,
  validateRate,
  type WafRuleOptions,
} from './wafRules';

const base: WafRuleOptions<string> = {
  clientIpSets: {},
  adminIpSets: {},
  rateLimit: 100,
  mintRateLimit: 20,
  rateWindowSeconds: 300,
  metricPrefix: 'broker',
};

const byName = (rules: ReturnType<typeof buildWafRules<string>>) =>
  Object.fromEntries(rules.map((rule) => [rule.name, rule]));

describe('Function: parseCidr', () => {
  it.each([
    ['203.0.113.7/24', '203.0.113.0/24'],
    ['198.51.100.7', '198.51.100.7/32'],
    ['2001:DB8:0::1', '2001:db8::1/128'],
    ['2001:0db8:85a3::8a2e:370:7334/32', '2001:db8::/32'],
    ['::ffff:192.0.2.1/128', '::ffff:c000:201/128'],
  ])('rewrites %s to the network address %s', (entry, cidr) => {
    expect(parseCidr(entry)?.cidr).toBe(cidr);
  });

  it.each([
    '0.0.0.0/0',
    '::/0',
    '10.0.0.0/33',
    '2001:db8::/129',
    'example.com',
    '10.0.0.0/8/1',
    'fe80::1%eth0',
    '10.0.0/8',
  ])('refuses %s', (entry) => {
    expect(parseCidr(entry)).toBeUndefined();
  });
});

describe('Function: splitAllowlist', () => {
  it('splits IPv4 from IPv6, because a WAF IP set holds one address family', () => {
    expect(splitAllowlist(['203.0.113.0/24', '2001:db8::/32', '198.51.100.1'], 'mintAllowlist')).toEqual({
      v4: ['203.0.113.0/24', '198.51.100.1/32'],
      v6: ['2001:db8::/32'],
    });
  });

  it('names the config key when an entry is not a CIDR', () => {
    expect(() => splitAllowlist(['10.0.0.0/0'], 'adminAllowlist')).toThrow(
      /^adminAllowlist: "10\.0\.0\.0\/0"/,
    );
  });
});

describe('Function: buildWafRules', () => {
  it('creates no allowlist rule when both allowlists are empty (every address may call)', () => {
    const names = buildWafRules(base).map((rule) => rule.name);
    expect(names).not.toContain('client-allowlist');
    expect(names).not.toContain('admin-allowlist');
  });

  it('blocks non-admin requests from addresses outside both client IP sets', () => {
    const rule = byName(buildWafRules({ ...base, clientIpSets: { v4: 'arn:v4', v6: 'arn:v6' } }))[
      'client-allowlist'
    ]!;
    expect(rule.action).toMatchObject({ block: { customResponse: { responseCode: 403 } } });
    expect(rule.statement).toEqual({
      andStatement: {
        statements: [
          {
            notStatement: { statement: expect.objectContaining({ regexMatchStatement: expect.anything() }) },
          },
          { notStatement: { statement: { ipSetReferenceStatement: { arn: 'arn:v4' } } } },
          { notStatement: { statement: { ipSetReferenceStatement: { arn: 'arn:v6' } } } },
        ],
      },
    });
  });

  it('blocks admin requests from addresses outside the admin IP set, and only admin requests', () => {
    const rule = byName(buildWafRules({ ...base, adminIpSets: { v6: 'arn:admin-v6' } }))['admin-allowlist']!;
    expect(rule.statement.andStatement?.statements).toEqual([
      expect.objectContaining({
        regexMatchStatement: expect.objectContaining({ regexString: ADMIN_PATH_REGEX }),
      }),
      { notStatement: { statement: { ipSetReferenceStatement: { arn: 'arn:admin-v6' } } } },
    ]);
  });

  it.each([
    ['/prod/v1/admin/tokens', true],
    ['/v1/admin/tokens/tok_1/revoke', true],
    ['/prod/v1/admin', true],
    ['/prod/v1/tokens', false],
    ['/prod/v1/tokens//v1/admin/heartbeat', false],
    ['/prod/v1/administrators', false],
  ])('treats %s as an admin path: %s', (path, admin) => {
    expect(new RegExp(ADMIN_PATH_REGEX).test(path)).toBe(admin);
  });

  it('limits mints (POST /v1/tokens, with or without the stage) per IP more tightly than other routes', () => {
    const rule = byName(buildWafRules({ ...base, mintRateLimit: 30, rateWindowSeconds: 60 }))[
      'mint-rate-per-ip'
    ]!;
    const rate = rule.statement.rateBasedStatement!;
    expect(rate).toMatchObject({ aggregateKeyType: 'IP', limit: 30, evaluationWindowSec: 60 });
    const [method, path] = rate.scopeDownStatement!.andStatement!.statements;
    expect(method!.byteMatchStatement).toMatchObject({
      searchString: 'POST',
      positionalConstraint: 'EXACTLY',
    });
    const mintPath = new RegExp(path!.regexMatchStatement!.regexString);
    for (const p of ['/v1/tokens', '/prod/v1/tokens', '/v1/tokens/']) expect(mintPath.test(p)).toBe(true);
    for (const p of ['/v1/tokens/tok_x/heartbeat', '/v1/tokens/tok_x/refresh', '/v1/admin/tokens']) {
      expect(mintPath.test(p)).toBe(false);
    }
    expect(rule.action?.block.customResponse.responseCode).toBe(429);
    expect(() => buildWafRules({ ...base, mintRateLimit: 5 })).toThrow(/rateLimit/);
  });

  it('limits each IP to the configured requests per window, with 429 and Retry-After', () => {
    const rule = byName(buildWafRules({ ...base, rateLimit: 250, rateWindowSeconds: 120 }))['rate-per-ip']!;
    expect(rule.statement).toEqual({
      rateBasedStatement: { aggregateKeyType: 'IP', limit: 250, evaluationWindowSec: 120 },
    });
    expect(rule.action).toEqual({
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: 'rate-limited',
          responseHeaders: [{ name: 'Retry-After', value: '120' }],
        },
      },
    });
  });

  it('blocks bodies over 64 KiB (MAX_BODY_BYTES), including bodies too large for WAF to inspect', () => {
    const rule = byName(buildWafRules(base))['body-size']!;
    expect(MAX_BODY_BYTES).toBe(64 * 1024);
    expect(rule.statement).toMatchObject({
      sizeConstraintStatement: {
        comparisonOperator: 'GT',
        size: MAX_BODY_BYTES,
        fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
      },
    });
    expect(rule.action).toMatchObject({ block: { customResponse: { responseCode: 413 } } });
  });

  it('runs the AWS managed Common, KnownBadInputs and IP reputation groups with their own actions', () => {
    const rules = byName(buildWafRules(base));
    for (const name of [
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'AWSManagedRulesAmazonIpReputationList',
    ]) {
      expect(rules[name]).toMatchObject({
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      });
    }
  });

  it("only counts the Common group's 8 KB body rule, so valid mints up to 64 KiB pass", () => {
    const common = byName(buildWafRules(base))['AWSManagedRulesCommonRuleSet']!;
    expect(common.statement).toMatchObject({
      managedRuleGroupStatement: {
        ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
      },
    });
  });

  it('has unique priorities, body size before the managed groups, and metrics and samples on every rule', () => {
    const rules = buildWafRules({ ...base, clientIpSets: { v4: 'a' }, adminIpSets: { v4: 'b' } });
    expect(new Set(rules.map((rule) => rule.priority)).size).toBe(rules.length);
    const rank = Object.fromEntries(rules.map((rule) => [rule.name, rule.priority]));
    expect(rank['body-size']).toBeLessThan(rank['AWSManagedRulesCommonRuleSet']!);
    for (const rule of rules) {
      expect(rule.visibilityConfig).toEqual({
        cloudwatchMetricsEnabled: true,
        metricName: expect.stringMatching(/^broker-[A-Za-z0-9_-]+$/),
        sampledRequestsEnabled: true,
      });
    }
    const metricNames = rules.map((rule) => rule.visibilityConfig.metricName);
    expect(new Set(metricNames).size).toBe(rules.length);
  });

  it('answers every custom block with a JSON body in the broker error shape', () => {
    const keys = customResponseBodies().map((body) => body.key);
    const rules = buildWafRules({ ...base, clientIpSets: { v4: 'a' }, adminIpSets: { v4: 'b' } });
    for (const rule of rules) {
      const key = rule.action?.block.customResponse.customResponseBodyKey;
      if (key) expect(keys).toContain(key);
    }
    for (const body of customResponseBodies()) {
      expect(JSON.parse(body.content)).toEqual({
        error: { code: expect.any(String), message: expect.any(String) },
      });
    }
  });
});

describe('Function: validateRate', () => {
  it.each([
    [9, 300, /rateLimit: 9/],
    [10.5, 300, /rateLimit/],
    [100, 90, /rateWindowSeconds: 90 must be one of 60, 120, 300, 600/],
  ])('refuses limit %s per %s s', (limit, window, message) => {
    expect(() => validateRate(limit, window)).toThrow(message);
  });

  it('accepts WAF’s minimum of 10 requests', () => {
    expect(() => validateRate(10, 60)).not.toThrow();
  });
});
