import * as pulumi from '@pulumi/pulumi';
import { loadConfig } from './config';
import { setupMocks, valueOf } from './testing/mocks';

const PROJECT_ID = '0b6e3f2a-5c4d-4e8f-9a1b-2c3d4e5f6a7b';
const CREDENTIAL = 'pylf_v1_us_FAKE_CREDENTIAL_c0nf1g';

describe('Method: loadConfig', () => {
  it('reads logfire-broker:* from the stack configuration', () => {
    setupMocks(
      { logfireProjectId: PROJECT_ID, rateLimit: '50', mintAllowlist: '["203.0.113.0/24"]' },
      'prod',
    );
    const { settings, upstreamCredential } = loadConfig();
    expect(settings).toMatchObject({
      namePrefix: 'logfire-broker-prod',
      upstream: { kind: 'api-key', projectId: PROJECT_ID },
      protect: true,
      waf: { rateLimit: 50, mintAllowlist: ['203.0.113.0/24'] },
    });
    expect(upstreamCredential).toBeUndefined();
  });

  it('turns protection off by default on the dev stack only', () => {
    setupMocks({ logfireProjectId: PROJECT_ID }, 'dev');
    expect(loadConfig().settings.protect).toBe(false);
    setupMocks({ logfireProjectId: PROJECT_ID }, 'staging');
    expect(loadConfig().settings.protect).toBe(true);
  });

  it('reads the opt-in credential as a Pulumi secret and keeps it out of the settings', async () => {
    setupMocks({ logfireProjectId: PROJECT_ID, upstreamCredential: CREDENTIAL });
    const { settings, upstreamCredential } = loadConfig();
    expect(await pulumi.isSecret(upstreamCredential!)).toBe(true);
    expect(await valueOf(upstreamCredential!)).toBe(CREDENTIAL);
    expect(JSON.stringify(settings)).not.toContain(CREDENTIAL);
  });

  it.each([
    [{ rateLimit: '5' }, 'logfire-broker:rateLimit must be at least 10 (WAF minimum), got 5'],
    [{ mintAllowlist: '["10.0.0.300/8"]' }, 'logfire-broker:mintAllowlist entry "10.0.0.300/8"'],
    [{ rateWindowSeconds: '90' }, 'logfire-broker:rateWindowSeconds must be one of 60, 120, 300, 600'],
    [{ heartbeatInterval: 'often' }, 'logfire-broker:heartbeatInterval must be a duration'],
    [{ rotateAfter: '30d' }, 'logfire-broker:rotateAfter must be shorter than tokenTtl'],
    [{ upstreamKind: 'password' }, 'logfire-broker:upstreamKind must be one of api-key, user-token'],
    [{ logfireProjectId: '' }, 'logfire-broker:logfireProjectId is required'],
    [
      { rateLImit: '100' },
      'logfire-broker:rateLImit is not a setting of this stack; did you mean rateLimit?',
    ],
  ])('fails with a message naming the key for %j', (config, message) => {
    setupMocks({ logfireProjectId: PROJECT_ID, ...config });
    expect(() => loadConfig()).toThrow(message);
  });

  it('refuses an upstreamCredential set without --secret, which would sit in plain text in the stack file', () => {
    setupMocks({ logfireProjectId: PROJECT_ID, upstreamCredential: CREDENTIAL }, 'prod', {
      plaintextKeys: ['upstreamCredential'],
    });
    expect(() => loadConfig()).toThrow(
      /^logfire-broker:upstreamCredential is set in plain text; it must be a secret: pulumi config rm upstreamCredential && pulumi config set --secret/,
    );
    try {
      loadConfig();
    } catch (error) {
      expect(String(error)).not.toContain(CREDENTIAL);
    }
  });

  it('refuses a customer managed key from another region than aws:region', () => {
    setupMocks({ logfireProjectId: PROJECT_ID, kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc' });
    expect(() => loadConfig()).toThrow(
      'logfire-broker:kmsKeyArn is in eu-west-1, but the stack deploys to us-east-1',
    );
  });
});
