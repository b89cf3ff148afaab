import { readConfig } from '../functions/config';
import { lambdaEnvironment } from './environment';
import { HANDLERS } from './handlers';
import { parseSettings } from './settings';

const PROJECT_ID = '0b6e3f2a-5c4d-4e8f-9a1b-2c3d4e5f6a7b';
const parse = (raw: Record<string, string>) =>
  parseSettings(
    { logfireProjectId: PROJECT_ID, ...raw },
    { stack: 'prod', handlerNames: HANDLERS.map((h) => h.name) },
  );

describe('Method: lambdaEnvironment', () => {
  const refs = {
    tableName: 'logfire-broker-prod-tokens',
    upstreamSecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
  };

  it('writes an environment the Lambdas read back as the same settings', () => {
    const settings = parse({
      tokenTtl: '336h',
      upstreamRetries: '2',
      logLevel: 'DEBUG',
      logfireRegion: 'eu',
    });
    const config = readConfig(lambdaEnvironment(settings, refs));
    expect(config).toMatchObject({
      tokenTtlMs: settings.tokenTtlMs,
      rotateAfterMs: settings.rotateAfterMs,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      idempotencyWindowMs: settings.idempotencyWindowMs,
      upstreamTimeoutMs: settings.upstreamTimeoutMs,
      upstreamRetries: 2,
      logLevel: 'DEBUG',
      tableName: refs.tableName,
      upstream: {
        kind: 'api-key',
        credential: { from: 'secret', secretId: refs.upstreamSecretId },
        projectId: PROJECT_ID,
        baseUrl: 'https://logfire-eu.pydantic.dev',
      },
    });
    expect(lambdaEnvironment(settings, refs).BROKER_TOKEN_TTL).toBe('14d');
  });

  it('holds names and settings only: no credential variable', () => {
    const env = lambdaEnvironment(parse({}), refs);
    expect(Object.keys(env)).not.toContain('LOGFIRE_API_KEY');
    expect(Object.keys(env)).not.toContain('LOGFIRE_USER_TOKEN');
    expect(env.LOGFIRE_BASE_URL).toBeUndefined(); // the region comes from the credential's prefix
  });
});
