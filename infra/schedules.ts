/**
 * EventBridge Scheduler entries that run the broker's jobs (rotation, sweep) on their Lambdas, given as
 * data (infra/handlers.ts SCHEDULES). The scheduler's role may invoke exactly those functions.
 *
 * Scheduler invokes Lambda asynchronously: once Lambda has accepted the event, Scheduler's work is done,
 * and a job that then throws or times out is Lambda's to retry, never Scheduler's. So one SQS dead-letter
 * queue takes both kinds of failure: events Scheduler could not deliver (its dead-letter config) and runs
 * that failed (the function's `FunctionEventInvokeConfig`, on-failure destination). The jobs are idempotent
 * and the next schedule picks up what a failed run left, so Lambda retries them at most `maximumRetryAttempts`
 * times (default 0): a failure is reported once, rather than a stuck run repeated.
 *
 * With no schedules the component creates nothing: no queue, and no role, since a policy allowed to
 * invoke no function would have no resource to name.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { assumeRolePolicy, failureDestinationPolicy, schedulerPolicy } from './policies';

export interface ScheduledJob {
  /** Unique; also sent to the function as `{"schedule": name}`. */
  name: string;
  fn: aws.lambda.Function;
  /** The function's `live` alias: what the schedule invokes, so a rollback of the alias applies to it. */
  alias: aws.lambda.Alias;
  /** The function's execution role (its name): Lambda sends failed runs to the queue with it. */
  role: pulumi.Input<string>;
  /** `rate(...)` or `cron(...)`, validated by infra/settings.ts. */
  expression: string;
  description: string;
}

/** Scheduler's retries of an event it could not deliver. */
export interface RetryPolicy {
  /** 0 to 185. */
  maximumRetryAttempts: number;
  /** 60 to 86400; keep it below the schedule's period so a late run never overlaps the next. */
  maximumEventAgeInSeconds: number;
}

/** Lambda's handling of a delivered run that failed (asynchronous invocation). */
export interface InvokePolicy {
  /** 0 to 2. */
  maximumRetryAttempts: number;
  /** 60 to 21600: how long an event may wait in Lambda's queue (throttled) before it counts as failed. */
  maximumEventAgeInSeconds: number;
}

export interface SchedulesArgs {
  jobs: readonly ScheduledJob[];
  retryPolicy?: RetryPolicy;
  invokePolicy?: InvokePolicy;
}

const DEFAULT_RETRY: RetryPolicy = { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 };
const DEFAULT_INVOKE: InvokePolicy = { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 600 };

export class Schedules extends pulumi.ComponentResource {
  /** Undeliverable schedule events and failed runs; only when there is at least one job. */
  readonly deadLetterQueue?: aws.sqs.Queue;
  readonly role?: aws.iam.Role;
  /** By job name. */
  readonly schedules: Record<string, aws.scheduler.Schedule> = {};
  /** By job name: retries and the on-failure destination of each job's asynchronous runs. */
  readonly invokeConfigs: Record<string, aws.lambda.FunctionEventInvokeConfig> = {};

  constructor(name: string, args: SchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:schedules:Schedules', name, {}, opts);
    const { jobs, retryPolicy = DEFAULT_RETRY, invokePolicy = DEFAULT_INVOKE } = args;
    validate(jobs, retryPolicy, invokePolicy);
    if (jobs.length === 0) {
      this.registerOutputs({});
      return;
    }
    const parent = { parent: this };

    const dlq = new aws.sqs.Queue(
      `${name}-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 86_400 },
      parent,
    );
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: 'logfire-broker: EventBridge Scheduler invokes the scheduled jobs',
        assumeRolePolicy: account.apply((id) =>
          JSON.stringify(assumeRolePolicy('scheduler.amazonaws.com', id)),
        ),
      },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: pulumi
          .all([pulumi.all(jobs.map((job) => job.alias.arn)), dlq.arn])
          .apply(([functionArns, deadLetterQueueArn]) =>
            JSON.stringify(schedulerPolicy({ functionArns, deadLetterQueueArn })),
          ),
      },
      parent,
    );
    for (const job of jobs) {
      const failures = new aws.iam.RolePolicy(
        `${name}-${job.name}-failures`,
        {
          role: job.role,
          policy: dlq.arn.apply((queueArn) => JSON.stringify(failureDestinationPolicy(queueArn))),
        },
        parent,
      );
      const invokeConfig = new aws.lambda.FunctionEventInvokeConfig(
        `${name}-${job.name}-invoke`,
        {
          functionName: job.fn.name,
          // Per qualifier: the settings of the unqualified function do not apply to runs of the alias.
          qualifier: job.alias.name,
          maximumRetryAttempts: invokePolicy.maximumRetryAttempts,
          maximumEventAgeInSeconds: invokePolicy.maximumEventAgeInSeconds,
          destinationConfig: { onFailure: { destination: dlq.arn } },
        },
        // Lambda checks that the function's role may send to the destination when the config is set.
        { parent: this, dependsOn: [failures] },
      );
      this.schedules[job.name] = new aws.scheduler.Schedule(
        `${name}-${job.name}`,
        {
          description: `logfire-broker: ${job.description}`,
          scheduleExpression: job.expression,
          flexibleTimeWindow: { mode: 'OFF' },
          target: {
            arn: job.alias.arn,
            roleArn: role.arn,
            input: JSON.stringify({ schedule: job.name }),
            retryPolicy,
            deadLetterConfig: { arn: dlq.arn },
          },
        },
        // Scheduler checks its role when the schedule is created; the first run already has its destination.
        { parent: this, dependsOn: [policy, invokeConfig] },
      );
      this.invokeConfigs[job.name] = invokeConfig;
    }
    this.deadLetterQueue = dlq;
    this.role = role;
    this.registerOutputs({ deadLetterQueueArn: dlq.arn });
  }
}

function validate(jobs: readonly ScheduledJob[], retry: RetryPolicy, invoke: InvokePolicy) {
  const names = new Set<string>();
  for (const job of jobs) {
    if (!/^[a-z][a-z0-9-]*$/.test(job.name))
      throw new Error(`Schedules: "${job.name}" is not a lower-case name`);
    if (names.has(job.name)) throw new Error(`Schedules: two jobs are named "${job.name}"`);
    names.add(job.name);
  }
  const { maximumRetryAttempts: attempts, maximumEventAgeInSeconds: age } = retry;
  if (!Number.isInteger(attempts) || attempts < 0 || attempts > 185) {
    throw new Error(`Schedules: maximumRetryAttempts must be 0 to 185, got ${attempts}`);
  }
  if (!Number.isInteger(age) || age < 60 || age > 86_400) {
    throw new Error(`Schedules: maximumEventAgeInSeconds must be 60 to 86400, got ${age}`);
  }
  const { maximumRetryAttempts: retries, maximumEventAgeInSeconds: wait } = invoke;
  if (!Number.isInteger(retries) || retries < 0 || retries > 2) {
    throw new Error(`Schedules: the invoke policy's maximumRetryAttempts must be 0 to 2, got ${retries}`);
  }
  if (!Number.isInteger(wait) || wait < 60 || wait > 21_600) {
    throw new Error(
      `Schedules: the invoke policy's maximumEventAgeInSeconds must be 60 to 21600, got ${wait}`,
    );
  }
}
