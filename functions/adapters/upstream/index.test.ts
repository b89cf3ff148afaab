import { captureLog } from '../../../test/support/log';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, readConfig, type Env } from '../../config';
import { UpstreamUnavailable } from '../../core/errors';
import { startFakeLogfire, type FakeLogfire } from '../../../test/fakes/fakeLogfire';
import { startFakeSecretsManager } from '../../../test/fakes/fakeSecretsManager';
import { clearCredentialCache, loadCredential } from '../secrets';
import { ApiKeyUpstream, DevUpstream, UserTokenUpstream, createUpstream } from './index';

const API_KEY = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';
const EU_KEY = 'pylf_v1_eu_FakeEuApiKeyForTestsOnlyNotARealKey00000';
const UNKNOWN_REGION_KEY = 'pylf_v1_zz_FakeKeyInAnUnknownRegionForTests00000000';
const USER_TOKEN = 'pylf_v1_us_FakeUserTokenForTestsOnlyNotRealAtAll000';
const WRONG_KEY = 'pylf_v1_us_WrongApiKeyForTestsOnlyNotARealKey000000';

const noWait = async () => {};
const expiresAt = () => new Date(Date.now() + 86_400_000);

describe('Function: createUpstream', () => {
  let logfire: FakeLogfire;

  beforeEach(async () => {
    clearCredentialCache();
    logfire = await startFakeLogfire({
      apiKey: API_KEY,
      userToken: USER_TOKEN,
      organization: 'acme',
      project: 'cli',
    });
  });
  afterEach(() => logfire.close());

  const apiKeyEnv = (): Env => ({
    LOGFIRE_API_KEY: API_KEY,
    LOGFIRE_PROJECT_ID: logfire.projectId,
    LOGFIRE_BASE_URL: logfire.baseUrl,
  });

  it('builds the API-key upstream from LOGFIRE_API_KEY and mints through it', async () => {
    const upstream = createUpstream(readConfig(apiKeyEnv()), { log: captureLog().log, sleep: noWait });

    const issued = await upstream.createWriteToken({ expiresAt: expiresAt() });

    expect(upstream).toBeInstanceOf(ApiKeyUpstream);
    expect(issued.upstreamId).toBe(logfire.tokens[0]!.id);
  });

  it('gives each Logfire request the budget derived from BROKER_FUNCTION_TIMEOUT', async () => {
    const env = { ...apiKeyEnv(), BROKER_FUNCTION_TIMEOUT: '3s', BROKER_UPSTREAM_TIMEOUT: '5s' };
    const upstream = createUpstream(readConfig(env), { log: captureLog().log, sleep: noWait });
    logfire.fault({ delayMs: 5000 });
    const started = performance.now();

    const error = (await upstream
      .createWriteToken({ expiresAt: expiresAt() })
      .catch((e: unknown) => e)) as UpstreamUnavailable;

    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error.message).toContain('no reply within 1200 ms');
    expect(logfire.requests).toHaveLength(1);
  });

  it('builds the user-token upstream from LOGFIRE_USER_TOKEN', async () => {
    const env = {
      LOGFIRE_USER_TOKEN: USER_TOKEN,
      LOGFIRE_ORG: 'acme',
      LOGFIRE_PROJECT: 'cli',
      LOGFIRE_BASE_URL: logfire.baseUrl,
    };
    const upstream = createUpstream(readConfig(env), { log: captureLog().log, sleep: noWait });

    const issued = await upstream.createWriteToken({ expiresAt: expiresAt() });

    expect(upstream).toBeInstanceOf(UserTokenUpstream);
    expect(issued).toMatchObject({ token: logfire.tokens[0]!.token });
  });

  it('builds the dev upstream when no credential is set, and needs to know its ingest URL', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'upstream-factory-'));
    try {
      const upstream = createUpstream(readConfig({}), {
        log: captureLog().log,
        dataDir,
        ingestBaseUrl: 'http://127.0.0.1:8787/dev-logfire',
      });
      expect(upstream).toBeInstanceOf(DevUpstream);
      expect(upstream.ingestBaseUrl).toBe('http://127.0.0.1:8787/dev-logfire');
      expect(() => createUpstream(readConfig({}), { log: captureLog().log })).toThrow(/ingestBaseUrl/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('takes the region from an environment key at start, and refuses an unknown one then', () => {
    const env = { LOGFIRE_API_KEY: EU_KEY, LOGFIRE_PROJECT_ID: 'p' };
    expect(createUpstream(readConfig(env), { log: captureLog().log }).ingestBaseUrl).toBe(
      'https://logfire-eu.pydantic.dev',
    );
    const unknown = { LOGFIRE_API_KEY: UNKNOWN_REGION_KEY, LOGFIRE_PROJECT_ID: 'p' };
    expect(() => createUpstream(readConfig(unknown), { log: captureLog().log })).toThrow(ConfigError);
  });

  it('loads a Secrets Manager credential lazily: not at creation, once on first use', async () => {
    const config = readConfig({
      BROKER_UPSTREAM: 'api-key',
      BROKER_UPSTREAM_SECRET_ID: 'broker/upstream',
      LOGFIRE_PROJECT_ID: 'p',
    });
    const loadCredentialSpy = jest.fn(async () => EU_KEY);

    const upstream = createUpstream(config, { log: captureLog().log, loadCredential: loadCredentialSpy });

    expect(loadCredentialSpy).not.toHaveBeenCalled();
    expect(() => upstream.ingestBaseUrl).toThrow(/prepare\(\)/);
    await upstream.prepare();
    expect(loadCredentialSpy).toHaveBeenCalledWith({ from: 'secret', secretId: 'broker/upstream' });
    expect(upstream.ingestBaseUrl).toBe('https://logfire-eu.pydantic.dev');
  });

  it('mints with a credential read from Secrets Manager by the real SDK', async () => {
    const sm = await startFakeSecretsManager({ 'broker/upstream': JSON.stringify({ apiKey: API_KEY }) });
    const client = new SecretsManagerClient({
      endpoint: sm.endpoint,
      region: sm.region,
      credentials: { accessKeyId: 'AKIDFAKEFORTESTS', secretAccessKey: 'fake-secret-for-tests' },
    });
    try {
      const env = {
        ...apiKeyEnv(),
        LOGFIRE_API_KEY: undefined,
        BROKER_UPSTREAM: 'api-key',
        BROKER_UPSTREAM_SECRET_ID: 'broker/upstream',
      };
      const upstream = createUpstream(readConfig(env), {
        log: captureLog().log,
        loadCredential: (source) => loadCredential(source, { client }),
      });

      await upstream.createWriteToken({ expiresAt: expiresAt() });
      await upstream.createWriteToken({ expiresAt: expiresAt() });

      expect(logfire.requests.map((r) => r.headers.authorization)).toEqual([
        `Bearer ${API_KEY}`,
        `Bearer ${API_KEY}`,
      ]);
      expect(sm.requests).toHaveLength(1);
    } finally {
      client.destroy();
      await sm.close();
    }
  });
});

describe('Secrecy of the credential and the write tokens', () => {
  it('never logs them or puts them in an error, whatever Logfire does', async () => {
    const logfire = await startFakeLogfire({
      apiKey: API_KEY,
      userToken: USER_TOKEN,
      organization: 'acme',
      project: 'cli',
    });
    const { log, lines } = captureLog();
    const errors: unknown[] = [];
    const base = {
      LOGFIRE_BASE_URL: logfire.baseUrl,
      BROKER_UPSTREAM_TIMEOUT: '100ms',
      BROKER_UPSTREAM_RETRIES: '2',
    };
    const make = (env: Env) => createUpstream(readConfig({ ...base, ...env }), { log, sleep: noWait });
    const apiKey = make({ LOGFIRE_API_KEY: API_KEY, LOGFIRE_PROJECT_ID: logfire.projectId });
    const wrongKey = make({ LOGFIRE_API_KEY: WRONG_KEY, LOGFIRE_PROJECT_ID: logfire.projectId });
    const userToken = make({ LOGFIRE_USER_TOKEN: USER_TOKEN, LOGFIRE_ORG: 'acme', LOGFIRE_PROJECT: 'cli' });
    const wrongProject = make({ LOGFIRE_API_KEY: API_KEY, LOGFIRE_PROJECT_ID: 'no-such-project' });
    const attempt = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        errors.push(error);
      }
    };
    const mint = (upstream: typeof apiKey) => () => upstream.createWriteToken({ expiresAt: expiresAt() });

    try {
      const issued = await apiKey.createWriteToken({ expiresAt: expiresAt() });
      await apiKey.deleteWriteToken(issued.upstreamId!);
      await userToken.createWriteToken({ expiresAt: expiresAt() });
      await attempt(mint(wrongKey));
      await attempt(mint(wrongProject));
      logfire.failNext(3, 503);
      await attempt(mint(apiKey));
      logfire.failNext(3, 429, { 'Retry-After': '1' });
      await attempt(mint(userToken));
      logfire.fault({ delayMs: 1000 }, { delayMs: 1000 }, { delayMs: 1000 });
      await attempt(mint(apiKey));
      logfire.fault({ dropConnection: true }, { dropConnection: true }, { dropConnection: true });
      await attempt(mint(userToken));
      logfire.fault({ status: 403, body: { detail: `${API_KEY} may not`, echo: USER_TOKEN } });
      await attempt(mint(apiKey));
      logfire.fault({ status: 201, body: { id: 'x', token: '' } });
      await attempt(mint(apiKey));
      logfire.fault({ status: 422, body: { detail: [{ input: USER_TOKEN }] } });
      await attempt(mint(userToken));
    } finally {
      await logfire.close();
    }

    expect(errors).toHaveLength(9);
    const issuedTokens = logfire.issued.map((t) => t.token);
    expect(issuedTokens.length).toBeGreaterThanOrEqual(2);
    const seen = JSON.stringify([
      lines,
      errors.map((e) => {
        const error = e as Error & { detail?: unknown; cause?: unknown };
        return [error.message, String(error), error.detail, String(error.cause), error.stack];
      }),
    ]);
    for (const secret of [API_KEY, WRONG_KEY, USER_TOKEN, ...issuedTokens])
      expect(seen).not.toContain(secret);
  });
});
