/**
 * What the broker is watched for, as plain data: CloudWatch alarms and the log metric filters that turn
 * the handlers' JSON log lines into metrics. No Pulumi here; the resource names and dimension values come
 * in as a type parameter (strings in tests, Outputs in infra/monitoring.ts).
 */

import { SCHEDULES } from './handlers';
import {
  deadMansSwitch,
  jobRunMetric,
  LOG_METRIC_NAMESPACE,
  nearTimeoutAlarm,
  tableThrottleAlarm,
  wafBlockRateAlarm,
  type WatchedJob,
} from './watchdogs';

/** Namespace of the metrics the log filters publish. */
export const METRIC_NAMESPACE = LOG_METRIC_NAMESPACE;

/**
 * Log messages that mean "a token was revoked". Extension point: when admin revocation, bulk revoke or
 * the anomaly sweep land, add their log message here and the Revocations metric counts them.
 */
export const REVOCATION_MESSAGES: readonly string[] = ['token chain revoked'];

/**
 * What the core logs for each upstream deletion that failed and stays queued: the sweep and admin
 * (functions/core/upstreamDeletion.ts, which reuse detection uses too).
 */
export const UPSTREAM_DELETE_FAILED_MESSAGES: readonly string[] = [
  'upstream delete failed; queued for retry',
];

/**
 * What the sweep's anomaly rules log for each action they take (flag, pause or revoke), and for each
 * detection in dry-run mode (functions/core/anomalies/actions.ts).
 */
export const ANOMALY_ACTION_MESSAGES: readonly string[] = ['anomaly action taken'];
export const ANOMALY_DRY_RUN_MESSAGES: readonly string[] = ['anomaly detected (dry run)'];

/** The summary line each rotation and sweep run logs (functions/core/rotation.ts, sweep.ts), with `done`. */
export const JOB_RUN_MESSAGES: readonly string[] = SCHEDULES.map((schedule) => schedule.runMessage);

/** A CloudWatch Logs metric filter: every matching log line adds 1 to the metric. */
export interface LogMetric {
  metricName: string;
  /** Filter pattern over the Powertools JSON line (`level`, `message`, ...). */
  pattern: string;
}

/**
 * Mints, refreshes, revocations and errors, counted from the lines functions/core logs; and for the
 * scheduled jobs, failed upstream deletions, runs that ended with work left (`done: false`: budget
 * spent, an item failed, or Logfire kept refusing deletions), and the anomaly rules' actions and dry runs.
 */
export function logMetrics(
  revocationMessages: readonly string[] = REVOCATION_MESSAGES,
  jobs: readonly Pick<WatchedJob, 'name' | 'runMessage'>[] = SCHEDULES,
): LogMetric[] {
  const jobRuns = JOB_RUN_MESSAGES.map((message) => `$.message = "${message}"`).join(' || ');
  return [
    // One per job, for its dead-man's switch (infra/watchdogs.ts).
    ...jobs.map((job) => ({ metricName: jobRunMetric(job), pattern: messagePattern([job.runMessage]) })),
    { metricName: 'Mints', pattern: messagePattern(['token minted']) },
    { metricName: 'Refreshes', pattern: messagePattern(['token refreshed']) },
    { metricName: 'Revocations', pattern: messagePattern(revocationMessages) },
    { metricName: 'Errors', pattern: '{ $.level = "ERROR" }' },
    { metricName: 'UpstreamDeleteFailures', pattern: messagePattern(UPSTREAM_DELETE_FAILED_MESSAGES) },
    { metricName: 'IncompleteJobRuns', pattern: `{ (${jobRuns}) && $.done IS FALSE }` },
    { metricName: 'AnomalyActions', pattern: messagePattern(ANOMALY_ACTION_MESSAGES) },
    { metricName: 'AnomalyDryRuns', pattern: messagePattern(ANOMALY_DRY_RUN_MESSAGES) },
  ];
}

/** `{ $.message = "a" || $.message = "b" }`; quotes inside a message would end the pattern's string. */
export function messagePattern(messages: readonly string[]): string {
  if (messages.length === 0) throw new Error('a log metric needs at least one message');
  for (const message of messages) {
    if (/["\\]/.test(message)) throw new Error(`log message "${message}" may not contain " or \\`);
  }
  return `{ ${messages.map((message) => `$.message = "${message}"`).join(' || ')} }`;
}

export interface MetricSpec<N> {
  namespace: string;
  metricName: string;
  stat: string;
  period: number;
  dimensions: Record<string, N | string>;
}

export interface AlarmSpec<N> {
  /** Unique suffix of the alarm's resource name. */
  key: string;
  description: string;
  threshold: number;
  evaluationPeriods: number;
  /** Default GreaterThanThreshold. */
  comparison?: 'GreaterThanThreshold' | 'LessThanThreshold';
  /** Default notBreaching: no traffic is not an outage. A dead-man's switch says breaching. */
  treatMissingData?: 'breaching' | 'notBreaching';
  /** A single metric, or metric math: the query with returnData is what is compared. */
  metric?: MetricSpec<N>;
  queries?: {
    id: string;
    expression?: string;
    label?: string;
    returnData?: boolean;
    metric?: MetricSpec<N>;
  }[];
}

export interface AlarmInputs<N> {
  api: { name: N; stage: N };
  /** Every function, by key (mint, heartbeat, refresh, ...), with its timeout. */
  functions: { key: string; name: N; timeoutSeconds: number }[];
  deadLetterQueue?: { name: N };
  mintAlarmPerMinute: number;
  /** The scheduled jobs, each with its dead-man's switch. */
  jobs?: readonly WatchedJob[];
  /** DynamoDB tables by key (tokens, audit). */
  tables?: { key: string; name: N }[];
  /** The WebACL in front of the stage, and the share of blocked requests that pages. */
  waf?: { webAclName: N; region: N; blockedPercent: number };
}

/** API 5xx share of requests above this (percent, over 5 minutes) pages the operator. */
export const API_5XX_PERCENT = 5;

/**
 * Every alarm of the stack. They compare with GreaterThanThreshold and treat missing data as not
 * breaching (no traffic is not an outage), except the dead-man's switches, for which silence is the failure.
 */
export function alarmSpecs<N>(inputs: AlarmInputs<N>): AlarmSpec<N>[] {
  const { api, functions, deadLetterQueue, mintAlarmPerMinute, jobs = [], tables = [], waf } = inputs;
  if (!Number.isInteger(mintAlarmPerMinute) || mintAlarmPerMinute < 1) {
    throw new Error(`mintAlarmPerMinute: ${mintAlarmPerMinute} must be a whole number of at least 1`);
  }
  const mint = functions.find((fn) => fn.key === 'mint');
  if (!mint) throw new Error('Monitoring: the functions need a "mint" entry for the mint-rate alarm');
  const apiDimensions = { ApiName: api.name, Stage: api.stage };
  const lambda = (name: N, metricName: string, period: number): MetricSpec<N> => ({
    namespace: 'AWS/Lambda',
    metricName,
    stat: 'Sum',
    period,
    dimensions: { FunctionName: name },
  });

  const alarms: AlarmSpec<N>[] = [
    {
      key: 'api-5xx-rate',
      description: `More than ${API_5XX_PERCENT}% of API requests answered 5xx over 5 minutes`,
      threshold: API_5XX_PERCENT,
      evaluationPeriods: 1,
      queries: [
        { id: 'errors', metric: apiMetric('5XXError', apiDimensions) },
        { id: 'requests', metric: apiMetric('Count', apiDimensions) },
        // No requests means no rate: 0, not a division by zero.
        {
          id: 'rate',
          expression: 'IF(requests > 0, 100 * errors / requests, 0)',
          label: '5xx %',
          returnData: true,
        },
      ],
    },
  ];
  for (const fn of functions) {
    alarms.push(
      {
        key: `${fn.key}-errors`,
        description: `The ${fn.key} function failed (uncaught error or timeout) in the last 5 minutes`,
        threshold: 0,
        evaluationPeriods: 1,
        metric: lambda(fn.name, 'Errors', 300),
      },
      {
        key: `${fn.key}-throttles`,
        description: `The ${fn.key} function was throttled (reserved concurrency reached) in the last 5 minutes`,
        threshold: 0,
        evaluationPeriods: 1,
        metric: lambda(fn.name, 'Throttles', 300),
      },
      nearTimeoutAlarm(fn),
    );
  }
  alarms.push(...jobs.map((job) => deadMansSwitch<N>(job)));
  alarms.push(...tables.map((table) => tableThrottleAlarm(table)));
  if (waf) alarms.push(wafBlockRateAlarm(waf, waf.blockedPercent));
  if (deadLetterQueue) {
    // The queue exists exactly when the stack runs scheduled jobs, so their alarms go with it.
    alarms.push(...jobAlarms<N>());
    // Messages SENT per period, not the depth: nothing drains the queue, so a depth alarm would fire on
    // the first failure and stay in ALARM, and every later failure would page no one. SendMessage counts
    // here (Scheduler's dead-letter config and Lambda's on-failure destination both use it; only a
    // redrive from another queue would not). Runbook: README, "Operating it", dead-letter queue.
    alarms.push({
      key: 'dlq-messages',
      description:
        'A scheduled job failed (it threw or timed out) or could not be delivered in the last 5 minutes; its event is in the dead-letter queue (read it, then purge: README, "The dead-letter queue")',
      threshold: 0,
      evaluationPeriods: 1,
      metric: {
        namespace: 'AWS/SQS',
        metricName: 'NumberOfMessagesSent',
        stat: 'Sum',
        period: 300,
        dimensions: { QueueName: deadLetterQueue.name },
      },
    });
  }
  alarms.push({
    key: 'mint-spike',
    description: `More than ${mintAlarmPerMinute} mint requests in one minute: abuse, or a client stuck in a loop`,
    threshold: mintAlarmPerMinute,
    evaluationPeriods: 1,
    metric: lambda(mint.name, 'Invocations', 60),
  });
  return alarms;
}

/**
 * Lifecycle jobs: a failure that persists, not one that the next run absorbs. A deletion that fails is
 * retried with a backoff of up to an hour, and a run that leaves work is followed by the next; both alarm
 * only when every hour in a row shows them. Hourly periods assume the sweep runs at least hourly.
 */
function jobAlarms<N>(): AlarmSpec<N>[] {
  const hourly = (metricName: string): MetricSpec<N> => ({
    namespace: METRIC_NAMESPACE,
    metricName,
    stat: 'Sum',
    period: 3600,
    dimensions: {},
  });
  return [
    {
      key: 'upstream-deletes-failing',
      description:
        'Upstream token deletions failed in each of the last 2 hours: Logfire refuses or cannot be reached. The deletions stay queued and are retried; tokens meanwhile live until their own expiry',
      threshold: 0,
      evaluationPeriods: 2,
      metric: hourly('UpstreamDeleteFailures'),
    },
    {
      key: 'anomaly-actions',
      description:
        "An anomaly rule flagged, paused or revoked tokens in the last 15 minutes. The audit trail's anomaly.* entries name the rule, the evidence and the action id; an admin can undo a pause (docs/anomalies.md)",
      threshold: 0,
      evaluationPeriods: 1,
      metric: { ...hourly('AnomalyActions'), period: 900 },
    },
    {
      key: 'jobs-incomplete',
      description:
        'Rotation or sweep runs ended with work left in each of the last 3 hours: the backlog is not draining (timeout too short for the volume, items failing, or Logfire failing deletions)',
      threshold: 0,
      evaluationPeriods: 3,
      metric: hourly('IncompleteJobRuns'),
    },
  ];
}

function apiMetric<N>(metricName: string, dimensions: Record<string, N>): MetricSpec<N> {
  return { namespace: 'AWS/ApiGateway', metricName, stat: 'Sum', period: 300, dimensions };
}
