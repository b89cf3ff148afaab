import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startFakeSecretsManager, type FakeSecretsManager } from '../../test/fakes/fakeSecretsManager';
import { UpstreamUnavailable } from '../core/errors';
import { CREDENTIAL_CACHE_MS, CredentialMissing, clearCredentialCache, loadCredential } from './secrets';

const API_KEY = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';
const SECRET_ID = 'logfire-broker/upstream-credential';

describe('Function: loadCredential', () => {
  let sm: FakeSecretsManager;
  let client: SecretsManagerClient;
  let now: number;
  const load = (secretId = SECRET_ID) =>
    loadCredential({ from: 'secret', secretId }, { client, now: () => now });

  beforeEach(async () => {
    clearCredentialCache();
    now = 1_000_000;
    sm = await startFakeSecretsManager();
    // The real SDK, signing with obviously fake keys; one attempt so failure tests do not back off.
    client = new SecretsManagerClient({
      endpoint: sm.endpoint,
      region: sm.region,
      credentials: { accessKeyId: 'AKIDFAKEFORTESTS', secretAccessKey: 'fake-secret-for-tests' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    client.destroy();
    await sm.close();
  });

  it('returns an environment credential as given, trimmed', async () => {
    await expect(loadCredential({ from: 'env', value: ` ${API_KEY}\n` })).resolves.toBe(API_KEY);
  });

  it('reads the secret with GetSecretValue and trims whitespace', async () => {
    sm.setSecret(SECRET_ID, `${API_KEY}\n`);

    await expect(load()).resolves.toBe(API_KEY);

    expect(sm.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ID } }]);
  });

  it.each([
    ['apiKey', { apiKey: API_KEY }],
    ['token', { token: ` ${API_KEY} ` }],
  ])('accepts a JSON secret with the %s field', async (_key, value) => {
    sm.setSecret(SECRET_ID, JSON.stringify(value));

    await expect(load()).resolves.toBe(API_KEY);
  });

  it('caches the value for five minutes, then picks up a rotated one', async () => {
    sm.setSecret(SECRET_ID, 'first-value');
    await load();
    sm.setSecret(SECRET_ID, 'rotated-value');

    now += CREDENTIAL_CACHE_MS - 1;
    await expect(load()).resolves.toBe('first-value');
    now += 1;
    await expect(load()).resolves.toBe('rotated-value');

    expect(sm.requests).toHaveLength(2);
  });

  it('makes one call for concurrent cold reads', async () => {
    sm.setSecret(SECRET_ID, API_KEY);

    const values = await Promise.all([load(), load(), load()]);

    expect(values).toEqual([API_KEY, API_KEY, API_KEY]);
    expect(sm.requests).toHaveLength(1);
  });

  it('names the missing secret and the command that fixes it', async () => {
    const error = (await load().catch((e: unknown) => e)) as CredentialMissing;

    expect(error).toBeInstanceOf(CredentialMissing);
    expect(error.message).toContain(`Secret "${SECRET_ID}"`);
    expect(error.message).toContain(
      `aws secretsmanager put-secret-value --secret-id ${SECRET_ID} --secret-string`,
    );
    expect(error.message).toContain('ResourceNotFoundException');
  });

  it('refuses an empty secret', async () => {
    sm.setSecret(SECRET_ID, '  \n');

    await expect(load()).rejects.toThrow(`Secret "${SECRET_ID}" is empty`);
  });

  it('never puts the value in an error about its shape', async () => {
    sm.setSecret(SECRET_ID, JSON.stringify({ key: API_KEY }));
    const wrongField = (await load().catch((e: unknown) => e)) as Error;
    clearCredentialCache();
    sm.setSecret(SECRET_ID, `{${API_KEY}`);
    const notJson = (await load().catch((e: unknown) => e)) as Error;

    expect(wrongField).toBeInstanceOf(CredentialMissing);
    expect(notJson).toBeInstanceOf(CredentialMissing);
    expect(`${wrongField.message} ${notJson.message} ${String(notJson.cause)}`).not.toContain(API_KEY);
  });

  it('answers UpstreamUnavailable when Secrets Manager fails, and does not cache the failure', async () => {
    sm.setSecret(SECRET_ID, API_KEY);
    sm.failNext(1);

    const error = (await load().catch((e: unknown) => e)) as UpstreamUnavailable;

    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error.retryAfterSeconds).toBe(30);
    await expect(load()).resolves.toBe(API_KEY);
  });

  it('treats access denied as a configuration problem', async () => {
    sm.failNext(1, 'AccessDeniedException', 400);

    await expect(load()).rejects.toThrow(/cannot be read \(AccessDeniedException\)/);
  });
});
