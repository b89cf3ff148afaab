import * as pulumi from '@pulumi/pulumi';
import { parseDuration, readConfig } from '../functions/config';
import { ROUTES } from '../functions/http/routes';
import { Functions, missingBundles, type FunctionsArgs } from './functions';
import { HANDLERS, bundlePath, handlerNamed } from './handlers';
import type { PolicyDocument } from './policies';
import { ACCOUNT, REGION, ofType, setupMocks, settle, type RecordedResource } from './testing/mocks';

const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/p-tokens`;
const AUDIT = `${TABLE}-audit`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:up-AbCdEf`;
const SEED = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:admin-totp-XyZ123`;
const KMS = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const ARGS: FunctionsArgs = {
  handlers: HANDLERS,
  namePrefix: 'p',
  environment: { BROKER_TABLE_NAME: 'p-tokens', BROKER_UPSTREAM_SECRET_ID: SECRET },
  tokensTableArn: TABLE,
  auditTableArn: AUDIT,
  upstreamSecretArn: SECRET,
  adminTotpSeedArn: SEED,
  memoryMb: 512,
  timeoutSeconds: 20,
  reservedConcurrency: { mint: 7 },
  logRetentionDays: 14,
  logLevel: 'WARN',
};

/** Builds Functions under fresh mocks; keeps each function's code archive as the program passed it. */
async function build(overrides: Partial<FunctionsArgs> = {}) {
  const resources = setupMocks();
  const code: Record<string, pulumi.asset.AssetArchive> = {};
  const keepCode: pulumi.ResourceTransformation = ({ type, props }) => {
    if (type === 'aws:lambda/function:Function')
      code[props.name as string] = props.code as pulumi.asset.AssetArchive;
    return undefined;
  };
  const functions = new Functions('fn', { ...ARGS, ...overrides }, { transformations: [keepCode] });
  await settle();
  const fns = ofType(resources, 'aws:lambda/function:Function');
  const byName = (type: string, name: string) => ofType(resources, type).find((r) => r.name === name)!;
  return { resources, functions, fns, code, byName };
}

const policyOf = (resources: RecordedResource[], handler: string): PolicyDocument =>
  JSON.parse(
    ofType(resources, 'aws:iam/rolePolicy:RolePolicy').find((r) => r.name === `fn-${handler}-policy`)!.inputs
      .policy as string,
  ) as PolicyDocument;

describe('Functions', () => {
  let built: Awaited<ReturnType<typeof build>>;
  beforeAll(async () => {
    built = await build();
  });

  it('deploys one nodejs22.x arm64 function per handler, with memory, timeout and concurrency from config', async () => {
    const { fns } = built;
    expect(fns.map((f) => f.inputs.name).sort()).toEqual(HANDLERS.map((h) => `p-${h.name}`).sort());
    for (const { inputs } of fns) {
      const spec = handlerNamed(String(inputs.name).slice('p-'.length));
      expect(inputs).toMatchObject({
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler: 'index.handler',
        memorySize: spec.memoryMb ?? 512,
        timeout: spec.timeoutSeconds ?? 20,
      });
      expect(inputs.reservedConcurrentExecutions).toBe(inputs.name === 'p-mint' ? 7 : undefined);
    }
  });

  it('gives every function its own log group with retention, and sends its JSON logs there', async () => {
    const { fns, resources } = built;
    const groups = ofType(resources, 'aws:cloudwatch/logGroup:LogGroup');
    expect(groups).toHaveLength(HANDLERS.length);
    for (const { inputs } of fns) {
      const group = groups.find((g) => g.inputs.name === `/aws/lambda/${String(inputs.name)}`);
      expect(group?.inputs.retentionInDays).toBe(14);
      expect(inputs.loggingConfig).toEqual({
        logFormat: 'JSON',
        logGroup: `/aws/lambda/${String(inputs.name)}`,
        applicationLogLevel: 'WARN',
        systemLogLevel: 'INFO',
      });
    }
  });

  it('deploys the bundle npm run build writes for each handler', async () => {
    const { code } = built;
    for (const handler of HANDLERS) {
      const assets = await code[`p-${handler.name}`]!.assets;
      expect(Object.keys(assets)).toEqual(['index.mjs']);
      expect(await (assets['index.mjs'] as pulumi.asset.FileAsset).path).toBe(bundlePath(handler.name));
    }
  });

  it('gives every function its own role that only Lambda can assume, with one inline policy', async () => {
    const { fns, resources } = built;
    const roles = ofType(resources, 'aws:iam/role:Role');
    const policies = ofType(resources, 'aws:iam/rolePolicy:RolePolicy');
    expect(roles).toHaveLength(HANDLERS.length);
    expect(policies).toHaveLength(HANDLERS.length);
    expect(ofType(resources, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment')).toHaveLength(0);
    for (const handler of HANDLERS) {
      const role = roles.find((r) => r.name === `fn-${handler.name}-role`)!;
      expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: ['sts:AssumeRole'],
        }),
      ]);
      expect(fns.find((f) => f.inputs.name === `p-${handler.name}`)!.inputs.role).toBe(role.state.arn);
      expect(policies.filter((p) => p.inputs.role === role.state.name)).toHaveLength(1);
    }
  });

  it('gives the scheduled jobs their own timeout and memory, past what an API function may have', () => {
    const { fns } = built;
    const settings = (name: string) => {
      const { inputs } = fns.find((f) => f.inputs.name === `p-${name}`)!;
      return [inputs.timeout, inputs.memorySize];
    };
    expect(settings('rotate')).toEqual([300, 256]);
    expect(settings('sweep')).toEqual([600, 256]);
  });

  it.each(HANDLERS.map((h) => [h.name]))(
    'grants %s exactly its declared DynamoDB actions on its tables and indexes, and writes only to its own log group',
    (name) => {
      const { resources } = built;
      const spec = handlerNamed(name);
      const policy = policyOf(resources, name);
      const byService = (prefix: string) =>
        policy.Statement.filter((s) => s.Action.some((a) => a.startsWith(prefix)));
      expect(byService('dynamodb:')).toEqual([
        expect.objectContaining({
          Action: [...spec.tokens.actions].sort(),
          Resource: [TABLE, ...(spec.tokens.indexes ?? []).map((index) => `${TABLE}/index/${index}`)],
        }),
        ...(spec.audit
          ? [
              expect.objectContaining({
                Action: [...spec.audit.actions].sort(),
                Resource: [AUDIT, ...(spec.audit.indexes ?? []).map((index) => `${AUDIT}/index/${index}`)],
              }),
            ]
          : []),
      ]);
      expect(byService('logs:')).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/p-${name}:*`],
        }),
      ]);
      // Nothing beyond its tables, its secret (if it calls Logfire) and its logs.
      expect(policy.Statement.flatMap((s) => s.Action).sort()).toEqual(
        [
          ...spec.tokens.actions,
          ...(spec.audit?.actions ?? []),
          ...(spec.readsUpstreamSecret ? ['secretsmanager:GetSecretValue'] : []),
          ...(spec.readsAdminTotpSeed ? ['secretsmanager:GetSecretValue'] : []),
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ].sort(),
      );
      expect(policy.Statement.flatMap((s) => s.Resource)).toEqual([
        TABLE,
        ...(spec.tokens.indexes ?? []).map((index) => `${TABLE}/index/${index}`),
        ...(spec.audit
          ? [AUDIT, ...(spec.audit.indexes ?? []).map((index) => `${AUDIT}/index/${index}`)]
          : []),
        ...(spec.readsUpstreamSecret ? [SECRET] : []),
        ...(spec.readsAdminTotpSeed ? [SEED] : []),
        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/p-${name}:*`,
      ]);
      for (const statement of policy.Statement) {
        expect(statement.Effect).toBe('Allow');
        expect(statement.Action.some((action) => action.includes('*'))).toBe(false);
        expect(statement.Resource).not.toContain('*');
      }
    },
  );

  it('grants heartbeat no secretsmanager access, and the others only the upstream secret', async () => {
    const { resources } = built;
    const secretGrants = (name: string) =>
      policyOf(resources, name).Statement.filter((s) =>
        s.Action.some((a) => a.startsWith('secretsmanager:')),
      );
    expect(secretGrants('heartbeat')).toEqual([]);
    // rotate: the relay's pool (relay mode) is rotated by making a Logfire token.
    for (const name of ['mint', 'refresh', 'rotate', 'sweep']) {
      expect(secretGrants(name)).toEqual([
        expect.objectContaining({ Action: ['secretsmanager:GetSecretValue'], Resource: [SECRET] }),
      ]);
    }
  });

  it('grants kms:Decrypt on the customer managed key only when the stack uses one', async () => {
    const plain = built;
    for (const h of HANDLERS) expect(JSON.stringify(policyOf(plain.resources, h.name))).not.toContain('kms:');
    const cmk = await build({ kmsKeyArn: KMS });
    for (const h of HANDLERS) {
      expect(policyOf(cmk.resources, h.name).Statement).toContainEqual(
        expect.objectContaining({ Action: ['kms:Decrypt'], Resource: [KMS] }),
      );
    }
    for (const group of ofType(cmk.resources, 'aws:cloudwatch/logGroup:LogGroup')) {
      expect(group.inputs.kmsKeyId).toBe(KMS);
    }
  });

  it('lets only the admin function read the admin TOTP seed, and names the seed to it alone', async () => {
    const { fns, resources } = built;
    const readers = ofType(resources, 'aws:iam/rolePolicy:RolePolicy')
      .filter((policy) => JSON.stringify(policy.inputs.policy).includes(SEED))
      .map((policy) => policy.name);
    expect(readers).toEqual(['fn-admin-policy']);
    const admin = ofType(resources, 'aws:iam/rolePolicy:RolePolicy').find(
      (p) => p.name === 'fn-admin-policy',
    )!;
    const statements = (JSON.parse(String(admin.inputs.policy)) as PolicyDocument).Statement;
    expect(statements.find((s) => s.Sid === 'AdminTotpSeed')).toEqual({
      Sid: 'AdminTotpSeed',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [SEED],
    });
    const named = fns
      .filter(
        (fn) =>
          (fn.inputs.environment as { variables: Record<string, string> }).variables
            .BROKER_ADMIN_TOTP_SECRET_ID,
      )
      .map((fn) => fn.inputs.name);
    expect(named).toEqual(['p-admin']);
  });

  it('passes the environment through to every function, with its own timeout added', async () => {
    const { fns } = built;
    for (const { inputs } of fns) {
      const { variables } = inputs.environment as { variables: Record<string, string> };
      const { BROKER_FUNCTION_TIMEOUT, BROKER_ADMIN_TOTP_SECRET_ID: _seed, ...shared } = variables;
      expect(shared).toEqual(ARGS.environment);
      expect(parseDuration(BROKER_FUNCTION_TIMEOUT!)).toBe(Number(inputs.timeout) * 1000);
    }
  });

  it('gives each function a Logfire budget that leaves room to store and compensate within its timeout', async () => {
    const { fns } = built;
    for (const { inputs } of fns) {
      const { variables } = inputs.environment as { variables: Record<string, string> };
      const timeoutMs = Number(inputs.timeout) * 1000;

      const { upstreamBudgetMs } = readConfig(variables);

      // A create and its compensating delete, and time left for the DynamoDB writes.
      expect(2 * upstreamBudgetMs).toBeLessThan(timeoutMs - 500);
    }
  });

  it('maps every route to the function that serves it', async () => {
    const { functions } = built;
    const routes = functions.routeFunctions();
    expect(Object.keys(routes).sort()).toEqual([...new Set(ROUTES.map((r) => r.name))].sort());
    expect(routes.heartbeat).toBe(functions.byName.heartbeat!.fn);
  });

  it('refuses an API handler whose timeout API Gateway would cut short', () => {
    setupMocks();
    const slow = [{ ...handlerNamed('mint'), timeoutSeconds: 60 }];
    expect(() => new Functions('fn', { ...ARGS, handlers: slow, reservedConcurrency: {} })).toThrow(
      'at most 29 s',
    );
  });

  it('refuses reserved concurrency for a handler that does not exist', () => {
    setupMocks();
    expect(() => new Functions('fn', { ...ARGS, reservedConcurrency: { ingest: 1 } })).toThrow('"ingest"');
  });

  it('lists the bundles that are missing from a folder', () => {
    expect(missingBundles(HANDLERS, '/nonexistent')).toEqual(
      HANDLERS.map((h) => bundlePath(h.name, '/nonexistent')),
    );
  });
});
