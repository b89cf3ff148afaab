import { redact, tokenPrefixOf } from './tokenShape';

const ORG = '3f6c2a1e-8b4d-4c7a-9e2f-5d1b0a9c8e7f';
const V1 = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';
const V2 = `pylf_v2_eu_${ORG}_FakeV2SecretForTestsOnlyNotARealKey000`;

describe('Function: redact', () => {
  it('removes the given secrets and anything shaped like a v1 Logfire token', () => {
    expect(redact(`a ${V1} b sekrit-value c`, ['sekrit-value'])).toBe('a [redacted] b [redacted] c');
  });

  it('removes a v2 credential whole, org id and secret, wherever it stands', () => {
    const text = `key=${V2}; "Bearer ${V2}" ${V2.toUpperCase().replace('PYLF', 'pylf')}`;

    const clean = redact(text);

    expect(clean).toBe('key=[redacted]; "Bearer [redacted]" [redacted]');
  });

  it('removes a v2 credential whose org id is written without hyphens', () => {
    const compact = `pylf_v2_us_${ORG.replace(/-/g, '')}_SecretPartOfTheKey00000000`;
    expect(redact(`x ${compact} y`)).toBe('x [redacted] y');
  });

  it('keeps a token prefix readable, for v1 and v2, since Logfire shows it in its UI', () => {
    const prefixes = `pylf_v1_us_AbCdEf and pylf_v2_eu_${ORG}_AbCdEf`;
    expect(redact(prefixes)).toBe(prefixes);
  });

  it('removes a token cut anywhere past 12 secret characters', () => {
    expect(redact(`${V1.slice(0, 'pylf_v1_us_'.length + 12)}…`)).toBe('[redacted]…');
    expect(redact(`${V2.slice(0, V2.lastIndexOf('_') + 13)}…`)).toBe('[redacted]…');
  });
});

describe('Function: tokenPrefixOf', () => {
  it('keeps the public part and 5 secret characters, as Logfire prints tokens', () => {
    expect(tokenPrefixOf(V1)).toBe('pylf_v1_us_FakeA');
    expect(tokenPrefixOf(V2)).toBe(`pylf_v2_eu_${ORG}_FakeV`);
    expect(tokenPrefixOf('legacy-token-without-prefix')).toBe('legac');
  });

  it('gives a prefix that redaction leaves alone', () => {
    for (const token of [V1, V2]) expect(redact(tokenPrefixOf(token))).toBe(tokenPrefixOf(token));
  });
});
