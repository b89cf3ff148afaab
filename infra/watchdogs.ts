/**
 * The alarms for failures that are otherwise silent (issue #12 point 4): jobs that stop running at all,
 * functions that run close to their timeout, DynamoDB throttling, and a WAF that suddenly blocks much of
 * the traffic. Plain data like infra/alarms.ts, which adds them to the stack's list.
 */
import type { AlarmSpec, MetricSpec } from './alarms';

/** The namespace of the log metrics (infra/alarms.ts re-exports it). */
export const LOG_METRIC_NAMESPACE = 'LogfireBroker';

/** A scheduled job as the dead-man's switch sees it. */
export interface WatchedJob {
  /** The schedule's name (rotation, sweep). */
  name: string;
  /** The summary line each finished run logs (functions/core/rotation.ts, sweep.ts). */
  runMessage: string;
  /** The schedule's expression: rate(...) or cron(...). */
  expression: string;
}

/** `RotationRuns` for `rotation`: the log metric that counts a job's finished runs. */
export function jobRunMetric(job: Pick<WatchedJob, 'name'>): string {
  return `${job.name.charAt(0).toUpperCase()}${job.name.slice(1).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}Runs`;
}

const DAY = 86_400;

/**
 * The longest gap between two runs of a schedule, in seconds. Exact for rate(...); for cron(...), an upper
 * bound read from the minute and hour fields (a cron that is neither minutely, hourly nor daily counts
 * as weekly), so the switch may fire late for an odd cron but never early.
 * @example schedulePeriodSeconds('rate(15 minutes)') // 900
 * @example schedulePeriodSeconds('cron(0 3 * * ? *)') // 86400
 */
export function schedulePeriodSeconds(expression: string): number {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return Number(rate[1]) * { minute: 60, hour: 3600, day: DAY }[rate[2] as 'minute'];
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) throw new Error(`not a schedule expression: ${expression}`);
  const [minutes, hours, dayOfMonth, , dayOfWeek] = cron[1]!.trim().split(/\s+/);
  const everyDay = ['*', '?'].includes(dayOfMonth!) && ['*', '?'].includes(dayOfWeek!);
  const step = (field: string) => /^(\*|\d+)\/(\d+)$/.exec(field)?.[2];
  if (!everyDay) return 7 * DAY;
  if (hours === '*') {
    if (minutes === '*') return 60;
    const every = step(minutes!);
    return every ? Number(every) * 60 : 3600;
  }
  const everyHours = step(hours!);
  return everyHours ? Number(everyHours) * 3600 : DAY;
}

/**
 * A job that has not finished a run within twice its period: Scheduler disabled, the function failing
 * at init, a permission lost. Counts the runs' summary lines; missing data is breaching here, since no
 * line at all is exactly the failure. Periods above a day become several daily periods (at most 7,
 * CloudWatch's evaluation range), all of which must be empty.
 */
export function deadMansSwitch<N>(job: WatchedJob): AlarmSpec<N> {
  const window = 2 * schedulePeriodSeconds(job.expression);
  const period = window <= DAY ? Math.ceil(window / 60) * 60 : DAY;
  const evaluationPeriods = window <= DAY ? 1 : Math.min(Math.ceil(window / DAY), 7);
  return {
    key: `${job.name}-not-running`,
    description: `No ${job.name} run finished in ${formatSeconds(period * evaluationPeriods)} (twice its schedule, ${job.expression}): the schedule is disabled or the job fails before its summary line. See the function's log group and the dead-letter queue`,
    comparison: 'LessThanThreshold',
    threshold: 1,
    evaluationPeriods,
    treatMissingData: 'breaching',
    metric: {
      namespace: LOG_METRIC_NAMESPACE,
      metricName: jobRunMetric(job),
      stat: 'Sum',
      period,
      dimensions: {},
    },
  };
}

/** Share of the timeout a run may reach before it pages: the next slow Logfire call ends in a timeout. */
export const NEAR_TIMEOUT_SHARE = 0.9;

export function nearTimeoutAlarm<N>(fn: { key: string; name: N; timeoutSeconds: number }): AlarmSpec<N> {
  const thresholdMs = Math.round(NEAR_TIMEOUT_SHARE * fn.timeoutSeconds * 1000);
  return {
    key: `${fn.key}-near-timeout`,
    description: `The ${fn.key} function ran longer than ${thresholdMs} ms (${NEAR_TIMEOUT_SHARE * 100}% of its ${fn.timeoutSeconds} s timeout) in the last 5 minutes`,
    threshold: thresholdMs,
    evaluationPeriods: 1,
    metric: {
      namespace: 'AWS/Lambda',
      metricName: 'Duration',
      stat: 'Maximum',
      period: 300,
      dimensions: { FunctionName: fn.name },
    },
  };
}

/**
 * Reads or writes DynamoDB refused for throughput (on-demand tables throttle too: a hot partition, or
 * traffic far above the previous peak). FILL: a series with no data counts as 0, not as a gap.
 */
export function tableThrottleAlarm<N>(table: { key: string; name: N }): AlarmSpec<N> {
  const events = (metricName: string): MetricSpec<N> => ({
    namespace: 'AWS/DynamoDB',
    metricName,
    stat: 'Sum',
    period: 300,
    dimensions: { TableName: table.name },
  });
  return {
    key: `${table.key}-table-throttled`,
    description: `DynamoDB throttled requests to the ${table.key} table in the last 5 minutes; the broker answers 503 to them`,
    threshold: 0,
    evaluationPeriods: 1,
    queries: [
      { id: 'reads', metric: events('ReadThrottleEvents') },
      { id: 'writes', metric: events('WriteThrottleEvents') },
      {
        id: 'throttled',
        expression: 'FILL(reads, 0) + FILL(writes, 0)',
        label: 'throttle events',
        returnData: true,
      },
    ],
  };
}

/** Below this many requests in 5 minutes, the block rate is noise, not news. */
export const WAF_MIN_REQUESTS = 100;

/**
 * WAF blocking more than `percent` of the requests: an attack being stopped, or an allowlist or rule
 * change locking out real clients. Either is worth a look.
 */
export function wafBlockRateAlarm<N>(waf: { webAclName: N; region: N }, percent: number): AlarmSpec<N> {
  const requests = (metricName: string): MetricSpec<N> => ({
    namespace: 'AWS/WAFV2',
    metricName,
    stat: 'Sum',
    period: 300,
    dimensions: { WebACL: waf.webAclName, Region: waf.region, Rule: 'ALL' },
  });
  return {
    key: 'waf-block-rate',
    description: `WAF blocked more than ${percent}% of at least ${WAF_MIN_REQUESTS} requests in 5 minutes: an attack, or an allowlist or rule locking out clients (the WAF log and sampled requests say which rule)`,
    threshold: percent,
    evaluationPeriods: 1,
    queries: [
      { id: 'blocked', metric: requests('BlockedRequests') },
      { id: 'allowed', metric: requests('AllowedRequests') },
      {
        id: 'rate',
        expression: `IF(FILL(blocked, 0) + FILL(allowed, 0) >= ${WAF_MIN_REQUESTS}, 100 * FILL(blocked, 0) / (FILL(blocked, 0) + FILL(allowed, 0)), 0)`,
        label: 'blocked %',
        returnData: true,
      },
    ],
  };
}

function formatSeconds(seconds: number): string {
  if (seconds % DAY === 0) return `${seconds / DAY} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds / 60)} min`;
}
