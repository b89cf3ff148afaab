import * as pulumi from '@pulumi/pulumi';
import { UpstreamSecret } from './secrets';
import { ofType, setupMocks, settle, valueOf } from './testing/mocks';

const KMS = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CREDENTIAL = 'pylf_v1_us_FAKE_CREDENTIAL_7f3a9c';

async function build(args: { credential?: pulumi.Input<string>; kmsKeyArn?: string } = {}) {
  const resources = setupMocks();
  const secret = new UpstreamSecret('upstream', {
    upstreamKind: 'api-key',
    recoveryWindowInDays: 30,
    ...args,
  });
  await settle();
  return { resources, secret };
}

describe('UpstreamSecret', () => {
  it('creates the secret without a value, so the credential never enters the Pulumi state', async () => {
    const { resources } = await build();
    expect(ofType(resources, 'aws:secretsmanager/secret:Secret')).toHaveLength(1);
    expect(ofType(resources, 'aws:secretsmanager/secretVersion:SecretVersion')).toHaveLength(0);
  });

  it('writes one secret version when the operator opts in with a config secret', async () => {
    const { resources } = await build({ credential: pulumi.secret(CREDENTIAL) });
    const versions = ofType(resources, 'aws:secretsmanager/secretVersion:SecretVersion');
    expect(versions).toHaveLength(1);
    expect(versions[0]!.inputs.secretId).toBe('upstream-credential-id');
    expect(JSON.stringify(versions[0]!.inputs.secretString)).toContain(CREDENTIAL);
  });

  it('keeps the value a Pulumi secret even when given as plain text', async () => {
    const { secret } = await build({ credential: CREDENTIAL });
    expect(await pulumi.isSecret(secret.version!.secretString)).toBe(true);
  });

  it('encrypts with the customer managed key only when one is set', async () => {
    const plain = await build();
    expect(ofType(plain.resources, 'aws:secretsmanager/secret:Secret')[0]!.inputs.kmsKeyId).toBeUndefined();
    const cmk = await build({ kmsKeyArn: KMS });
    expect(ofType(cmk.resources, 'aws:secretsmanager/secret:Secret')[0]!.inputs.kmsKeyId).toBe(KMS);
  });

  it('exposes the ARN, not the value', async () => {
    const { secret } = await build({ credential: CREDENTIAL });
    expect(await valueOf(secret.arn)).toMatch(/^arn:aws:secretsmanager:/);
    expect(await valueOf(secret.arn)).not.toContain(CREDENTIAL);
  });

  it('refuses a recovery window Secrets Manager would refuse', () => {
    setupMocks();
    expect(() => new UpstreamSecret('x', { upstreamKind: 'api-key', recoveryWindowInDays: 3 })).toThrow(
      'recoveryWindowInDays',
    );
  });
});
