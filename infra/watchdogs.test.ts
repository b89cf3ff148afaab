import { deadMansSwitch, jobRunMetric, schedulePeriodSeconds } from './watchdogs';

describe('Function: schedulePeriodSeconds', () => {
  it.each([
    ['rate(1 minute)', 60],
    ['rate(15 minutes)', 900],
    ['rate(1 hour)', 3600],
    ['rate(2 days)', 172_800],
    ['cron(0/5 * * * ? *)', 300],
    ['cron(* * * * ? *)', 60],
    ['cron(30 * * * ? *)', 3600],
    ['cron(0 */6 * * ? *)', 21_600],
    ['cron(0 3 * * ? *)', 86_400],
    // Not every day: counted as weekly, so the switch is late for an odd cron, never early.
    ['cron(0 3 ? * MON *)', 604_800],
  ])('reads %s as at most %i s between runs', (expression, seconds) => {
    expect(schedulePeriodSeconds(expression)).toBe(seconds);
  });
});

describe('Function: deadMansSwitch', () => {
  const job = (expression: string) => ({ name: 'sweep', runMessage: 'sweep run', expression });

  it('fires when no run finished within twice the period, with silence as the failure', () => {
    expect(deadMansSwitch(job('rate(15 minutes)'))).toMatchObject({
      key: 'sweep-not-running',
      comparison: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: 'breaching',
      metric: { namespace: 'LogfireBroker', metricName: 'SweepRuns', stat: 'Sum', period: 1800 },
    });
  });

  it('splits a window over a day into daily periods, at most the 7 CloudWatch evaluates', () => {
    expect(deadMansSwitch(job('rate(1 day)'))).toMatchObject({
      evaluationPeriods: 2,
      metric: { period: 86_400 },
    });
    expect(deadMansSwitch(job('cron(0 3 ? * MON *)'))).toMatchObject({
      evaluationPeriods: 7,
      metric: { period: 86_400 },
    });
  });

  it('names the run metric after the job', () => {
    expect(jobRunMetric({ name: 'rotation' })).toBe('RotationRuns');
    expect(jobRunMetric({ name: 'relay-pool' })).toBe('RelayPoolRuns');
  });
});
