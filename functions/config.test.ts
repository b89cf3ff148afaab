import { ConfigError, formatDuration, parseDuration, parseSize, readConfig, readLocalConfig } from './config';

describe('Method: parseDuration', () => {
  it('reads every unit', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('6h')).toBe(21_600_000);
    expect(parseDuration('14d')).toBe(1_209_600_000);
  });

  it('refuses what is not a duration', () => {
    for (const text of ['', '6', 'h', '1.5h', '-1s', '6 hours', '1w'])
      expect(parseDuration(text)).toBeUndefined();
  });

  it('formats back in the largest exact unit', () => {
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});

describe('Method: readConfig', () => {
  it('has the documented defaults and the dev upstream when no credential is set', () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      tokenTtlMs: 14 * 86_400_000,
      rotateAfterMs: 7 * 86_400_000,
      heartbeatIntervalMs: 6 * 3_600_000,
      idempotencyWindowMs: 600_000,
      rotationGraceMs: 86_400_000,
      staleAfterMs: 30 * 86_400_000,
      auditRetentionMs: 365 * 86_400_000,
      tableName: 'logfire-broker-tokens',
      auditTableName: 'logfire-broker-tokens-audit',
      upstream: { kind: 'dev' },
      logLevel: 'INFO',
    });
  });

  it('picks the API-key upstream from LOGFIRE_API_KEY and requires the project id', () => {
    expect(() => readConfig({ LOGFIRE_API_KEY: 'k' })).toThrow(/LOGFIRE_PROJECT_ID/);
    const config = readConfig({
      LOGFIRE_API_KEY: 'k',
      LOGFIRE_PROJECT_ID: 'p',
      LOGFIRE_BASE_URL: 'http://127.0.0.1:1/',
    });
    expect(config.upstream).toEqual({
      kind: 'api-key',
      credential: { from: 'env', value: 'k' },
      projectId: 'p',
      baseUrl: 'http://127.0.0.1:1',
    });
  });

  it('picks the user-token upstream and requires organization and project', () => {
    expect(() => readConfig({ LOGFIRE_USER_TOKEN: 't', LOGFIRE_ORG: 'o' })).toThrow(/LOGFIRE_PROJECT/);
    expect(
      readConfig({ LOGFIRE_USER_TOKEN: 't', LOGFIRE_ORG: 'o', LOGFIRE_PROJECT: 'p' }).upstream.kind,
    ).toBe('user-token');
  });

  it('reads the credential from Secrets Manager in AWS', () => {
    const config = readConfig({
      BROKER_UPSTREAM: 'api-key',
      BROKER_UPSTREAM_SECRET_ID: 'arn:x',
      LOGFIRE_PROJECT_ID: 'p',
    });
    expect(config.upstream).toMatchObject({ credential: { from: 'secret', secretId: 'arn:x' } });
  });

  it.each([
    ['BROKER_TOKEN_TTL', { BROKER_TOKEN_TTL: 'two weeks' }],
    ['BROKER_HEARTBEAT_INTERVAL', { BROKER_HEARTBEAT_INTERVAL: '0s' }],
    ['BROKER_ROTATE_AFTER', { BROKER_ROTATE_AFTER: '20d' }],
    ['BROKER_UPSTREAM_RETRIES', { BROKER_UPSTREAM_RETRIES: '99' }],
    ['BROKER_UPSTREAM', { BROKER_UPSTREAM: 'magic' }],
    ['BROKER_LOG_LEVEL', { BROKER_LOG_LEVEL: 'loud' }],
    ['LOGFIRE_BASE_URL', { LOGFIRE_BASE_URL: 'ftp://x' }],
    ['LOGFIRE_USER_TOKEN', { LOGFIRE_API_KEY: 'a', LOGFIRE_USER_TOKEN: 'b', LOGFIRE_PROJECT_ID: 'p' }],
  ])('refuses a bad %s with a message naming it', (key, env) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(new RegExp(`^${key}: `));
  });

  it('never puts the credential in an error message', () => {
    const secret = 'pylf_v1_us_' + 'S'.repeat(40);
    for (const env of [
      { LOGFIRE_API_KEY: secret },
      { LOGFIRE_API_KEY: secret, LOGFIRE_USER_TOKEN: secret },
      { LOGFIRE_USER_TOKEN: secret, LOGFIRE_ORG: 'o' },
    ]) {
      expect(() => readConfig(env)).toThrow(ConfigError);
      try {
        readConfig(env);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });
});

describe('Method: readLocalConfig', () => {
  it('defaults to 127.0.0.1:8787 and ./.broker-data', () => {
    expect(readLocalConfig({})).toEqual({
      scheduleIntervalMs: 60_000,
      port: 8787,
      host: '127.0.0.1',
      dataDir: './.broker-data',
    });
  });

  it('accepts a schedule interval as short as 1s, so the lifecycle can be watched locally', () => {
    expect(readLocalConfig({ BROKER_SCHEDULE_INTERVAL: '1s' }).scheduleIntervalMs).toBe(1000);
  });

  it('refuses a port out of range', () => {
    expect(() => readLocalConfig({ BROKER_PORT: '70000' })).toThrow(/^BROKER_PORT: /);
  });
});

describe('Method: readConfig, ingest relay', () => {
  it('is direct by default, with relay quotas of 120 requests a minute and 100 MiB a day', () => {
    expect(readConfig({})).toMatchObject({
      ingestMode: 'direct',
      relay: { requestsPerMinute: 120, bytesPerDay: 100 * 1024 * 1024, stampIdentity: false },
    });
  });

  it('reads relay mode, sizes in decimal and binary units, the stamping flag and a public URL', () => {
    const config = readConfig({
      BROKER_INGEST_MODE: 'relay',
      BROKER_RELAY_REQUESTS_PER_MINUTE: '30',
      BROKER_RELAY_BYTES_PER_DAY: '2GiB',
      BROKER_RELAY_STAMP_IDENTITY: '1',
      BROKER_PUBLIC_URL: 'https://telemetry.example.com/',
    });

    expect(config.ingestMode).toBe('relay');
    expect(config.relay).toEqual({
      requestsPerMinute: 30,
      bytesPerDay: 2 * 1024 ** 3,
      stampIdentity: true,
      publicUrl: 'https://telemetry.example.com',
    });
    expect(parseSize('500KB')).toBe(500_000);
    expect(parseSize('4096')).toBe(4096);
  });

  it.each([
    ['BROKER_INGEST_MODE', 'proxy'],
    ['BROKER_RELAY_REQUESTS_PER_MINUTE', '0'],
    ['BROKER_RELAY_BYTES_PER_DAY', '1.5GB'],
    ['BROKER_RELAY_BYTES_PER_DAY', '0'],
    ['BROKER_RELAY_STAMP_IDENTITY', 'yes'],
    ['BROKER_PUBLIC_URL', 'ftp://example.com'],
  ])('refuses %s=%s, naming the variable', (key, value) => {
    expect(() => readConfig({ [key]: value })).toThrow(new RegExp(`^${key}: `));
  });
});
