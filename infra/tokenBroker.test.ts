import * as pulumi from '@pulumi/pulumi';
import { ROUTES } from '../functions/http/routes';
import { loadConfig } from './config';
import { HANDLERS, type HandlerSpec, type ScheduleSpec } from './handlers';
import type { PolicyDocument } from './policies';
import { ACCOUNT, REGION, ofType, setupMocks, settle, valueOf, type RecordedResource } from './testing/mocks';
import { TokenBroker, type TokenBrokerArgs } from './tokenBroker';

const PROJECT_ID = '0b6e3f2a-5c4d-4e8f-9a1b-2c3d4e5f6a7b';
/** Distinctive, so a leak anywhere is found by a plain substring search. */
const CREDENTIAL = 'pylf_v1_us_FAKE_UPSTREAM_CREDENTIAL_9d2f7b31';
const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** The whole broker from stack config under fresh mocks; records each resource's parent. */
async function deploy(config: Record<string, string>, extra: Partial<TokenBrokerArgs> = {}) {
  const resources = setupMocks({ logfireProjectId: PROJECT_ID, ...config }, 'prod');
  const parents = new Map<string, string | undefined>();
  const recordParent: pulumi.ResourceTransformation = ({ name, opts }) => {
    parents.set(name, (opts.parent as { __name?: string } | undefined)?.__name);
    return undefined;
  };
  const broker = new TokenBroker(
    'broker',
    { ...loadConfig(), ...extra },
    { transformations: [recordParent] },
  );
  await settle();
  return { resources, parents, broker };
}

const envOf = (fn: RecordedResource) =>
  (fn.inputs.environment as { variables: Record<string, string> }).variables;

describe('TokenBroker', () => {
  let stack: Awaited<ReturnType<typeof deploy>>;
  beforeAll(async () => {
    stack = await deploy({ upstreamCredential: CREDENTIAL, alarmEmail: 'ops@example.com' });
  });

  it('is one component per concern, each a direct child of the broker', () => {
    const components = stack.resources.filter(
      (r) => r.type.startsWith('logfire-broker:') && r.name !== 'broker',
    );
    expect(components.map((c) => c.type.split(':')[2]).sort()).toEqual(
      ['Api', 'Functions', 'Monitoring', 'Schedules', 'Storage', 'UpstreamSecret', 'Waf'].sort(),
    );
    for (const component of components) expect(stack.parents.get(component.name)).toBe('broker');
  });

  it('creates every resource inside the broker component', () => {
    const outside = stack.resources.filter((r) => r.name !== 'broker' && !stack.parents.has(r.name));
    expect(outside.map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });

  it('uses plain @pulumi/aws resources only', () => {
    for (const { type } of stack.resources) expect(type).toMatch(/^(aws:|logfire-broker:)/);
  });

  it('puts no Lambda environment value near the upstream credential, even when the stack sets it', () => {
    const fns = ofType(stack.resources, 'aws:lambda/function:Function');
    expect(fns).toHaveLength(HANDLERS.length);
    for (const fn of fns) {
      for (const value of Object.values(envOf(fn))) {
        expect(value).not.toContain(CREDENTIAL);
        expect(value).not.toMatch(/pylf_v\d+_/);
      }
    }
  });

  it('writes the credential into exactly one resource: the secret version', () => {
    const holders = stack.resources.filter((r) => JSON.stringify(r.inputs).includes(CREDENTIAL));
    expect(holders.map((r) => r.type)).toEqual(['aws:secretsmanager/secretVersion:SecretVersion']);
  });

  it('points every function at the secret by ARN, and at the tokens table by name', () => {
    const [secret] = ofType(stack.resources, 'aws:secretsmanager/secret:Secret');
    for (const fn of ofType(stack.resources, 'aws:lambda/function:Function')) {
      expect(envOf(fn)).toMatchObject({
        BROKER_UPSTREAM_SECRET_ID: secret!.state.arn,
        BROKER_TABLE_NAME: 'logfire-broker-prod-tokens',
        BROKER_UPSTREAM: 'api-key',
        LOGFIRE_PROJECT_ID: PROJECT_ID,
      });
    }
  });

  it('lets API Gateway invoke each function on its own routes only', () => {
    const permissions = ofType(stack.resources, 'aws:lambda/permission:Permission');
    for (const route of ROUTES) {
      const handler = HANDLERS.find((h) => h.routes.includes(route.name))!;
      const path = `/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}`;
      const grants = permissions.filter((p) => String(p.inputs.sourceArn).endsWith(path));
      expect(grants.map((p) => p.inputs.function)).toEqual([`logfire-broker-prod-${handler.name}`]);
    }
  });

  it('protects the tables of a stack that is not dev', () => {
    const tables = ofType(stack.resources, 'aws:dynamodb/table:Table');
    expect(tables.map((t) => [t.inputs.name, t.inputs.deletionProtectionEnabled]).sort()).toEqual([
      ['logfire-broker-prod-tokens', true],
      ['logfire-broker-prod-tokens-audit', true],
    ]);
  });

  it('associates the WebACL with the API stage', () => {
    const [stage] = ofType(stack.resources, 'aws:apigateway/stage:Stage');
    const [association] = ofType(stack.resources, 'aws:wafv2/webAclAssociation:WebAclAssociation');
    expect(association!.inputs.resourceArn).toBe(stage!.state.arn);
  });

  it('exposes the URL, the table names, the secret ARN and the dashboard, and no secret value', async () => {
    const outputs = {
      apiUrl: await valueOf(stack.broker.apiUrl),
      tokensTableName: await valueOf(stack.broker.storage.tokens.name),
      auditTableName: await valueOf(stack.broker.storage.audit.name),
      upstreamSecretArn: await valueOf(stack.broker.upstreamSecret.arn),
      dashboardUrl: await valueOf(stack.broker.dashboardUrl),
    };
    expect(outputs).toEqual({
      apiUrl: expect.stringMatching(/^https:\/\/.+\/api$/),
      tokensTableName: 'logfire-broker-prod-tokens',
      auditTableName: 'logfire-broker-prod-tokens-audit',
      upstreamSecretArn: expect.stringMatching(/^arn:aws:secretsmanager:/),
      dashboardUrl: expect.stringMatching(/^https:\/\/.*console\.aws\.amazon\.com\/cloudwatch/),
    });
    expect(JSON.stringify(outputs)).not.toContain(CREDENTIAL);
  });

  describe('with scheduled jobs (a sample: the real list is empty until issue #4)', () => {
    const rotate: HandlerSpec = {
      name: 'rotate',
      description: 'marks due tokens for rotation',
      routes: [],
      tokens: { actions: ['dynamodb:Query', 'dynamodb:UpdateItem'], indexes: ['byRotateAt'] },
      readsUpstreamSecret: false,
      timeoutSeconds: 300,
    };
    const schedules: ScheduleSpec[] = [
      { name: 'rotation', handler: 'rotate', expression: 'rotationSchedule', description: 'rotation' },
    ];
    let jobs: Awaited<ReturnType<typeof deploy>>;
    beforeAll(async () => {
      jobs = await deploy(
        { rotationSchedule: 'rate(2 hours)' },
        { handlers: [...HANDLERS, rotate], schedules },
      );
    });

    it('schedules the job on its function with the configured expression', () => {
      const [schedule] = ofType(jobs.resources, 'aws:scheduler/schedule:Schedule');
      expect(schedule!.inputs).toMatchObject({
        scheduleExpression: 'rate(2 hours)',
        target: { arn: fnArn('broker-fn-rotate') },
      });
    });

    it('lets the scheduler invoke that function and no other', () => {
      const policy = ofType(jobs.resources, 'aws:iam/rolePolicy:RolePolicy').find(
        (p) => p.name === 'broker-schedules-policy',
      )!;
      const invoke = (JSON.parse(policy.inputs.policy as string) as PolicyDocument).Statement[0]!;
      expect(invoke.Resource).toEqual([fnArn('broker-fn-rotate')]);
    });

    it('gives a job no API route and a longer timeout than API functions may have', () => {
      const fn = ofType(jobs.resources, 'aws:lambda/function:Function').find(
        (f) => f.name === 'broker-fn-rotate',
      )!;
      expect(fn.inputs.timeout).toBe(300);
      const permissions = ofType(jobs.resources, 'aws:lambda/permission:Permission');
      expect(permissions.filter((p) => p.inputs.function === 'logfire-broker-prod-rotate')).toEqual([]);
    });

    it('watches the dead-letter queue', () => {
      const [queue] = ofType(jobs.resources, 'aws:sqs/queue:Queue');
      const alarms = ofType(jobs.resources, 'aws:cloudwatch/metricAlarm:MetricAlarm');
      expect(alarms.some((alarm) => JSON.stringify(alarm.inputs).includes(String(queue!.state.name)))).toBe(
        true,
      );
    });

    it('refuses a schedule that targets an API function', () => {
      setupMocks({ logfireProjectId: PROJECT_ID });
      const wrong: ScheduleSpec[] = [
        { name: 'oops', handler: 'mint', expression: 'sweepSchedule', description: '' },
      ];
      expect(() => new TokenBroker('b', { ...loadConfig(), schedules: wrong })).toThrow('serves API routes');
    });
  });
});

afterAll(() => settle());
