/**
 * EventBridge Scheduler entries that run the broker's jobs (rotation, sweep) on their Lambdas, given as
 * data (infra/handlers.ts SCHEDULES). The scheduler's role may invoke exactly those functions; an event it
 * cannot deliver after its retries lands in an SQS dead-letter queue.
 *
 * With no schedules (until issue #4 adds the jobs) the component creates nothing: no queue, and no role,
 * since a policy allowed to invoke no function would have no resource to name.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { assumeRolePolicy, schedulerPolicy } from './policies';

export interface ScheduledJob {
  /** Unique; also sent to the function as `{"schedule": name}`. */
  name: string;
  fn: aws.lambda.Function;
  /** `rate(...)` or `cron(...)`, validated by infra/settings.ts. */
  expression: string;
  description: string;
}

export interface RetryPolicy {
  /** 0 to 185. */
  maximumRetryAttempts: number;
  /** 60 to 86400; keep it below the schedule's period so a late run never overlaps the next. */
  maximumEventAgeInSeconds: number;
}

export interface SchedulesArgs {
  jobs: readonly ScheduledJob[];
  retryPolicy?: RetryPolicy;
}

const DEFAULT_RETRY: RetryPolicy = { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 };

export class Schedules extends pulumi.ComponentResource {
  /** Undeliverable schedule events; only when there is at least one job. */
  readonly deadLetterQueue?: aws.sqs.Queue;
  readonly role?: aws.iam.Role;
  /** By job name. */
  readonly schedules: Record<string, aws.scheduler.Schedule> = {};

  constructor(name: string, args: SchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:schedules:Schedules', name, {}, opts);
    const { jobs, retryPolicy = DEFAULT_RETRY } = args;
    validate(jobs, retryPolicy);
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
          .all([pulumi.all(jobs.map((job) => job.fn.arn)), dlq.arn])
          .apply(([functionArns, deadLetterQueueArn]) =>
            JSON.stringify(schedulerPolicy({ functionArns, deadLetterQueueArn })),
          ),
      },
      parent,
    );
    for (const job of jobs) {
      this.schedules[job.name] = new aws.scheduler.Schedule(
        `${name}-${job.name}`,
        {
          description: `logfire-broker: ${job.description}`,
          scheduleExpression: job.expression,
          flexibleTimeWindow: { mode: 'OFF' },
          target: {
            arn: job.fn.arn,
            roleArn: role.arn,
            input: JSON.stringify({ schedule: job.name }),
            retryPolicy,
            deadLetterConfig: { arn: dlq.arn },
          },
        },
        // Scheduler checks the role when the schedule is created.
        { parent: this, dependsOn: [policy] },
      );
    }
    this.deadLetterQueue = dlq;
    this.role = role;
    this.registerOutputs({ deadLetterQueueArn: dlq.arn });
  }
}

function validate(jobs: readonly ScheduledJob[], retry: RetryPolicy) {
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
}
