import { dashboardBody, dashboardUrl } from './dashboard';

const inputs = {
  api: { name: 'broker-api', stage: 'prod' },
  functions: [
    { key: 'mint', name: 'mint-fn' },
    { key: 'heartbeat', name: 'heartbeat-fn' },
    { key: 'refresh', name: 'refresh-fn' },
  ],
};

describe('Function: dashboardBody', () => {
  const body = dashboardBody({
    region: 'eu-west-1',
    api: inputs.api,
    functions: inputs.functions,
    deadLetterQueueName: 'dlq',
    alarmArns: ['arn:alarm:1'],
  });
  const text = JSON.stringify(body);
  const titles = body.widgets.map((widget) => widget.properties.title);

  it('shows mints, heartbeats, refreshes, revocations, errors, the API and the Lambdas', () => {
    expect(titles).toEqual(
      expect.arrayContaining([
        'Mints',
        'Heartbeats',
        'Refreshes',
        'Revocations',
        'Errors',
        'API requests, 4xx and 5xx',
        'API latency (ms)',
        'Lambda duration p99 (ms)',
        'Lambda throttles',
        'Scheduled jobs',
        'Dead-letter queue depth',
        'Alarms',
      ]),
    );
  });

  it('references every function and the region, and lays widgets out without overlap', () => {
    for (const fn of inputs.functions) expect(text).toContain(`"${fn.name}"`);
    for (const widget of body.widgets.filter((w) => w.type === 'metric'))
      expect(widget.properties.region).toBe('eu-west-1');
    const cells = body.widgets.map((widget) => `${widget.x},${widget.y}`);
    expect(new Set(cells).size).toBe(cells.length);
  });

  it('builds the console URL of a dashboard', () => {
    expect(dashboardUrl('eu-west-1', 'b-prod')).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/b-prod',
    );
  });
});
