import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANDLERS } from './handlers';
import { SETTING_KEYS, parseSettings, tableNames } from './settings';

const PROJECT_ID = '0b6e3f2a-5c4d-4e8f-9a1b-2c3d4e5f6a7b';
const context = { stack: 'prod', project: 'logfire-broker', handlerNames: HANDLERS.map((h) => h.name) };
const parse = (
  raw: Record<string, string>,
  overrides: Partial<typeof context> & { awsRegion?: string } = {},
) => parseSettings({ logfireProjectId: PROJECT_ID, ...raw }, { ...context, ...overrides });

describe('Method: parseSettings', () => {
  it('reads the anomaly rules as a map, each rule given replacing its default', () => {
    const { anomalies } = parse({
      anomalies: '{"install-networks": "2:revoke", "window": "5m", "relay-volume": "off"}',
    });
    expect(anomalies.windowMs).toBe(5 * 60_000);
    expect(anomalies.rules['install-networks']).toEqual({ threshold: 2, action: 'revoke', dryRun: false });
    expect(anomalies.rules['secret-reuse']).toEqual({ threshold: 0, action: 'flag', dryRun: false });
    expect(anomalies.rules).not.toHaveProperty('relay-volume');
  });

  it.each([
    [
      '{"install-network": "2:pause"}',
      /^logfire-broker:anomalies names "install-network", which is not one of/,
    ],
    ['{"secret-reuse": 3}', /^logfire-broker:anomalies secret-reuse must be a string like "20:pause"/],
    ['{"secret-reuse": "3:drop"}', /^logfire-broker:anomalies secret-reuse: expected <threshold>/],
    ['{"window": "2h"}', /^logfire-broker:anomalies window must be a duration from 1m to 1h/],
    ['["3:pause"]', /^logfire-broker:anomalies must be a map/],
    ['{', /^logfire-broker:anomalies is not valid JSON/],
  ])('refuses anomalies %s, naming the key', (text, message) => {
    expect(() => parse({ anomalies: text })).toThrow(message);
  });

  it('has the documented defaults', () => {
    const settings = parse({});
    expect(settings).toMatchObject({
      namePrefix: 'logfire-broker-prod',
      upstream: { kind: 'api-key', projectId: PROJECT_ID },
      tokenTtlMs: 14 * 86_400_000,
      rotateAfterMs: 7 * 86_400_000,
      heartbeatIntervalMs: 6 * 3_600_000,
      idempotencyWindowMs: 600_000,
      rotationGraceMs: 24 * 3_600_000,
      staleAfterMs: 30 * 86_400_000,
      auditRetentionMs: 365 * 86_400_000,
      logLevel: 'INFO',
      lambda: { memoryMb: 256, timeoutSeconds: 29, reservedConcurrency: {} },
      logRetentionDays: 30,
      protect: true,
      api: {
        stageName: 'api',
        throttleRateLimit: 100,
        throttleBurstLimit: 200,
        manageAccountLogRole: 'auto',
        disableExecuteApiEndpoint: false,
      },
      waf: {
        mintAllowlist: [],
        adminAllowlist: [],
        rateLimit: 300,
        rateWindowSeconds: 300,
        logging: false,
        ruleVersions: {},
      },
      alarms: { mintPerMinute: 60, wafBlockedPercent: 20 },
      tracing: false,
      schedules: { rotationSchedule: 'rate(1 hour)', sweepSchedule: 'rate(15 minutes)' },
    });
    expect(settings.kmsKeyArn).toBeUndefined();
    expect(settings.logfireBaseUrl).toBeUndefined();
  });

  it('reads the lifecycle settings, and lets the old upstream token go without grace', () => {
    expect(parse({ rotationGrace: '0s', staleAfter: '13h', auditRetention: '90d' })).toMatchObject({
      rotationGraceMs: 0,
      staleAfterMs: 13 * 3_600_000,
      auditRetentionMs: 90 * 86_400_000,
    });
  });

  it('protects data by default on every stack but dev', () => {
    expect(parse({}, { stack: 'prod' }).protect).toBe(true);
    expect(parse({}, { stack: 'dev' }).protect).toBe(false);
    expect(parse({ protect: 'true' }, { stack: 'dev' }).protect).toBe(true);
  });

  it('reads the user-token upstream, lists, maps and a region', () => {
    const settings = parseSettings(
      {
        upstreamKind: 'user-token',
        logfireOrg: 'acme',
        logfireProject: 'cli-telemetry',
        logfireRegion: 'eu',
        mintAllowlist: '["203.0.113.0/24", "2001:db8::/32"]',
        adminAllowlist: '198.51.100.7/32, 192.0.2.0/24',
        reservedConcurrency: '{"mint": 20, "heartbeat": 0}',
      },
      context,
    );
    expect(settings.upstream).toEqual({ kind: 'user-token', organization: 'acme', project: 'cli-telemetry' });
    expect(settings.logfireBaseUrl).toBe('https://logfire-eu.pydantic.dev');
    expect(settings.waf.mintAllowlist).toEqual(['203.0.113.0/24', '2001:db8::/32']);
    expect(settings.waf.adminAllowlist).toEqual(['198.51.100.7/32', '192.0.2.0/24']);
    expect(settings.lambda.reservedConcurrency).toEqual({ mint: 20, heartbeat: 0 });
  });

  it.each([
    [
      'a bad CIDR',
      { mintAllowlist: '["10.0.0.0/33"]' },
      /^logfire-broker:mintAllowlist entry "10.0.0.0\/33"/,
    ],
    [
      'a CIDR of /0',
      { adminAllowlist: '["0.0.0.0/0"]' },
      /^logfire-broker:adminAllowlist entry "0.0.0.0\/0"/,
    ],
    [
      'rateLimit 5',
      { rateLimit: '5' },
      /^logfire-broker:rateLimit must be at least 10 \(WAF minimum\), got 5$/,
    ],
    [
      'rateWindowSeconds 90',
      { rateWindowSeconds: '90' },
      /^logfire-broker:rateWindowSeconds must be one of 60, 120, 300, 600/,
    ],
    [
      'a bad duration',
      { tokenTtl: '2 weeks' },
      /^logfire-broker:tokenTtl must be a duration like 30s, 6h or 14d, got "2 weeks"$/,
    ],
    [
      'rotateAfter ≥ tokenTtl',
      { tokenTtl: '7d', rotateAfter: '7d' },
      /^logfire-broker:rotateAfter must be shorter than tokenTtl/,
    ],
    [
      'an unknown upstreamKind',
      { upstreamKind: 'dev' },
      /^logfire-broker:upstreamKind must be one of api-key, user-token, got "dev"$/,
    ],
    [
      'a project id that is no UUID',
      { logfireProjectId: 'my project' },
      /^logfire-broker:logfireProjectId must be the project UUID/,
    ],
    [
      'an org with an API key',
      { logfireOrg: 'acme' },
      /^logfire-broker:logfireOrg is not used with upstreamKind api-key/,
    ],
    [
      'a typo in a key',
      { ratelimit: '100' },
      /^logfire-broker:ratelimit is not a setting of this stack; did you mean rateLimit\?$/,
    ],
    [
      'a retention CloudWatch refuses',
      { logRetentionDays: '10' },
      /^logfire-broker:logRetentionDays must be one of 1, 3, 5/,
    ],
    [
      "a timeout over API Gateway's",
      { lambdaTimeoutSeconds: '30' },
      /^logfire-broker:lambdaTimeoutSeconds must be at most 29 \(API Gateway's limit\), got 30$/,
    ],
    [
      'a timeout within upstreamTimeout',
      { lambdaTimeoutSeconds: '5' },
      /^logfire-broker:lambdaTimeoutSeconds must be longer than upstreamTimeout \(5s\)/,
    ],
    [
      'a region and a base URL',
      { logfireRegion: 'us', logfireBaseUrl: 'https://x.example' },
      /^logfire-broker:logfireBaseUrl and logfireRegion are both set/,
    ],
    [
      'an http base URL',
      { logfireBaseUrl: 'http://logfire.example' },
      /^logfire-broker:logfireBaseUrl must be an https:\/\/ URL/,
    ],
    ['an unknown region', { logfireRegion: 'ap' }, /^logfire-broker:logfireRegion must be one of us, eu/],
    [
      'a region named like a JS property',
      { logfireRegion: 'toString' },
      /^logfire-broker:logfireRegion must be/,
    ],
    [
      'a KMS alias',
      { kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/x' },
      /^logfire-broker:kmsKeyArn must be a key ARN/,
    ],
    [
      'a bad e-mail',
      { alarmEmail: 'ops at example' },
      /^logfire-broker:alarmEmail is not an e-mail address, got "ops at example"$/,
    ],
    [
      'a plural rate of 1',
      { rotationSchedule: 'rate(1 hours)' },
      /^logfire-broker:rotationSchedule must say rate\(1 hour\)/,
    ],
    [
      'a 5-field cron',
      { sweepSchedule: 'cron(0 * * * ?)' },
      /^logfire-broker:sweepSchedule has 5 cron fields/,
    ],
    [
      'reserved concurrency for no handler',
      { reservedConcurrency: '{"ingest": 1}' },
      /^logfire-broker:reservedConcurrency names "ingest"/,
    ],
    [
      'a client silence shorter than two heartbeats',
      { heartbeatInterval: '12h', staleAfter: '23h' },
      /^logfire-broker:staleAfter must be at least 2 × heartbeatInterval \(1d\), or a client that misses one heartbeat loses its token, got 23h$/,
    ],
    [
      'an audit retention under a day',
      { auditRetention: '12h' },
      /^logfire-broker:auditRetention must be at least 1d, got 12h$/,
    ],
    [
      'a rotation grace that is no duration',
      { rotationGrace: '1 day' },
      /^logfire-broker:rotationGrace must be a duration like 30s, 6h or 14d, got "1 day"$/,
    ],
    [
      'a non-boolean protect',
      { protect: 'yes' },
      /^logfire-broker:protect must be true or false, got "yes"$/,
    ],
    // Rules of the Lambdas' own config reader (functions/config.ts), reported under the stack's key.
    [
      'a token TTL under a minute',
      { tokenTtl: '30s', rotateAfter: '10s' },
      /^logfire-broker:tokenTtl must be at least 1m/,
    ],
    [
      'an upstream timeout under 100ms',
      { upstreamTimeout: '50ms' },
      /^logfire-broker:upstreamTimeout must be at least 100ms/,
    ],
  ])('refuses %s with a message naming the key', (_case, raw, message) => {
    expect(() => parse(raw as Record<string, string>)).toThrow(message);
  });

  it('requires the project id with an API key, and org and project with a user token', () => {
    expect(() => parseSettings({}, context)).toThrow(
      /^logfire-broker:logfireProjectId is required with upstreamKind api-key: pulumi config set logfireProjectId/,
    );
    expect(() => parseSettings({ upstreamKind: 'user-token', logfireProject: 'p' }, context)).toThrow(
      /^logfire-broker:logfireOrg is required with upstreamKind user-token/,
    );
  });

  it('refuses a customer managed key from another region than the stack', () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(parse({ kmsKeyArn }, { awsRegion: 'eu-west-1' }).kmsKeyArn).toBe(kmsKeyArn);
    expect(() => parse({ kmsKeyArn }, { awsRegion: 'us-east-1' })).toThrow(
      /^logfire-broker:kmsKeyArn is in eu-west-1/,
    );
  });
});

describe('Names', () => {
  it('derives table names the code finds by convention', () => {
    expect(tableNames({ namePrefix: 'logfire-broker-prod' })).toEqual({
      tokens: 'logfire-broker-prod-tokens',
      audit: 'logfire-broker-prod-tokens-audit',
    });
  });
});

describe("README's stack settings", () => {
  it('lists every setting', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Stack settings'), readme.indexOf('### Updating'));
    for (const key of SETTING_KEYS) expect(section).toContain(`\`${key}\``);
  });
});

describe('Pulumi.dev.yaml', () => {
  const text = readFileSync(join(__dirname, '..', 'Pulumi.dev.yaml'), 'utf8');

  it('documents every setting', () => {
    for (const key of SETTING_KEYS) expect(text).toMatch(new RegExp(`^ {2}(# )?logfire-broker:${key}:`, 'm'));
  });

  it('holds values the stack accepts', () => {
    const raw: Record<string, string> = { logfireProjectId: PROJECT_ID };
    for (const [, key, value] of text.matchAll(/^ {2}logfire-broker:(\w+): *(.*)$/gm)) {
      raw[key!] = value!.replace(/^(["'])(.*)\1$/, '$2');
    }
    expect(Object.keys(raw).length).toBeGreaterThan(20);
    expect(() => parseSettings(raw, { ...context, stack: 'dev', awsRegion: 'us-east-1' })).not.toThrow();
  });
});

describe('Method: parseSettings, ingest relay', () => {
  it('is direct by default, with the relay settings the Lambdas default to', () => {
    expect(parse({})).toMatchObject({
      ingestMode: 'direct',
      relay: { requestsPerMinute: 120, bytesPerDay: 100 * 1024 * 1024, stampIdentity: false },
    });
  });

  it('reads relay mode, its quotas in sizes like 500KB or 2MiB, and an https public URL', () => {
    expect(
      parse({
        ingestMode: 'relay',
        relayRequestsPerMinute: '600',
        relayBytesPerDay: '500KB',
        relayStampIdentity: 'true',
        publicUrl: 'https://telemetry.example.com/',
      }),
    ).toMatchObject({
      ingestMode: 'relay',
      relay: {
        requestsPerMinute: 600,
        bytesPerDay: 500_000,
        stampIdentity: true,
        publicUrl: 'https://telemetry.example.com',
      },
    });
  });

  it.each([
    [{ ingestMode: 'proxy' }, /ingestMode/],
    [{ relayRequestsPerMinute: '0' }, /relayRequestsPerMinute/],
    [{ relayBytesPerDay: '100 megabytes' }, /relayBytesPerDay.*size/],
    [{ publicUrl: 'http://telemetry.example.com' }, /publicUrl.*https/],
  ])('refuses %j, naming the key', (raw, message) => {
    expect(() => parse(raw)).toThrow(message);
  });
});

describe('Method: parseSettings, production settings', () => {
  const zone = { domainName: 'broker.example.com', hostedZoneId: 'Z0123456789ABC' };

  it('reads a custom domain, and hands it out as the relay base URL unless publicUrl says otherwise', () => {
    const settings = parse({ ...zone, disableExecuteApiEndpoint: 'true' });
    expect(settings.api).toMatchObject({
      domain: { name: 'broker.example.com', hostedZoneId: 'Z0123456789ABC' },
      disableExecuteApiEndpoint: true,
    });
    expect(settings.relay.publicUrl).toBe('https://broker.example.com');
    expect(parse({ ...zone, publicUrl: 'https://t.example.com' }).relay.publicUrl).toBe(
      'https://t.example.com',
    );
  });

  it.each([
    [
      { domainName: 'broker.example.com' },
      /^logfire-broker:domainName needs certificateArn .* or hostedZoneId/,
    ],
    [{ disableExecuteApiEndpoint: 'true' }, /^logfire-broker:disableExecuteApiEndpoint needs domainName/],
    [{ hostedZoneId: 'Z0123456789ABC' }, /^logfire-broker:hostedZoneId is only used with domainName/],
    [
      { domainName: 'Broker.Example.com', hostedZoneId: 'Z1' },
      /^logfire-broker:domainName must be a lower-case host name/,
    ],
    [
      {
        domainName: 'broker.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      },
      /^logfire-broker:certificateArn is in us-east-1, but a REGIONAL custom domain needs a certificate in eu-west-1/,
    ],
    [
      { manageAccountLogRole: 'maybe' },
      /^logfire-broker:manageAccountLogRole must be one of auto, true, false/,
    ],
    [
      { wafRuleVersions: '{"AWSManagedRulesSQLiRuleSet": "Version_1.0"}' },
      /names "AWSManagedRulesSQLiRuleSet"/,
    ],
    [
      { wafRuleVersions: '{"AWSManagedRulesCommonRuleSet": "latest"}' },
      /must be a version like "Version_1.12"/,
    ],
    [{ wafBlockedAlarmPercent: '0' }, /^logfire-broker:wafBlockedAlarmPercent must be at least 1/],
  ])('refuses %j, naming the key', (raw, message) => {
    expect(() => parse(raw, { awsRegion: 'eu-west-1' })).toThrow(message);
  });

  it('reads the account log role as auto, true or false, WAF logging, pinned rule versions and tracing', () => {
    expect(parse({ manageAccountLogRole: 'false' }).api.manageAccountLogRole).toBe(false);
    expect(parse({ manageAccountLogRole: 'true' }).api.manageAccountLogRole).toBe(true);
    const settings = parse({
      wafLogging: 'true',
      wafRuleVersions: '{"AWSManagedRulesCommonRuleSet": "Version_1.12"}',
      tracing: 'true',
    });
    expect(settings.waf).toMatchObject({
      logging: true,
      ruleVersions: { AWSManagedRulesCommonRuleSet: 'Version_1.12' },
    });
    expect(settings.tracing).toBe(true);
  });
});
