/**
 * The policy pack on the program's own resource graph: infra/index.ts under the Pulumi mocks (its bundle
 * check stubbed: this is about the resources, not the build), then on deliberately broken copies.
 */
import type { PolicyResource } from '@pulumi/policy';
import type { RecordedResource } from '../infra/testing/mocks';
import { evaluate, policyResources, type Violation } from './harness';
import { POLICIES, stackOf, wildcardsIn } from './rules';

const PROJECT_ID = '0b6e3f2a-5c4d-4e8f-9a1b-2c3d4e5f6a7b';
const CREDENTIAL = 'pylf_v1_us_FAKE_UPSTREAM_CREDENTIAL_p0l1cyPack';
const KMS = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The resources `pulumi up` would create for a stack, as the policy engine sees them. */
async function programGraph(config: Record<string, string>, stack: string): Promise<PolicyResource[]> {
  let recorded: RecordedResource[] = [];
  await jest.isolateModulesAsync(async () => {
    const bundles = await import('../infra/bundles');
    jest.spyOn(bundles, 'bundleProblems').mockReturnValue([]);
    const mocks = await import('../infra/testing/mocks');
    recorded = mocks.setupMocks({ logfireProjectId: PROJECT_ID, ...config }, stack);
    const program = await import('../infra/index');
    await mocks.valueOf(program.apiUrl);
    await mocks.settle();
  });
  return policyResources(recorded, stack);
}

/** A deep copy in which `change` breaks the first resource of `type` that `where` accepts. */
function broken(
  graph: PolicyResource[],
  type: string,
  change: (props: Record<string, unknown>) => void,
  where: (resource: PolicyResource) => boolean = () => true,
): PolicyResource[] {
  let done = false;
  return graph.map((resource) => {
    if (done || resource.type !== type || !where(resource)) return resource;
    done = true;
    const props = structuredClone(resource.props) as Record<string, unknown>;
    change(props);
    return { ...resource, props };
  });
}

const names = (violations: Violation[]) => violations.map((v) => `${v.policy}: ${v.message}`);

describe('Policy pack on the stack', () => {
  let prod: PolicyResource[];
  beforeAll(async () => {
    prod = await programGraph(
      {
        upstreamCredential: CREDENTIAL,
        alarmEmail: 'ops@example.com',
        kmsKeyArn: KMS,
        ingestMode: 'relay',
        domainName: 'broker.example.com',
        hostedZoneId: 'Z0123456789ABC',
        disableExecuteApiEndpoint: 'true',
        wafLogging: 'true',
        tracing: 'true',
      },
      'prod',
    );
  }, 60_000);

  it('passes on the stack as infra/ builds it, every option on', async () => {
    expect(prod.length).toBeGreaterThan(100);
    expect(names(await evaluate(POLICIES, prod))).toEqual([]);
  });

  it('passes on a dev stack with its defaults (tables unprotected there)', async () => {
    const dev = await programGraph({}, 'dev');
    expect(names(await evaluate(POLICIES, dev))).toEqual([]);
  }, 60_000);

  it('fails an inline policy with a wildcard action or resource', async () => {
    const copy = broken(prod, 'aws:iam/rolePolicy:RolePolicy', (props) => {
      props.policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['dynamodb:*'], Resource: '*' }],
      });
    });
    expect(names(await evaluate(POLICIES, copy))).toEqual([
      'no-wildcard-iam: allows action dynamodb:*',
      'no-wildcard-iam: allows resource *',
    ]);
  });

  it('fails a table without point-in-time recovery or deletion protection outside dev', async () => {
    const copy = broken(prod, 'aws:dynamodb/table:Table', (props) => {
      props.pointInTimeRecovery = { enabled: false };
      props.deletionProtectionEnabled = false;
    });
    expect(names(await evaluate(POLICIES, copy))).toEqual([
      'tables-protected-outside-dev: has no point-in-time recovery',
      'tables-protected-outside-dev: has no deletion protection',
    ]);
    // devStacks is the pack's configuration: a stack named there may run without.
    expect(await evaluate(POLICIES, copy, { devStacks: ['dev', 'prod'] })).toEqual([]);
  });

  it('fails a log group that never expires', async () => {
    const copy = broken(prod, 'aws:cloudwatch/logGroup:LogGroup', (props) => {
      delete props.retentionInDays;
    });
    expect(names(await evaluate(POLICIES, copy))).toEqual([
      'log-retention-everywhere: keeps its logs forever: set retentionInDays',
    ]);
  });

  it('fails a stage without a WebACL', async () => {
    const copy = prod.filter((resource) => resource.type !== 'aws:wafv2/webAclAssociation:WebAclAssociation');
    expect(names(await evaluate(POLICIES, copy))).toEqual([
      expect.stringMatching(/^waf-on-every-stage: stage .* has no WAF WebACL$/),
    ]);
  });

  it('fails a credential in a Lambda environment, and a secret-named variable', async () => {
    const copy = broken(prod, 'aws:lambda/function:Function', (props) => {
      const environment = props.environment as { variables: Record<string, string> };
      environment.variables.LOGFIRE_API_KEY = CREDENTIAL;
    });
    const violations = await evaluate(POLICIES, copy);
    expect(names(violations)).toEqual([
      expect.stringMatching(/^no-secret-outside-secrets-manager: .* holds a Logfire credential$/),
      expect.stringMatching(
        /^no-secret-outside-secrets-manager: .* has the secret-named environment variable LOGFIRE_API_KEY$/,
      ),
    ]);
    expect(JSON.stringify(violations)).not.toContain(CREDENTIAL);
  });

  it('fails an alarm that notifies no topic of the stack', async () => {
    const copy = broken(prod, 'aws:cloudwatch/metricAlarm:MetricAlarm', (props) => {
      props.alarmActions = ['arn:aws:sns:us-east-1:123456789012:somewhere-else'];
    });
    expect(names(await evaluate(POLICIES, copy))).toEqual([
      expect.stringMatching(/^alarms-notify-the-topic: alarm .* notifies no topic of this stack$/),
    ]);
  });
});

describe('Rule helpers', () => {
  it('finds wide-open statements, and leaves exact ones and denials alone', () => {
    expect(
      wildcardsIn({
        Statement: [
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: ['arn:aws:kms:us-east-1:1:key/k'] },
          { Effect: 'Deny', Action: '*', Resource: '*' },
          { Effect: 'Allow', NotAction: ['iam:*'], Resource: 'arn:aws:s3:::b' },
        ],
      }),
    ).toEqual(['NotAction']);
  });

  it('reads the stack from a URN', () => {
    expect(stackOf('urn:pulumi:prod.eu::logfire-broker::aws:dynamodb/table:Table::t')).toBe('prod.eu');
  });
});
