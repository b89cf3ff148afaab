import { ConfigError } from '../../config';
import { LogfireAccess, logfireBaseUrl } from './region';

const US_KEY = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';
const EU_KEY = 'pylf_v1_eu_FakeEuApiKeyForTestsOnlyNotARealKey00000';
const UNKNOWN_REGION_KEY = 'pylf_v1_zz_FakeKeyInAnUnknownRegionForTests00000000';

describe('Function: logfireBaseUrl', () => {
  it('picks the region from the key prefix', () => {
    expect(logfireBaseUrl(US_KEY)).toBe('https://logfire-us.pydantic.dev');
    expect(logfireBaseUrl(EU_KEY)).toBe('https://logfire-eu.pydantic.dev');
  });

  it('picks the region from a v2 key, whose org id follows the region', () => {
    const v2 = 'pylf_v2_eu_3f6c2a1e-8b4d-4c7a-9e2f-5d1b0a9c8e7f_FakeV2SecretForTestsOnly0000';
    expect(logfireBaseUrl(v2)).toBe('https://logfire-eu.pydantic.dev');
  });

  it('lets LOGFIRE_BASE_URL override the region, without a trailing slash', () => {
    expect(logfireBaseUrl(EU_KEY, 'http://127.0.0.1:9999/')).toBe('http://127.0.0.1:9999');
    expect(logfireBaseUrl(UNKNOWN_REGION_KEY, 'https://logfire.internal')).toBe('https://logfire.internal');
  });

  it('refuses an unknown region without an override, naming the setting and not the key', () => {
    const error = (() => {
      try {
        return logfireBaseUrl(UNKNOWN_REGION_KEY);
      } catch (e) {
        return e;
      }
    })() as ConfigError;

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('LOGFIRE_BASE_URL');
    expect(error.message).toContain('"zz"');
    expect(error.message).not.toContain(UNKNOWN_REGION_KEY);
  });

  it('sends a credential without a region prefix to the US, as Logfire clients do', () => {
    expect(logfireBaseUrl('legacy-token-without-prefix')).toBe('https://logfire-us.pydantic.dev');
  });
});

describe('LogfireAccess', () => {
  it('knows the base URL only once the credential is loaded, unless overridden', async () => {
    const access = new LogfireAccess(async () => `  ${EU_KEY}\n`);

    expect(() => access.baseUrl).toThrow(/prepare\(\)|LOGFIRE_BASE_URL/);
    await expect(access.resolve()).resolves.toEqual({
      credential: EU_KEY,
      baseUrl: 'https://logfire-eu.pydantic.dev',
    });
    expect(access.baseUrl).toBe('https://logfire-eu.pydantic.dev');
    expect(new LogfireAccess(async () => EU_KEY, 'http://127.0.0.1:1/').baseUrl).toBe('http://127.0.0.1:1');
  });
});
