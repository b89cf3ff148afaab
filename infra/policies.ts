/**
 * IAM policy documents as pure functions of ARNs: the components feed resolved ARNs in with `.apply`, and
 * the tests read the same documents without Pulumi. Every statement names exact actions on exact ARNs.
 */
import type { AuditTableAction, HandlerSpec, TableAccess } from './handlers';

const APPEND_ONLY = new Set<string>([
  'dynamodb:PutItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:Query',
] satisfies AuditTableAction[]);

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource?: string[];
  Principal?: { Service: string };
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/**
 * Lets one AWS service assume a role; with `sourceAccount`, only on behalf of this account (confused deputy).
 * @example assumeRolePolicy('scheduler.amazonaws.com', '123456789012')
 */
export function assumeRolePolicy(service: string, sourceAccount?: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AssumeRole',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Principal: { Service: service },
        ...(sourceAccount ? { Condition: { StringEquals: { 'aws:SourceAccount': sourceAccount } } } : {}),
      },
    ],
  };
}

export interface FunctionArns {
  tokensTable: string;
  auditTable: string;
  upstreamSecret: string;
  /** The admin TOTP seed's secret: only a handler with `readsAdminTotpSeed` gets a statement for it. */
  adminTotpSeed?: string;
  /** The function's own log group, as `aws.cloudwatch.LogGroup.arn` gives it (without `:*`). */
  logGroup: string;
  /** The customer managed key of the tables and the secret, when the stack uses one. */
  kmsKey?: string;
}

/**
 * The one inline policy of a handler's role: its DynamoDB actions on its tables (and the indexes it
 * queries), the upstream secret if it calls Logfire, the CMK through those services only, and its own logs.
 * @example functionPolicy(handlerNamed('heartbeat'), arns).Statement.map((s) => s.Sid) // ['TokensTable', 'Logs']
 */
export function functionPolicy(spec: HandlerSpec, arns: FunctionArns): PolicyDocument {
  const statements: PolicyStatement[] = [tableStatement('TokensTable', spec.tokens, arns.tokensTable)];
  if (spec.audit) {
    // The type allows appends only; a spec built around it still must not rewrite the audit trail.
    const rewrites = spec.audit.actions.filter((action) => !APPEND_ONLY.has(action));
    if (rewrites.length > 0)
      throw new Error(`${spec.name}: the audit table is append-only, refusing ${rewrites.join(', ')}`);
    statements.push(tableStatement('AuditTable', spec.audit, arns.auditTable));
  }
  if (spec.readsUpstreamSecret) {
    statements.push({
      Sid: 'UpstreamSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [arns.upstreamSecret],
    });
  }
  if (spec.readsAdminTotpSeed) {
    if (!arns.adminTotpSeed)
      throw new Error(`${spec.name}: reads the admin TOTP seed, but no secret is given`);
    statements.push({
      Sid: 'AdminTotpSeed',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [arns.adminTotpSeed],
    });
  }
  if (arns.kmsKey) {
    const region = regionOfArn(arns.kmsKey);
    const services = [`dynamodb.${region}.amazonaws.com`];
    if (spec.readsUpstreamSecret || spec.readsAdminTotpSeed) {
      services.push(`secretsmanager.${region}.amazonaws.com`);
    }
    statements.push({
      Sid: 'CustomerManagedKey',
      Effect: 'Allow',
      // DynamoDB and Secrets Manager decrypt with the caller's permission; ViaService keeps the key usable
      // only through them, never directly.
      Action: ['kms:Decrypt'],
      Resource: [arns.kmsKey],
      Condition: { StringEquals: { 'kms:ViaService': services } },
    });
  }
  statements.push({
    Sid: 'Logs',
    Effect: 'Allow',
    // The log group exists (the stack creates it), so no logs:CreateLogGroup; `:*` covers its streams.
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [`${arns.logGroup}:*`],
  });
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * What EventBridge Scheduler may do with its role: invoke exactly the scheduled functions, and park
 * undeliverable events in the dead-letter queue.
 * @example schedulerPolicy({ functionArns: [rotateArn], deadLetterQueueArn: dlqArn })
 */
export function schedulerPolicy(targets: {
  functionArns: string[];
  deadLetterQueueArn: string;
}): PolicyDocument {
  if (targets.functionArns.length === 0) throw new Error('schedulerPolicy: no function to invoke');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'InvokeScheduledFunctions',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: [...new Set(targets.functionArns)].sort(),
      },
      {
        Sid: 'DeadLetterQueue',
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: [targets.deadLetterQueueArn],
      },
    ],
  };
}

/**
 * The second inline policy of a scheduled job's role, owned by the Schedules component that creates the
 * queue: Lambda sends a failed asynchronous invocation's record to the queue with the function's role.
 * @example failureDestinationPolicy('arn:aws:sqs:us-east-1:123456789012:jobs-dlq')
 */
export function failureDestinationPolicy(queueArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'FailureDestination', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [queueArn] },
    ],
  };
}

/**
 * The region field of an ARN.
 * @example regionOfArn('arn:aws:kms:eu-west-1:123456789012:key/abc') // 'eu-west-1'
 */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!region) throw new Error(`not a regional ARN: ${arn}`);
  return region;
}

function tableStatement(sid: string, access: TableAccess<string>, tableArn: string): PolicyStatement {
  if (access.actions.length === 0) throw new Error(`${sid}: a table access needs at least one action`);
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: [...new Set(access.actions)].sort(),
    Resource: [tableArn, ...(access.indexes ?? []).map((index) => `${tableArn}/index/${index}`)],
  };
}
