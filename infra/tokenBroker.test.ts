import type * as pulumi from '@pulumi/pulumi';
import { routesFor } from '../functions/http/routes';
import { loadConfig } from './config';
import { deployedHandlers, HANDLERS, type ScheduleSpec } from './handlers';
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
      [
        'AdminTotpSeedSecret',
        'Api',
        'Functions',
        'Monitoring',
        'Schedules',
        'Storage',
        'UpstreamSecret',
        'Waf',
      ].sort(),
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
    expect(fns).toHaveLength(deployedHandlers('direct').length);
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
    for (const route of routesFor('direct')) {
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

  it('tells every function its audit table and the lifecycle settings', () => {
    for (const fn of ofType(stack.resources, 'aws:lambda/function:Function')) {
      expect(envOf(fn)).toMatchObject({
        BROKER_AUDIT_TABLE_NAME: 'logfire-broker-prod-tokens-audit',
        BROKER_ROTATION_GRACE: '1d',
        BROKER_STALE_AFTER: '30d',
        BROKER_AUDIT_RETENTION: '365d',
      });
    }
  });

  describe('scheduled jobs', () => {
    const policies = () => ofType(stack.resources, 'aws:iam/rolePolicy:RolePolicy');
    const documentOf = (name: string) =>
      JSON.parse(policies().find((p) => p.name === name)!.inputs.policy as string) as PolicyDocument;
    const queue = () => ofType(stack.resources, 'aws:sqs/queue:Queue')[0]!;

    it('runs rotation hourly on the rotate function and the sweep every 15 minutes on the sweep function', () => {
      const schedules = ofType(stack.resources, 'aws:scheduler/schedule:Schedule');
      expect(
        schedules.map((s) => [s.inputs.scheduleExpression, (s.inputs.target as { arn: string }).arn]),
      ).toEqual([
        ['rate(1 hour)', fnArn('broker-fn-rotate')],
        ['rate(15 minutes)', fnArn('broker-fn-sweep')],
      ]);
    });

    it('lets the scheduler invoke rotate and sweep, and no API function', () => {
      const [invoke, deadLetters] = documentOf('broker-schedules-policy').Statement;
      expect(invoke).toMatchObject({
        Action: ['lambda:InvokeFunction'],
        Resource: [fnArn('broker-fn-rotate'), fnArn('broker-fn-sweep')],
      });
      expect(deadLetters).toMatchObject({ Action: ['sqs:SendMessage'], Resource: [queue().state.arn] });
    });

    it('sends failed runs of both jobs to the dead-letter queue, with no Lambda retry', () => {
      const configs = ofType(
        stack.resources,
        'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
      );
      expect(configs.map((c) => c.inputs.functionName).sort()).toEqual([
        'logfire-broker-prod-rotate',
        'logfire-broker-prod-sweep',
      ]);
      for (const { inputs } of configs) {
        expect(inputs).toMatchObject({
          maximumRetryAttempts: 0,
          destinationConfig: { onFailure: { destination: queue().state.arn } },
        });
      }
    });

    it("lets only the jobs' roles send to the dead-letter queue", () => {
      const roles = ofType(stack.resources, 'aws:iam/role:Role');
      const senders = policies().filter((p) => p.inputs.policy?.toString().includes('sqs:SendMessage'));
      const roleOf = (policy: RecordedResource) => roles.find((r) => r.state.name === policy.inputs.role)!;
      expect(senders.map((p) => roleOf(p).name).sort()).toEqual([
        'broker-fn-rotate-role',
        'broker-fn-sweep-role',
        'broker-schedules-role',
      ]);
    });

    it('gives the jobs Query on the indexes they read, and on no other', () => {
      const indexesOf = (handler: string) =>
        documentOf(`broker-fn-${handler}-policy`)
          .Statement.flatMap((s) => s.Resource ?? [])
          .filter((arn) => arn.includes('/index/'))
          .map((arn) => arn.split('/index/')[1])
          .sort();
      expect(indexesOf('rotate')).toEqual(['byRotateAt']);
      // byInstall and the audit table's byTime: the anomaly rules.
      expect(indexesOf('sweep')).toEqual([
        'byChain',
        'byDeleteAt',
        'byExpireAt',
        'byInstall',
        'byRelayAt',
        'bySeenAt',
        'byTime',
        'byUpstreamId',
      ]);
      for (const handler of ['mint', 'heartbeat', 'refresh']) expect(indexesOf(handler)).toEqual([]);
    });

    it('lets no role update or delete an audit entry', () => {
      const auditArn = String(
        ofType(stack.resources, 'aws:dynamodb/table:Table').find((t) =>
          String(t.inputs.name).endsWith('-audit'),
        )!.state.arn,
      );
      const writers = new Set<string>();
      for (const policy of policies()) {
        const document = JSON.parse(policy.inputs.policy as string) as PolicyDocument;
        for (const statement of document.Statement) {
          if (!(statement.Resource ?? []).some((arn) => arn.startsWith(auditArn))) continue;
          writers.add(policy.name);
          expect(statement.Action).not.toContain('dynamodb:UpdateItem');
          expect(statement.Action).not.toContain('dynamodb:DeleteItem');
          expect(statement.Action.some((action) => action.includes('*'))).toBe(false);
        }
      }
      expect(writers).toContain('broker-fn-rotate-policy');
      expect(writers).toContain('broker-fn-sweep-policy');
    });

    it('gives the jobs no API route and a longer timeout than API functions may have', () => {
      const fns = ofType(stack.resources, 'aws:lambda/function:Function');
      const timeout = (name: string) => fns.find((f) => f.name === `broker-fn-${name}`)!.inputs.timeout;
      expect([timeout('rotate'), timeout('sweep')]).toEqual([300, 600]);
      const permissions = ofType(stack.resources, 'aws:lambda/permission:Permission');
      expect(
        permissions.filter((p) => /-(rotate|sweep)$/.test(String(p.inputs.function))).map((p) => p.name),
      ).toEqual([]);
    });

    it('watches the dead-letter queue', () => {
      const alarms = ofType(stack.resources, 'aws:cloudwatch/metricAlarm:MetricAlarm');
      expect(
        alarms.filter((alarm) => JSON.stringify(alarm.inputs).includes(String(queue().state.name))),
      ).toHaveLength(1);
    });

    it('schedules a job at the configured expression', async () => {
      const custom = await deploy({
        rotationSchedule: 'rate(2 hours)',
        sweepSchedule: 'cron(0/5 * * * ? *)',
      });
      expect(
        ofType(custom.resources, 'aws:scheduler/schedule:Schedule').map((s) => s.inputs.scheduleExpression),
      ).toEqual(['rate(2 hours)', 'cron(0/5 * * * ? *)']);
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
