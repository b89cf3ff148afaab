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
  if (arns.kmsKey) statements.push(...customerManagedKeyStatements(spec, arns.kmsKey));
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
 * What a customer managed key needs from a function's role: DynamoDB and Secrets Manager use a customer managed key with the
 * CALLER's permissions, so the role needs them, and `kms:ViaService` keeps the key usable only through
 * that service, never directly. The sets are AWS's own:
 * - DynamoDB reads need kms:Decrypt and kms:DescribeKey; writes also kms:Encrypt, kms:ReEncrypt* and
 *   kms:GenerateDataKey* (aws-cdk `packages/aws-cdk-lib/aws-dynamodb/lib/perms.ts`, KEY_READ_ACTIONS and
 *   KEY_WRITE_ACTIONS, used by Table.grantReadData / grantWriteData; AWS KMS Developer Guide, "How Amazon
 *   DynamoDB uses AWS KMS", https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html).
 * - Secrets Manager: GetSecretValue needs kms:Decrypt (aws-cdk `aws-secretsmanager/lib/secret.ts`,
 *   Secret.grantRead: `encryptionKey.grantDecrypt` via `secretsmanager.<region>.amazonaws.com`); writing
 *   a value would also need kms:Encrypt, kms:ReEncrypt* and kms:GenerateDataKey* (grantWrite), but no
 *   function writes a secret: `pulumi up` or the operator does, with their own credentials.
 * @example customerManagedKeyStatements(handlerNamed('heartbeat'), keyArn).map((s) => s.Sid) // ['CustomerManagedKeyDynamoDB']
 */
export function customerManagedKeyStatements(spec: HandlerSpec, kmsKey: string): PolicyStatement[] {
  const region = regionOfArn(kmsKey);
  const writes = [...spec.tokens.actions, ...(spec.audit?.actions ?? [])].some((action) =>
    TABLE_WRITES.has(action),
  );
  const statements: PolicyStatement[] = [
    {
      Sid: 'CustomerManagedKeyDynamoDB',
      Effect: 'Allow',
      Action: [...KEY_READ_ACTIONS, ...(writes ? KEY_WRITE_ACTIONS : [])].sort(),
      Resource: [kmsKey],
      Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
    },
  ];
  if (spec.readsUpstreamSecret || spec.readsAdminTotpSeed) {
    statements.push({
      Sid: 'CustomerManagedKeySecretsManager',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: [kmsKey],
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
    });
  }
  return statements;
}

const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
/**
 * The CDK's `kms:Encrypt`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, spelled out: this stack writes no
 * wildcard action (policy/). The `GenerateDataKeyPair*` actions that `GenerateDataKey*` would also match
 * make asymmetric key pairs, which a table's symmetric encryption never asks for.
 */
const KEY_WRITE_ACTIONS = [
  'kms:Encrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
];
const TABLE_WRITES = new Set<string>([
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
]);

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
