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
    auditTableName: 'logfire-broker-prod-tokens-audit',
    upstreamSecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
  };

  it('writes an environment the Lambdas read back as the same settings', () => {
    const settings = parse({
      tokenTtl: '336h',
      rotationGrace: '90m',
      staleAfter: '45d',
      auditRetention: '730d',
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
      rotationGraceMs: 90 * 60_000,
      staleAfterMs: 45 * 86_400_000,
      auditRetentionMs: 730 * 86_400_000,
      auditTableName: refs.auditTableName,
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
    expect(lambdaEnvironment(settings, refs)).toMatchObject({
      BROKER_TOKEN_TTL: '14d',
      BROKER_ROTATION_GRACE: '90m',
      BROKER_STALE_AFTER: '45d',
      BROKER_AUDIT_RETENTION: '730d',
      BROKER_AUDIT_TABLE_NAME: refs.auditTableName,
    });
  });

  it('writes a rotation grace of zero as a duration the Lambdas accept', () => {
    const settings = parse({ rotationGrace: '0s' });
    expect(readConfig(lambdaEnvironment(settings, refs)).rotationGraceMs).toBe(0);
  });

  it('writes the anomaly rules as BROKER_ANOMALY_* that the Lambdas read back the same', () => {
    const settings = parse({
      anomalies: '{"window": "30m", "install-networks": "4:revoke:dry-run", "relay-volume": "off"}',
    });
    const env = lambdaEnvironment(settings, refs);
    expect(env).toMatchObject({
      BROKER_ANOMALY_WINDOW: '30m',
      BROKER_ANOMALY_INSTALL_NETWORKS: '4:revoke:dry-run',
      BROKER_ANOMALY_RELAY_VOLUME: 'off',
      BROKER_ANOMALY_MINTS_PER_NETWORK: '50:flag',
    });
    expect(readConfig(env).anomalies).toEqual(settings.anomalies);
  });

  it('holds names and settings only: no credential variable', () => {
    const env = lambdaEnvironment(parse({}), refs);
    expect(Object.keys(env)).not.toContain('LOGFIRE_API_KEY');
    expect(Object.keys(env)).not.toContain('LOGFIRE_USER_TOKEN');
    expect(env.LOGFIRE_BASE_URL).toBeUndefined(); // the region comes from the credential's prefix
  });
});

describe('Method: lambdaEnvironment, ingest relay', () => {
  const refs = { tableName: 't', auditTableName: 't-audit', upstreamSecretId: 'arn:aws:secretsmanager:::x' };

  it('hands the relay settings to the Lambdas, which read them back the same', () => {
    const settings = parse({
      ingestMode: 'relay',
      relayRequestsPerMinute: '45',
      relayBytesPerDay: '3MiB',
      relayStampIdentity: 'true',
      publicUrl: 'https://telemetry.example.com',
    });

    const config = readConfig(lambdaEnvironment(settings, refs));

    expect(config.ingestMode).toBe('relay');
    expect(config.relay).toEqual(settings.relay);
  });

  it('sets no public URL when the stack has none (the Lambdas take the request URL)', () => {
    const env = lambdaEnvironment(parse({ ingestMode: 'relay' }), refs);

    expect(env).not.toHaveProperty('BROKER_PUBLIC_URL');
    expect(readConfig(env).relay.publicUrl).toBeUndefined();
  });
});
