/**
 * Watching the broker: log metric filters (mints, refreshes, revocations, errors), alarms on the API, the
 * functions, the dead-letter queue and the mint rate, all to one SNS topic, and a dashboard. The
 * definitions are plain data in infra/alarms.ts and infra/dashboard.ts.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { emailCheck } from './validation';
import { alarmSpecs, logMetrics, METRIC_NAMESPACE, type MetricSpec } from './alarms';
import { dashboardBody, dashboardUrl } from './dashboard';
import { accountWideName } from './names';
import type { WatchedJob } from './watchdogs';

export interface MonitoringArgs {
  restApiName: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  /** Every function with its log group, by key (mint, heartbeat, refresh, ...); `mint` is required. */
  functions: Record<
    string,
    { fn: aws.lambda.Function; logGroup: aws.cloudwatch.LogGroup; timeoutSeconds: number }
  >;
  deadLetterQueue?: aws.sqs.Queue;
  /** Subscribed to the alarm topic; AWS mails a confirmation link that must be clicked once. */
  alarmEmail?: string;
  mintAlarmPerMinute: number;
  /** The stack's name prefix (infra/names.ts): the dashboard is named `<prefix>-<region>`, per account. */
  namePrefix: string;
  /** The scheduled jobs, for their dead-man's switches. */
  jobs?: readonly WatchedJob[];
  /** DynamoDB tables by key, for their throttling alarms. */
  tables?: Record<string, aws.dynamodb.Table>;
  /** The WebACL's name and the blocked share (percent) that pages. */
  waf?: { webAclName: pulumi.Input<string>; blockedPercent: number };
}

export class Monitoring extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:index:Monitoring', name, {}, opts);
    const { restApiName, stageName, functions, deadLetterQueue, alarmEmail, mintAlarmPerMinute } = args;
    const { namePrefix, jobs, tables = {}, waf } = args;
    if (alarmEmail !== undefined && emailCheck(alarmEmail)) {
      throw new Error(`Monitoring: alarmEmail "${alarmEmail}" is not an e-mail address`);
    }
    const entries = Object.entries(functions).map(([key, value]) => ({ key, ...value }));
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent).region;
    // Built first: it validates the threshold and the presence of a mint function before anything exists.
    const specs = alarmSpecs<pulumi.Input<string>>({
      api: { name: restApiName, stage: stageName },
      functions: entries.map(({ key, fn, timeoutSeconds }) => ({ key, name: fn.name, timeoutSeconds })),
      deadLetterQueue: deadLetterQueue ? { name: deadLetterQueue.name } : undefined,
      mintAlarmPerMinute,
      jobs,
      tables: Object.entries(tables).map(([key, table]) => ({ key, name: table.name })),
      waf: waf && { webAclName: waf.webAclName, region, blockedPercent: waf.blockedPercent },
    });

    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and alarm
    // notifications carry metric names and thresholds, never a credential.
    this.topic = new aws.sns.Topic(`${name}-alarms`, { displayName: 'logfire-broker alarms' }, parent);
    if (alarmEmail) {
      new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        { topic: this.topic.arn, protocol: 'email', endpoint: alarmEmail },
        parent,
      );
    }

    // Each filter goes on every function's log group: a group that never logs the message costs nothing,
    // and a handler added later (admin revoke, sweep) is counted without touching this file.
    for (const { key, logGroup } of entries) {
      for (const metric of logMetrics()) {
        new aws.cloudwatch.LogMetricFilter(
          `${name}-${key}-${metric.metricName.toLowerCase()}`,
          {
            logGroupName: logGroup.name,
            pattern: metric.pattern,
            metricTransformation: {
              namespace: METRIC_NAMESPACE,
              name: metric.metricName,
              value: '1',
              unit: 'Count',
            },
          },
          parent,
        );
      }
    }

    const alarms = specs.map(
      (spec) =>
        new aws.cloudwatch.MetricAlarm(
          `${name}-${spec.key}`,
          {
            alarmDescription: spec.description,
            comparisonOperator: spec.comparison ?? 'GreaterThanThreshold',
            threshold: spec.threshold,
            evaluationPeriods: spec.evaluationPeriods,
            treatMissingData: spec.treatMissingData ?? 'notBreaching',
            ...(spec.metric ? singleMetric(spec.metric) : {}),
            metricQueries: spec.queries?.map((query) => ({
              id: query.id,
              expression: query.expression,
              label: query.label,
              returnData: query.returnData ?? false,
              metric: query.metric && {
                namespace: query.metric.namespace,
                metricName: query.metric.metricName,
                stat: query.metric.stat,
                period: query.metric.period,
                dimensions: query.metric.dimensions,
              },
            })),
            // Recovery is news too: the same topic hears when an alarm clears.
            alarmActions: [this.topic.arn],
            okActions: [this.topic.arn],
          },
          parent,
        ),
    );

    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        // Dashboards are per account, not per region: the name carries the project, stack and region.
        dashboardName: region.apply((regionName) => accountWideName(namePrefix, regionName)),
        dashboardBody: pulumi
          .all([
            region,
            restApiName,
            stageName,
            pulumi.all(entries.map(({ fn }) => fn.name)),
            pulumi.all(alarms.map((alarm) => alarm.arn)),
            deadLetterQueue?.name,
          ])
          .apply(([regionName, apiName, stage, names, alarmArns, dlq]) =>
            JSON.stringify(
              dashboardBody({
                region: regionName,
                api: { name: apiName, stage },
                functions: entries.map(({ key }, index) => ({ key, name: names[index]! })),
                deadLetterQueueName: dlq,
                alarmArns,
              }),
            ),
          ),
      },
      parent,
    );

    this.dashboardUrl = pulumi
      .all([region, dashboard.dashboardName])
      .apply(([regionName, board]) => dashboardUrl(regionName, board));
    this.registerOutputs({ topic: this.topic, dashboardUrl: this.dashboardUrl });
  }
}

function singleMetric(metric: MetricSpec<pulumi.Input<string>>) {
  const { namespace, metricName, stat, period, dimensions } = metric;
  return { namespace, metricName, statistic: stat, period, dimensions };
}
