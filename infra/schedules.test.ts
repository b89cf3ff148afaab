import * as aws from '@pulumi/aws';
import type { PolicyDocument } from './policies';
import { Schedules, type ScheduledJob } from './schedules';
import { ACCOUNT, REGION, ofType, setupMocks, settle } from './testing/mocks';

const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
/** The `live` alias's ARN: what schedules invoke, so a rollback of the alias applies to them too. */
const liveArn = (name: string) => `${fnArn(name)}:live`;

/** Schedules for a job list; each function's role is named `<function>-role`. */
async function build(jobNames: Array<[job: string, fn: string, expression: string]>) {
  const resources = setupMocks();
  const lambda = (name: string) =>
    new aws.lambda.Function(name, {
      role: 'arn:aws:iam::1:role/x',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
    });
  const fns = { rotate: lambda('rotate'), sweep: lambda('sweep'), mint: lambda('mint') };
  const live = (fn: aws.lambda.Function, name: string) =>
    new aws.lambda.Alias(`${name}-live`, { name: 'live', functionName: fn.arn, functionVersion: fn.version });
  const jobs: ScheduledJob[] = jobNames.map(([name, fn, expression]) => ({
    name,
    fn: fns[fn as keyof typeof fns],
    alias: live(fns[fn as keyof typeof fns], name),
    role: `${fn}-role`,
    expression,
    description: `${name} job`,
  }));
  const schedules = new Schedules('schedules', { jobs });
  await settle();
  return { resources, schedules };
}

// Registrations of the refused components finish after the test; let them, before jest tears down.
afterAll(() => settle());

describe('Schedules', () => {
  it('creates nothing while there is no job: no queue, no role, no schedule', async () => {
    const { resources, schedules } = await build([]);
    expect(
      resources.filter(
        (r) =>
          !['aws:lambda/function:Function', 'aws:lambda/alias:Alias'].includes(r.type) &&
          !r.type.startsWith('logfire-broker:'),
      ),
    ).toEqual([]);
    expect(schedules.deadLetterQueue).toBeUndefined();
  });

  describe('with a rotation and a sweep job', () => {
    let built: Awaited<ReturnType<typeof build>>;
    beforeAll(async () => {
      built = await build([
        ['rotation', 'rotate', 'rate(1 hour)'],
        ['sweep', 'sweep', 'rate(15 minutes)'],
      ]);
    });

    it("schedules each job on its own function's live alias, exactly on time, with retries and a dead-letter queue", () => {
      const [queue] = ofType(built.resources, 'aws:sqs/queue:Queue');
      const [role] = ofType(built.resources, 'aws:iam/role:Role');
      const schedules = ofType(built.resources, 'aws:scheduler/schedule:Schedule');
      expect(
        schedules.map((s) => [s.name, s.inputs.scheduleExpression, (s.inputs.target as { arn: string }).arn]),
      ).toEqual([
        ['schedules-rotation', 'rate(1 hour)', liveArn('rotate')],
        ['schedules-sweep', 'rate(15 minutes)', liveArn('sweep')],
      ]);
      for (const { inputs } of schedules) {
        expect(inputs.flexibleTimeWindow).toEqual({ mode: 'OFF' });
        expect(inputs.target).toMatchObject({
          roleArn: role!.state.arn,
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 },
          deadLetterConfig: { arn: queue!.state.arn },
        });
      }
    });

    it('encrypts the dead-letter queue', () => {
      const queues = ofType(built.resources, 'aws:sqs/queue:Queue');
      expect(queues).toHaveLength(1);
      expect(queues[0]!.inputs.sqsManagedSseEnabled).toBe(true);
      expect(built.schedules.deadLetterQueue).toBeDefined();
    });

    it('lets only EventBridge Scheduler, for this account, assume the role', () => {
      const [role] = ofType(built.resources, 'aws:iam/role:Role');
      expect(JSON.parse(role!.inputs.assumeRolePolicy as string).Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
        }),
      ]);
    });

    it('sends the failed runs of each job to the dead-letter queue, without a Lambda retry', () => {
      const [queue] = ofType(built.resources, 'aws:sqs/queue:Queue');
      const configs = ofType(
        built.resources,
        'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
      );
      // Per qualifier: a config on the unqualified function would not apply to runs of the alias.
      expect(configs.map((c) => [c.name, c.inputs.functionName, c.inputs.qualifier])).toEqual([
        ['schedules-rotation-invoke', 'rotate', 'live'],
        ['schedules-sweep-invoke', 'sweep', 'live'],
      ]);
      for (const { inputs } of configs) {
        expect(inputs).toMatchObject({
          maximumRetryAttempts: 0,
          maximumEventAgeInSeconds: 600,
          destinationConfig: { onFailure: { destination: queue!.state.arn } },
        });
      }
      expect(Object.keys(built.schedules.invokeConfigs)).toEqual(['rotation', 'sweep']);
    });

    it("lets each job's own role send to the dead-letter queue, and nothing else", () => {
      const [queue] = ofType(built.resources, 'aws:sqs/queue:Queue');
      const failures = ofType(built.resources, 'aws:iam/rolePolicy:RolePolicy').filter((p) =>
        p.name.endsWith('-failures'),
      );
      expect(failures.map((p) => p.inputs.role)).toEqual(['rotate-role', 'sweep-role']);
      for (const policy of failures) {
        expect((JSON.parse(policy.inputs.policy as string) as PolicyDocument).Statement).toEqual([
          expect.objectContaining({ Action: ['sqs:SendMessage'], Resource: [queue!.state.arn] }),
        ]);
      }
    });

    it('lets the scheduler invoke only the scheduled functions, and send only to its dead-letter queue', () => {
      const policy = ofType(built.resources, 'aws:iam/rolePolicy:RolePolicy').find(
        (p) => p.name === 'schedules-policy',
      );
      const [queue] = ofType(built.resources, 'aws:sqs/queue:Queue');
      const document = JSON.parse(policy!.inputs.policy as string) as PolicyDocument;
      expect(document.Statement.map((s) => [s.Action, s.Resource])).toEqual([
        [['lambda:InvokeFunction'], [liveArn('rotate'), liveArn('sweep')]],
        [['sqs:SendMessage'], [queue!.state.arn]],
      ]);
      expect(JSON.stringify(document)).not.toContain(fnArn('mint'));
    });
  });

  it('refuses two jobs of one name', async () => {
    setupMocks();
    const fn = new aws.lambda.Function('f', { role: 'r' });
    const alias = new aws.lambda.Alias('f-live', {
      name: 'live',
      functionName: fn.arn,
      functionVersion: '1',
    });
    const job = { name: 'sweep', fn, alias, role: 'f-role', expression: 'rate(1 hour)', description: '' };
    expect(() => new Schedules('s', { jobs: [job, job] })).toThrow('two jobs are named "sweep"');
    expect(
      () =>
        new Schedules('t', {
          jobs: [job],
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 10 },
        }),
    ).toThrow('maximumEventAgeInSeconds');
    expect(
      () =>
        new Schedules('u', {
          jobs: [job],
          invokePolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 },
        }),
    ).toThrow("the invoke policy's maximumRetryAttempts must be 0 to 2");
  });
});
