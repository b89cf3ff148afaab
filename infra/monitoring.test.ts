import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ofType, settle, setupMocks, valueOf, type RecordedResource } from './testing/mocks';
import { Monitoring, type MonitoringArgs } from './monitoring';

const resources = setupMocks({}, 'prod');

const KEYS = ['mint', 'heartbeat', 'refresh'] as const;

function fakeFunctions(prefix: string): MonitoringArgs['functions'] {
  return Object.fromEntries(
    KEYS.map((key) => [
      key,
      {
        fn: new aws.lambda.Function(`${prefix}-${key}-fn`, {
          role: 'arn:aws:iam::123456789012:role/fake',
          runtime: 'nodejs22.x',
          handler: 'index.handler',
          code: new pulumi.asset.AssetArchive({}),
        }),
        logGroup: new aws.cloudwatch.LogGroup(`${prefix}-${key}-logs`, {
          name: `/aws/lambda/${prefix}-${key}`,
        }),
        timeoutSeconds: key === 'heartbeat' ? 10 : 29,
      },
    ]),
  );
}

async function build(name: string, args: Partial<MonitoringArgs> = {}) {
  const monitoring = new Monitoring(name, {
    restApiName: 'broker-api',
    stageName: 'prod',
    functions: fakeFunctions(name),
    mintAlarmPerMinute: 60,
    namePrefix: `${name}-prod`,
    ...args,
  });
  await valueOf(monitoring.dashboardUrl);
  await settle();
  const mine = resources.filter((resource) => resource.name.startsWith(`${name}-`));
  const alarms = ofType(mine, 'aws:cloudwatch/metricAlarm:MetricAlarm');
  const alarm = (key: string) => alarms.find((candidate) => candidate.name === `${name}-${key}`);
  return { monitoring, mine, alarms, alarm };
}

const dimensionsOf = (alarm: RecordedResource | undefined) =>
  alarm?.inputs.dimensions as Record<string, string>;

describe('Component: Monitoring', () => {
  it('alarms on the API 5xx rate with metric math over the stage, not breaching without traffic', async () => {
    const { alarm } = await build('rate');
    const queries = alarm('api-5xx-rate')?.inputs.metricQueries as {
      id: string;
      expression?: string;
      metric?: object;
    }[];
    expect(alarm('api-5xx-rate')?.inputs.treatMissingData).toBe('notBreaching');
    expect(queries.find((query) => query.id === 'rate')?.expression).toContain('errors / requests');
    for (const id of ['errors', 'requests']) {
      expect(queries.find((query) => query.id === id)?.metric).toMatchObject({
        namespace: 'AWS/ApiGateway',
        dimensions: { ApiName: 'broker-api', Stage: 'prod' },
      });
    }
  });

  it("alarms on each function's errors and throttles", async () => {
    const { alarm } = await build('fns');
    for (const key of KEYS) {
      expect(alarm(`${key}-errors`)?.inputs).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Errors' });
      expect(alarm(`${key}-throttles`)?.inputs).toMatchObject({
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
      });
      expect(dimensionsOf(alarm(`${key}-errors`))).toEqual({ FunctionName: `fns-${key}-fn` });
    }
  });

  it('alarms on messages sent to the dead-letter queue, only when a queue is given', async () => {
    const without = await build('nodlq');
    expect(without.alarm('dlq-messages')).toBeUndefined();
    const queue = new aws.sqs.Queue('withdlq-queue', {});
    const withQueue = await build('withdlq', { deadLetterQueue: queue });
    expect(withQueue.alarm('dlq-messages')?.inputs).toMatchObject({
      namespace: 'AWS/SQS',
      metricName: 'NumberOfMessagesSent',
      statistic: 'Sum',
      threshold: 0,
    });
    expect(dimensionsOf(withQueue.alarm('dlq-messages'))).toEqual({ QueueName: await valueOf(queue.name) });
  });

  it('pages when a job has not finished a run in twice its period: missing data is the failure', async () => {
    const jobs = [
      { name: 'rotation', runMessage: 'rotation run', expression: 'rate(1 hour)' },
      { name: 'sweep', runMessage: 'sweep run', expression: 'rate(15 minutes)' },
    ];
    const { alarm, mine } = await build('deadman', { jobs });
    expect(alarm('rotation-not-running')?.inputs).toMatchObject({
      namespace: 'LogfireBroker',
      metricName: 'RotationRuns',
      statistic: 'Sum',
      period: 7200,
      comparisonOperator: 'LessThanThreshold',
      threshold: 1,
      treatMissingData: 'breaching',
    });
    expect(alarm('sweep-not-running')?.inputs).toMatchObject({ metricName: 'SweepRuns', period: 1800 });
    const runs = ofType(mine, 'aws:cloudwatch/logMetricFilter:LogMetricFilter').filter(
      (f) => (f.inputs.metricTransformation as { name: string }).name === 'SweepRuns',
    );
    expect(runs[0]?.inputs.pattern).toBe('{ $.message = "sweep run" }');
  });

  it("alarms on each function's duration near its own timeout, and on DynamoDB throttling per table", async () => {
    const table = new aws.dynamodb.Table('throttle-tokens', { attributes: [], hashKey: 'pk' });
    const { alarm } = await build('slow', { tables: { tokens: table } });
    expect(alarm('heartbeat-near-timeout')?.inputs).toMatchObject({
      namespace: 'AWS/Lambda',
      metricName: 'Duration',
      statistic: 'Maximum',
      threshold: 9000,
    });
    expect(dimensionsOf(alarm('mint-near-timeout'))).toEqual({ FunctionName: 'slow-mint-fn' });
    expect(alarm('mint-near-timeout')?.inputs.threshold).toBe(26100);
    const queries = alarm('tokens-table-throttled')?.inputs.metricQueries as {
      id: string;
      metric?: { metricName: string; dimensions: object };
    }[];
    expect(queries.filter((q) => q.metric).map((q) => [q.metric!.metricName, q.metric!.dimensions])).toEqual([
      ['ReadThrottleEvents', { TableName: await valueOf(table.name) }],
      ['WriteThrottleEvents', { TableName: await valueOf(table.name) }],
    ]);
  });

  it("alarms on WAF's block rate with the WebACL's name and region, above a floor of requests", async () => {
    const { alarm } = await build('wafrate', { waf: { webAclName: 'broker-acl', blockedPercent: 30 } });
    const spec = alarm('waf-block-rate')?.inputs;
    expect(spec?.threshold).toBe(30);
    const queries = spec?.metricQueries as {
      id: string;
      expression?: string;
      metric?: { dimensions: object };
    }[];
    for (const id of ['blocked', 'allowed']) {
      expect(queries.find((q) => q.id === id)?.metric?.dimensions).toEqual({
        WebACL: 'broker-acl',
        Region: 'us-east-1',
        Rule: 'ALL',
      });
    }
    expect(queries.find((q) => q.id === 'rate')?.expression).toMatch(/>= 100/);
  });

  it('alarms when the mint function is invoked more often per minute than configured', async () => {
    const { alarm } = await build('spike', { mintAlarmPerMinute: 25 });
    expect(alarm('mint-spike')?.inputs).toMatchObject({
      metricName: 'Invocations',
      period: 60,
      threshold: 25,
    });
    expect(dimensionsOf(alarm('mint-spike'))).toEqual({ FunctionName: 'spike-mint-fn' });
  });

  it('sends every alarm, and its recovery, to the topic', async () => {
    const { alarms, mine } = await build('actions', { deadLetterQueue: new aws.sqs.Queue('actions-q', {}) });
    const topicArn = ofType(mine, 'aws:sns/topic:Topic')[0]!.state.arn;
    // API 5xx, errors, throttles and near-timeout per function, mint spike, and with the queue: messages
    // sent to it, two job alarms and the anomaly actions.
    expect(alarms.length).toBe(1 + 3 * KEYS.length + 1 + 4);
    for (const alarm of alarms) {
      expect(alarm.inputs.alarmActions).toEqual([topicArn]);
      expect(alarm.inputs.okActions).toEqual([topicArn]);
    }
  });

  it('subscribes the alarm e-mail address only when one is given', async () => {
    const quiet = await build('quiet');
    expect(ofType(quiet.mine, 'aws:sns/topicSubscription:TopicSubscription')).toHaveLength(0);
    const loud = await build('loud', { alarmEmail: 'ops@example.com' });
    expect(ofType(loud.mine, 'aws:sns/topicSubscription:TopicSubscription')[0]?.inputs).toMatchObject({
      protocol: 'email',
      endpoint: 'ops@example.com',
      topic: ofType(loud.mine, 'aws:sns/topic:Topic')[0]!.state.arn,
    });
  });

  it("turns every function's JSON log lines into LogfireBroker metrics", async () => {
    const { mine } = await build('filters');
    const filters = ofType(mine, 'aws:cloudwatch/logMetricFilter:LogMetricFilter');
    for (const key of KEYS) {
      const mineOnly = filters.filter(
        (filter) => filter.inputs.logGroupName === `/aws/lambda/filters-${key}`,
      );
      expect(
        mineOnly.map((filter) => (filter.inputs.metricTransformation as { name: string }).name).sort(),
      ).toEqual([
        'AnomalyActions',
        'AnomalyDryRuns',
        'Errors',
        'IncompleteJobRuns',
        'Mints',
        'Refreshes',
        'Revocations',
        'RotationRuns',
        'SweepRuns',
        'UpstreamDeleteFailures',
      ]);
    }
    const mints = filters.find(
      (filter) => (filter.inputs.metricTransformation as { name: string }).name === 'Mints',
    );
    expect(mints?.inputs).toMatchObject({
      pattern: '{ $.message = "token minted" }',
      metricTransformation: { namespace: 'LogfireBroker', value: '1' },
    });
  });

  it("counts the anomaly rules' actions and dry runs on the sweep's log group, and alarms on an action", async () => {
    const queue = new aws.sqs.Queue('anomaly-q', {});
    const { mine, alarm } = await build('anomaly', { deadLetterQueue: queue });
    const filters = ofType(mine, 'aws:cloudwatch/logMetricFilter:LogMetricFilter');
    const named = (metric: string) =>
      filters.filter((f) => (f.inputs.metricTransformation as { name: string }).name === metric);
    expect(named('AnomalyActions').map((f) => f.inputs)).toContainEqual(
      expect.objectContaining({
        pattern: '{ $.message = "anomaly action taken" }',
        metricTransformation: expect.objectContaining({ namespace: 'LogfireBroker', value: '1' }),
      }),
    );
    expect(named('AnomalyDryRuns')[0]?.inputs.pattern).toBe('{ $.message = "anomaly detected (dry run)" }');
    expect(named('AnomalyActions')).toHaveLength(KEYS.length);
    expect(alarm('anomaly-actions')?.inputs).toMatchObject({
      namespace: 'LogfireBroker',
      metricName: 'AnomalyActions',
      period: 900,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
    });
  });

  it('publishes a dashboard that parses and shows every function, and its console URL', async () => {
    const { mine, monitoring } = await build('board');
    const dashboard = ofType(mine, 'aws:cloudwatch/dashboard:Dashboard')[0]!;
    const body = JSON.parse(String(dashboard.inputs.dashboardBody)) as { widgets: unknown[] };
    expect(body.widgets.length).toBeGreaterThan(8);
    for (const key of KEYS) expect(String(dashboard.inputs.dashboardBody)).toContain(`"board-${key}-fn"`);
    // Dashboards are per account: the name carries the stack's prefix and the region.
    expect(dashboard.inputs.dashboardName).toBe('board-prod-us-east-1');
    expect(await valueOf(monitoring.dashboardUrl)).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/board-prod-us-east-1',
    );
  });

  it('refuses an alarm e-mail that is not an address', () => {
    expect(
      () =>
        new Monitoring('bad-email', {
          restApiName: 'a',
          stageName: 'b',
          functions: {},
          mintAlarmPerMinute: 1,
          alarmEmail: 'ops',
          namePrefix: 'p',
        }),
    ).toThrow(/alarmEmail/);
  });
});
