/**
 * The CloudWatch dashboard body as plain data (resolved names in, JSON-ready object out). No Pulumi here.
 * Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import { METRIC_NAMESPACE } from './alarms';

export interface DashboardInputs {
  region: string;
  api: { name: string; stage: string };
  /** Every function, by key (mint, heartbeat, refresh, ...). */
  functions: { key: string; name: string }[];
  deadLetterQueueName?: string;
  alarmArns: string[];
}

type Metric = (string | Record<string, string | number>)[];

interface Widget {
  type: 'metric' | 'alarm';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

const PERIOD = 300;
const WIDTH = 12;
const HEIGHT = 6;

/**
 * Mints, heartbeats, refreshes, revocations and errors first (what the broker does), then the API and
 * the Lambdas (how it is doing), then the alarms.
 *
 * @example
 * const body = JSON.stringify(dashboardBody({ region, api, functions, alarmArns }));
 */
export function dashboardBody(inputs: DashboardInputs): { widgets: Widget[] } {
  const { region, api, functions, deadLetterQueueName, alarmArns } = inputs;
  const apiDims = ['ApiName', api.name, 'Stage', api.stage];
  const perFunction = (metricName: string, stat: string): Metric[] =>
    functions.map((fn) => ['AWS/Lambda', metricName, 'FunctionName', fn.name, { stat, label: fn.key }]);
  const logCount = (metricName: string, label: string): Metric => [METRIC_NAMESPACE, metricName, { label }];
  const heartbeat = functions.find((fn) => fn.key === 'heartbeat');

  const panels: { title: string; metrics: Metric[]; stat?: string }[] = [
    { title: 'Mints', metrics: [logCount('Mints', 'tokens minted')] },
    {
      title: 'Heartbeats',
      metrics: heartbeat
        ? [['AWS/Lambda', 'Invocations', 'FunctionName', heartbeat.name, { label: 'heartbeat calls' }]]
        : [],
    },
    { title: 'Refreshes', metrics: [logCount('Refreshes', 'tokens refreshed')] },
    { title: 'Revocations', metrics: [logCount('Revocations', 'revocation events')] },
    {
      title: 'Errors',
      metrics: [logCount('Errors', 'ERROR log lines'), ...perFunction('Errors', 'Sum')],
    },
    {
      title: 'API requests, 4xx and 5xx',
      metrics: [
        ['AWS/ApiGateway', 'Count', ...apiDims, { label: 'requests' }],
        ['AWS/ApiGateway', '4XXError', ...apiDims, { label: '4xx' }],
        ['AWS/ApiGateway', '5XXError', ...apiDims, { label: '5xx' }],
      ],
    },
    {
      title: 'API latency (ms)',
      metrics: [
        ['AWS/ApiGateway', 'Latency', ...apiDims, { stat: 'p50', label: 'p50' }],
        ['AWS/ApiGateway', 'Latency', ...apiDims, { stat: 'p99', label: 'p99' }],
        ['AWS/ApiGateway', 'IntegrationLatency', ...apiDims, { stat: 'p99', label: 'integration p99' }],
      ],
    },
    { title: 'Lambda duration p99 (ms)', metrics: perFunction('Duration', 'p99') },
    { title: 'Lambda throttles', metrics: perFunction('Throttles', 'Sum') },
    { title: 'Lambda invocations', metrics: perFunction('Invocations', 'Sum') },
  ];
  if (deadLetterQueueName) {
    panels.push(
      {
        title: 'Scheduled jobs',
        metrics: [
          logCount('UpstreamDeleteFailures', 'upstream deletions failed'),
          logCount('IncompleteJobRuns', 'runs that left work'),
        ],
      },
      {
        title: 'Dead-letter queue depth',
        metrics: [['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', deadLetterQueueName]],
        stat: 'Maximum',
      },
    );
  }

  const widgets: Widget[] = panels
    .filter((panel) => panel.metrics.length > 0)
    .map((panel, index) => ({
      type: 'metric',
      ...position(index),
      properties: {
        title: panel.title,
        view: 'timeSeries',
        region,
        stat: panel.stat ?? 'Sum',
        period: PERIOD,
        metrics: panel.metrics,
      },
    }));
  if (alarmArns.length) {
    widgets.push({
      type: 'alarm',
      ...position(widgets.length),
      properties: { title: 'Alarms', alarms: alarmArns },
    });
  }
  return { widgets };
}

/** The console address of a dashboard. */
export function dashboardUrl(region: string, dashboardName: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(dashboardName)}`;
}

/** Two widgets per row, in reading order. */
function position(index: number) {
  return { x: (index % 2) * WIDTH, y: Math.floor(index / 2) * HEIGHT, width: WIDTH, height: HEIGHT };
}
