import { HANDLERS, handlerNamed, type HandlerSpec } from './handlers';
import {
  assumeRolePolicy,
  failureDestinationPolicy,
  functionPolicy,
  regionOfArn,
  schedulerPolicy,
  type FunctionArns,
  type PolicyDocument,
} from './policies';

const ARNS: FunctionArns = {
  tokensTable: 'arn:aws:dynamodb:us-east-1:123456789012:table/t',
  auditTable: 'arn:aws:dynamodb:us-east-1:123456789012:table/t-audit',
  upstreamSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:up-AbCdEf',
  adminTotpSeed: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-totp-XyZ123',
  logGroup: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/p-heartbeat',
};
const KMS = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const actions = (policy: PolicyDocument) => policy.Statement.flatMap((s) => s.Action);
const resources = (policy: PolicyDocument) => policy.Statement.flatMap((s) => s.Resource ?? []);
const statement = (policy: PolicyDocument, sid: string) => policy.Statement.find((s) => s.Sid === sid);

describe('Method: functionPolicy', () => {
  it('grants the heartbeat function its one token write, appends to the audit trail and its logs, nothing else', () => {
    const policy = functionPolicy(handlerNamed('heartbeat'), ARNS);
    expect(actions(policy).sort()).toEqual([
      'dynamodb:BatchWriteItem', // the heartbeat-storm signal, on the audit table only
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    expect(statement(policy, 'TokensTable')).toMatchObject({ Action: ['dynamodb:UpdateItem'] });
    expect(statement(policy, 'AuditTable')).toMatchObject({
      Action: ['dynamodb:BatchWriteItem'],
      Resource: [ARNS.auditTable],
    });
    expect(resources(policy)).toEqual([ARNS.tokensTable, ARNS.auditTable, `${ARNS.logGroup}:*`]);
  });

  it('grants the heartbeat function no secretsmanager access', () => {
    expect(
      actions(functionPolicy(handlerNamed('heartbeat'), ARNS)).some((a) => a.startsWith('secretsmanager:')),
    ).toBe(false);
  });

  it('lets mint, refresh and sweep read the upstream secret, and only that secret', () => {
    for (const name of ['mint', 'refresh', 'sweep']) {
      expect(statement(functionPolicy(handlerNamed(name), ARNS), 'UpstreamSecret')).toEqual({
        Sid: 'UpstreamSecret',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: [ARNS.upstreamSecret],
      });
    }
  });

  it('uses no wildcard action or resource for any handler', () => {
    for (const spec of HANDLERS) {
      const policy = functionPolicy(spec, { ...ARNS, kmsKey: KMS });
      for (const action of actions(policy)) expect(action).not.toContain('*');
      for (const resource of resources(policy))
        expect(resource === '*' || resource.endsWith(':*:*')).toBe(false);
    }
  });

  it('touches the audit table and indexes only when the handler declares them', () => {
    const spec: HandlerSpec = {
      ...handlerNamed('heartbeat'),
      tokens: { actions: ['dynamodb:Query'], indexes: ['bySeenAt'] },
      audit: { actions: ['dynamodb:PutItem'] },
    };
    const policy = functionPolicy(spec, ARNS);
    expect(statement(policy, 'TokensTable')?.Resource).toEqual([
      ARNS.tokensTable,
      `${ARNS.tokensTable}/index/bySeenAt`,
    ]);
    expect(statement(policy, 'AuditTable')).toMatchObject({
      Action: ['dynamodb:PutItem'],
      Resource: [ARNS.auditTable],
    });
    const withoutAudit = { ...handlerNamed('heartbeat'), audit: undefined };
    expect(resources(functionPolicy(withoutAudit, ARNS))).not.toContain(ARNS.auditTable);
  });

  it('never lets a handler rewrite or delete audit entries', () => {
    for (const spec of HANDLERS) {
      const audit = statement(functionPolicy(spec, ARNS), 'AuditTable');
      expect(audit?.Action ?? []).not.toContain('dynamodb:UpdateItem');
      expect(audit?.Action ?? []).not.toContain('dynamodb:DeleteItem');
    }
    const rewriting = {
      ...handlerNamed('sweep'),
      audit: { actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'] },
    } as unknown as HandlerSpec;
    expect(() => functionPolicy(rewriting, ARNS)).toThrow(
      'sweep: the audit table is append-only, refusing dynamodb:DeleteItem',
    );
  });

  it('grants the scheduled jobs Query on the indexes they read, and on no other', () => {
    const indexes = (name: string) =>
      (statement(functionPolicy(handlerNamed(name), ARNS), 'TokensTable')?.Resource ?? []).filter((r) =>
        r.includes('/index/'),
      );
    expect(indexes('rotate')).toEqual([`${ARNS.tokensTable}/index/byRotateAt`]);
    expect(indexes('sweep').sort()).toEqual(
      ['byChain', 'byDeleteAt', 'byExpireAt', 'byInstall', 'byRelayAt', 'bySeenAt', 'byUpstreamId'].map(
        (i) => `${ARNS.tokensTable}/index/${i}`,
      ),
    );
    // The anomaly rules read the audit trail by time.
    expect(statement(functionPolicy(handlerNamed('sweep'), ARNS), 'AuditTable')?.Resource).toEqual([
      ARNS.auditTable,
      `${ARNS.auditTable}/index/byTime`,
    ]);
    for (const name of ['mint', 'heartbeat', 'refresh']) expect(indexes(name)).toEqual([]);
  });

  it('grants kms:Decrypt on the customer managed key only when there is one, and only via the services', () => {
    expect(statement(functionPolicy(handlerNamed('mint'), ARNS), 'CustomerManagedKey')).toBeUndefined();
    expect(
      statement(functionPolicy(handlerNamed('mint'), { ...ARNS, kmsKey: KMS }), 'CustomerManagedKey'),
    ).toEqual({
      Sid: 'CustomerManagedKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: [KMS],
      Condition: {
        StringEquals: {
          'kms:ViaService': ['dynamodb.us-east-1.amazonaws.com', 'secretsmanager.us-east-1.amazonaws.com'],
        },
      },
    });
    const heartbeat = functionPolicy(handlerNamed('heartbeat'), { ...ARNS, kmsKey: KMS });
    expect(statement(heartbeat, 'CustomerManagedKey')?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': ['dynamodb.us-east-1.amazonaws.com'] },
    });
  });
});

describe('Method: schedulerPolicy', () => {
  it('invokes exactly the given functions and writes only to the dead-letter queue', () => {
    const policy = schedulerPolicy({
      functionArns: ['arn:aws:lambda:us-east-1:1:function:b', 'arn:aws:lambda:us-east-1:1:function:a'],
      deadLetterQueueArn: 'arn:aws:sqs:us-east-1:1:dlq',
    });
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Action: ['lambda:InvokeFunction'],
        Resource: ['arn:aws:lambda:us-east-1:1:function:a', 'arn:aws:lambda:us-east-1:1:function:b'],
      }),
      expect.objectContaining({ Action: ['sqs:SendMessage'], Resource: ['arn:aws:sqs:us-east-1:1:dlq'] }),
    ]);
  });

  it('refuses a policy with no function to invoke (IAM would refuse an empty Resource)', () => {
    expect(() => schedulerPolicy({ functionArns: [], deadLetterQueueArn: 'q' })).toThrow('no function');
  });
});

describe('Method: failureDestinationPolicy', () => {
  it('lets a job send its failed runs to the one queue, nothing more', () => {
    expect(failureDestinationPolicy('arn:aws:sqs:us-east-1:1:dlq').Statement).toEqual([
      {
        Sid: 'FailureDestination',
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: ['arn:aws:sqs:us-east-1:1:dlq'],
      },
    ]);
  });
});

describe('Method: assumeRolePolicy', () => {
  it('trusts one service, for one account when asked', () => {
    expect(assumeRolePolicy('scheduler.amazonaws.com', '123456789012').Statement[0]).toEqual({
      Sid: 'AssumeRole',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Principal: { Service: 'scheduler.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    expect(assumeRolePolicy('lambda.amazonaws.com').Statement[0]?.Condition).toBeUndefined();
  });

  it('reads the region of an ARN', () => {
    expect(regionOfArn(KMS)).toBe('us-east-1');
    expect(() => regionOfArn('arn:aws:iam::1:role/x')).toThrow('not a regional ARN');
  });
});
