import { InvalidRequest } from './errors';
import { parseIdempotencyKey, parseMintRequest } from './validation';

const valid = {
  installId: '3f0c9a62-6f7e-4f55-9d8e-1b1e0c1f2a3b',
  app: { name: '@acme/cli', version: '1.4.0-beta.1' },
};

function refusal(body: unknown): string {
  try {
    parseMintRequest(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('Method: parseMintRequest', () => {
  it('accepts a minimal request and one with platform and metadata', () => {
    expect(parseMintRequest(valid)).toEqual(valid);
    const full = { ...valid, platform: 'linux-x64 node20', metadata: { ci: 'true', shell: 'zsh' } };
    expect(parseMintRequest(full)).toEqual(full);
  });

  it('names the field that is wrong', () => {
    expect(refusal({ ...valid, installId: 'short' })).toMatch(/^installId: must be at least 8/);
    expect(refusal({ ...valid, app: { name: 'cli' } })).toMatch(/app\.version: expected string/);
    expect(refusal({ ...valid, app: { name: 'cli', version: 1 } })).toMatch(/app\.version: expected string/);
    expect(refusal({ ...valid, extra: 1 })).toMatch(/unknown field "extra"/);
  });

  it('refuses control characters that could forge log lines', () => {
    expect(refusal({ ...valid, platform: 'linux\n{"level":"ERROR"}' })).toMatch(/platform/);
    expect(refusal({ ...valid, platform: 'a\u0000b' })).toMatch(/platform/);
    expect(refusal({ ...valid, metadata: { k: 'v\u001b[31m' } })).toMatch(/metadata\.k/);
  });

  it('bounds metadata in entries, key shape and value length', () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    expect(refusal({ ...valid, metadata: many })).toMatch(/at most 20 entries/);
    expect(refusal({ ...valid, metadata: { 'bad key': 'v' } })).toMatch(/metadata/);
    expect(refusal({ ...valid, metadata: { k: 'x'.repeat(257) } })).toMatch(/metadata\.k/);
  });
});

describe('Method: parseIdempotencyKey', () => {
  it('accepts a UUID and nothing at all', () => {
    expect(parseIdempotencyKey('6b1c2f0e-8a4d-4c3b-9f1e-2d3c4b5a6978')).toBe(
      '6b1c2f0e-8a4d-4c3b-9f1e-2d3c4b5a6978',
    );
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it('refuses short, long and odd keys', () => {
    for (const key of ['', 'abc', 'x'.repeat(256), 'has space in it 123', 'ünïcode-key-0123456']) {
      expect(() => parseIdempotencyKey(key)).toThrow(InvalidRequest);
    }
  });
});
