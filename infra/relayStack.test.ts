/**
 * The stack in relay mode (`ingestMode: relay`, docs/relay.md) against direct mode, under Pulumi mocks: the
 * relay's function, its routes with binary media types, the WAF rules that leave its binary bodies alone,
 * and a body bound that fits a Lambda's payload.
 */
import { RELAY_MAX_BODY_BYTES } from '../functions/core/relay';
import { binaryMediaTypesFor } from './api';
import { loadConfig } from './config';
import { ofType, setupMocks, settle, type RecordedResource } from './testing/mocks';
import { TokenBroker } from './tokenBroker';
import { RELAY_PATH_REGEX } from './wafRules';

const PROJECT_ID = '0b6e3f2a-5c4d-4e8f-9a1b-2c3d4e5f6a7b';
/** Lambda's synchronous invocation payload limit, in bytes (6 MB). */
const LAMBDA_PAYLOAD_LIMIT = 6_291_456;

async function deploy(config: Record<string, string>) {
  const resources = setupMocks({ logfireProjectId: PROJECT_ID, ...config }, 'prod');
  new TokenBroker('broker', loadConfig());
  await settle();
  return resources;
}

const fnNamed = (resources: RecordedResource[], handler: string) =>
  ofType(resources, 'aws:lambda/function:Function').find(
    (fn) => fn.inputs.name === `logfire-broker-prod-${handler}`,
  );
const envOf = (fn: RecordedResource | undefined) =>
  (fn?.inputs.environment as { variables: Record<string, string> } | undefined)?.variables;
const wafRules = (resources: RecordedResource[]) =>
  Object.fromEntries(
    (ofType(resources, 'aws:wafv2/webAcl:WebAcl')[0]!.inputs.rules as { name: string }[]).map((rule) => [
      rule.name,
      rule as Record<string, unknown>,
    ]),
  );
const relayPaths = ['/v1/traces', '/v1/logs', '/v1/metrics'];

afterAll(() => settle());

describe('Stack: ingestMode relay', () => {
  let relay: RecordedResource[];
  let direct: RecordedResource[];
  beforeAll(async () => {
    direct = await deploy({});
    relay = await deploy({
      ingestMode: 'relay',
      relayRequestsPerMinute: '30',
      relayBytesPerDay: '2MiB',
      relayStampIdentity: 'true',
      publicUrl: 'https://telemetry.example.com/',
    });
  });

  it('deploys the relay function only in relay mode, with the relay settings in every environment', () => {
    expect(fnNamed(direct, 'relay')).toBeUndefined();
    expect(envOf(fnNamed(direct, 'mint'))).toMatchObject({ BROKER_INGEST_MODE: 'direct' });

    for (const handler of ['relay', 'mint', 'refresh', 'rotate']) {
      expect(envOf(fnNamed(relay, handler))).toMatchObject({
        BROKER_INGEST_MODE: 'relay',
        BROKER_RELAY_REQUESTS_PER_MINUTE: '30',
        BROKER_RELAY_BYTES_PER_DAY: String(2 * 1024 * 1024),
        BROKER_RELAY_STAMP_IDENTITY: '1',
        BROKER_PUBLIC_URL: 'https://telemetry.example.com',
      });
    }
  });

  it('routes POST /v1/{traces,logs,metrics} to the relay function, in relay mode only', () => {
    const pathParts = (resources: RecordedResource[]) =>
      ofType(resources, 'aws:apigateway/resource:Resource').map((resource) =>
        String(resource.inputs.pathPart),
      );
    const permissions = ofType(relay, 'aws:lambda/permission:Permission');

    expect(pathParts(direct)).not.toEqual(expect.arrayContaining(['traces']));
    for (const path of relayPaths) {
      const grants = permissions.filter((p) => String(p.inputs.sourceArn).endsWith(`/POST${path}`));
      expect(grants.map((grant) => grant.inputs.function)).toEqual(['logfire-broker-prod-relay']);
    }
  });

  it('makes every media type binary in relay mode, so protobuf and gzip bodies reach the Lambda intact', () => {
    const [relayApi] = ofType(relay, 'aws:apigateway/restApi:RestApi');
    const [directApi] = ofType(direct, 'aws:apigateway/restApi:RestApi');

    expect(relayApi!.inputs.binaryMediaTypes).toEqual(['*/*']);
    expect(directApi!.inputs.binaryMediaTypes).toBeUndefined();
    // With compression on, API Gateway would inflate gzip bodies before the relay forwards them.
    expect(relayApi!.inputs.minimumCompressionSize).toBeUndefined();
  });

  it("keeps the relay's bodies out of the 64 KiB body rule and the body-matching managed rules", () => {
    const rules = wafRules(relay);
    const notRelay = {
      notStatement: {
        statement: { regexMatchStatement: expect.objectContaining({ regexString: RELAY_PATH_REGEX }) },
      },
    };

    expect(rules['body-size']!.statement).toEqual({
      andStatement: { statements: [notRelay, { sizeConstraintStatement: expect.anything() }] },
    });
    for (const group of ['AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesCommonRuleSet']) {
      expect(rules[group]!.statement).toMatchObject({
        managedRuleGroupStatement: { scopeDownStatement: notRelay },
      });
    }
    // Where the request comes from still matters for the relay: IP reputation applies to every route.
    expect(
      (rules['AWSManagedRulesAmazonIpReputationList']!.statement as Record<string, Record<string, unknown>>)
        .managedRuleGroupStatement!.scopeDownStatement,
    ).toBeUndefined();
  });

  it('leaves the WAF rules of direct mode as they were', () => {
    const rules = wafRules(direct);

    expect(rules['body-size']!.statement).toEqual({ sizeConstraintStatement: expect.anything() });
    expect(JSON.stringify(rules)).not.toContain(RELAY_PATH_REGEX);
  });

  it('matches the relay routes with the stage in the path or without (a custom domain)', () => {
    const regex = new RegExp(RELAY_PATH_REGEX);

    for (const path of ['/api/v1/traces', '/v1/logs', '/prod/v1/metrics'])
      expect(regex.test(path)).toBe(true);
    for (const path of ['/v1/tokens', '/api/v1/traces/x', '/v1/admin/traces'])
      expect(regex.test(path)).toBe(false);
  });
});

describe('RELAY_MAX_BODY_BYTES', () => {
  it("fits a Lambda's 6 MB payload once API Gateway has base64-encoded it, with room for the event", () => {
    const encoded = Math.ceil(RELAY_MAX_BODY_BYTES / 3) * 4;

    expect(encoded + 256 * 1024).toBeLessThan(LAMBDA_PAYLOAD_LIMIT);
  });

  it('is only binary where a route says so', () => {
    expect(binaryMediaTypesFor([{ name: 'mint', method: 'POST', path: '/v1/tokens', auth: 'none' }])).toEqual(
      [],
    );
  });
});
