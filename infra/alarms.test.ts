import { alarmSpecs, logMetrics, messagePattern, REVOCATION_MESSAGES, type AlarmInputs } from './alarms';

const inputs: AlarmInputs<string> = {
  api: { name: 'broker-api', stage: 'prod' },
  functions: [
    { key: 'mint', name: 'mint-fn', timeoutSeconds: 29 },
    { key: 'heartbeat', name: 'heartbeat-fn', timeoutSeconds: 10 },
    { key: 'refresh', name: 'refresh-fn', timeoutSeconds: 29 },
  ],
  mintAlarmPerMinute: 30,
};

describe('Function: logMetrics', () => {
  it('counts mints, refreshes, revocations and ERROR lines from the JSON log', () => {
    expect(Object.fromEntries(logMetrics().map((metric) => [metric.metricName, metric.pattern]))).toEqual({
      RotationRuns: '{ $.message = "rotation run" }',
      SweepRuns: '{ $.message = "sweep run" }',
      Mints: '{ $.message = "token minted" }',
      Refreshes: '{ $.message = "token refreshed" }',
      Revocations: '{ $.message = "token chain revoked" }',
      Errors: '{ $.level = "ERROR" }',
      UpstreamDeleteFailures: '{ $.message = "upstream delete failed; queued for retry" }',
      IncompleteJobRuns: '{ ($.message = "rotation run" || $.message = "sweep run") && $.done IS FALSE }',
      AnomalyActions: '{ $.message = "anomaly action taken" }',
      AnomalyDryRuns: '{ $.message = "anomaly detected (dry run)" }',
    });
  });

  it('counts every revocation message added to the extension point', () => {
    const revocations = logMetrics([...REVOCATION_MESSAGES, 'token revoked']).find(
      (metric) => metric.metricName === 'Revocations',
    );
    expect(revocations?.pattern).toBe('{ $.message = "token chain revoked" || $.message = "token revoked" }');
  });

  it('refuses a message that would break the filter pattern', () => {
    expect(() => messagePattern(['say "hi"'])).toThrow(/may not contain/);
  });
});

describe('Function: alarmSpecs', () => {
  const byKey = (specs: ReturnType<typeof alarmSpecs<string>>) =>
    Object.fromEntries(specs.map((spec) => [spec.key, spec]));

  it('alarms on the API 5xx rate as metric math over 5XXError and Count of the stage', () => {
    const alarm = byKey(alarmSpecs(inputs))['api-5xx-rate']!;
    const dimensions = { ApiName: 'broker-api', Stage: 'prod' };
    expect(alarm.queries).toEqual([
      { id: 'errors', metric: expect.objectContaining({ metricName: '5XXError', stat: 'Sum', dimensions }) },
      { id: 'requests', metric: expect.objectContaining({ metricName: 'Count', stat: 'Sum', dimensions }) },
      expect.objectContaining({
        id: 'rate',
        expression: expect.stringContaining('errors / requests'),
        returnData: true,
      }),
    ]);
  });

  it("alarms on each function's errors and throttles", () => {
    const alarms = byKey(alarmSpecs(inputs));
    for (const fn of inputs.functions) {
      expect(alarms[`${fn.key}-errors`]?.metric).toMatchObject({
        metricName: 'Errors',
        dimensions: { FunctionName: fn.name },
      });
      expect(alarms[`${fn.key}-throttles`]?.metric).toMatchObject({
        metricName: 'Throttles',
        dimensions: { FunctionName: fn.name },
      });
    }
  });

  it('alarms on job failures that persist, only when there are scheduled jobs (a queue)', () => {
    expect(byKey(alarmSpecs(inputs))['upstream-deletes-failing']).toBeUndefined();
    const alarms = byKey(alarmSpecs({ ...inputs, deadLetterQueue: { name: 'dlq' } }));
    expect(alarms['upstream-deletes-failing']).toMatchObject({
      threshold: 0,
      evaluationPeriods: 2,
      metric: { namespace: 'LogfireBroker', metricName: 'UpstreamDeleteFailures', stat: 'Sum', period: 3600 },
    });
    expect(alarms['jobs-incomplete']).toMatchObject({
      threshold: 0,
      evaluationPeriods: 3,
      metric: { namespace: 'LogfireBroker', metricName: 'IncompleteJobRuns', period: 3600 },
    });
  });

  it('alarms on any anomaly action within 15 minutes, only when there are scheduled jobs', () => {
    expect(byKey(alarmSpecs(inputs))['anomaly-actions']).toBeUndefined();
    const alarm = byKey(alarmSpecs({ ...inputs, deadLetterQueue: { name: 'dlq' } }))['anomaly-actions'];
    expect(alarm).toMatchObject({
      threshold: 0,
      evaluationPeriods: 1,
      metric: { namespace: 'LogfireBroker', metricName: 'AnomalyActions', stat: 'Sum', period: 900 },
    });
    expect(alarm?.description).toMatch(/undo/);
  });

  it('alarms on messages sent to the dead-letter queue per 5 minutes, not its depth, so every failure pages', () => {
    expect(byKey(alarmSpecs(inputs))['dlq-messages']).toBeUndefined();
    const alarms = byKey(alarmSpecs({ ...inputs, deadLetterQueue: { name: 'dlq' } }));
    expect(alarms['dlq-depth']).toBeUndefined();
    expect(alarms['dlq-messages']).toMatchObject({
      threshold: 0,
      metric: {
        metricName: 'NumberOfMessagesSent',
        stat: 'Sum',
        period: 300,
        dimensions: { QueueName: 'dlq' },
      },
    });
    expect(alarms['dlq-messages']!.description).toMatch(/purge/);
  });

  it('alarms when the mint function runs more often per minute than configured', () => {
    expect(byKey(alarmSpecs(inputs))['mint-spike']).toMatchObject({
      threshold: 30,
      metric: { metricName: 'Invocations', period: 60, dimensions: { FunctionName: 'mint-fn' } },
    });
  });

  it('refuses a stack without a mint function, or a mint threshold below 1', () => {
    expect(() => alarmSpecs({ ...inputs, functions: inputs.functions.slice(1) })).toThrow(/"mint"/);
    expect(() => alarmSpecs({ ...inputs, mintAlarmPerMinute: 0 })).toThrow(/^mintAlarmPerMinute/);
  });
});
