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

  it.each([
    ['a right-to-left override', '\u202e', 'U+202E (a format character)'],
    ['a left-to-right isolate', '\u2066', 'U+2066 (a format character)'],
    ['a zero-width space', '\u200b', 'U+200B (a format character)'],
    ['a zero-width joiner', '\u200d', 'U+200D (a format character)'],
    ['a line separator', '\u2028', 'U+2028 (a line or paragraph separator)'],
    ['a paragraph separator', '\u2029', 'U+2029 (a line or paragraph separator)'],
    ['a C1 control', '\u009b', 'U+009B (a control character)'],
    ['a noncharacter', '\ufffe', 'U+FFFE (a noncharacter)'],
    ['a private-use character', '\ue000', 'U+E000 (a private-use character)'],
  ])('refuses %s in every text field, naming the field and the character', (_what, bad, name) => {
    expect(refusal({ ...valid, platform: `linux${bad}x64` })).toBe(`platform: must not contain ${name}`);
    expect(refusal({ ...valid, metadata: { shell: `zsh${bad}` } })).toBe(
      `metadata.shell: must not contain ${name}`,
    );
    // A refused key is not repeated in the message: it may be what hides the problem.
    expect(refusal({ ...valid, metadata: { [`ci${bad}`]: 'true' } })).toBe(
      `metadata: a key must not contain ${name}`,
    );
    expect(refusal({ ...valid, installId: `${valid.installId}${bad}` })).toBe(
      `installId: must not contain ${name}`,
    );
    expect(refusal({ ...valid, app: { ...valid.app, name: `${bad}cli` } })).toBe(
      `app.name: must not contain ${name}`,
    );
    expect(refusal({ ...valid, app: { ...valid.app, version: `1.0${bad}` } })).toBe(
      `app.version: must not contain ${name}`,
    );
  });

  it('counts lengths in code points, so a 64-character limit holds 64 emoji', () => {
    expect(parseMintRequest({ ...valid, platform: '🚀'.repeat(64) }).platform).toBe('🚀'.repeat(64));
    expect(refusal({ ...valid, platform: '🚀'.repeat(65) })).toBe('platform: must be at most 64 characters');
    const value = 'ü'.repeat(100) + '🚀'.repeat(156);
    expect(parseMintRequest({ ...valid, metadata: { k: value } }).metadata).toEqual({ k: value });
    expect(refusal({ ...valid, metadata: { k: `${value}x` } })).toBe(
      'metadata.k: must be at most 256 characters',
    );
  });

  it('keeps spaces, letters of any script and emoji that carry no joiner', () => {
    const text = { platform: 'darwin arm64 東京', metadata: { time: '3:00\u202fPM', mood: '❤\ufe0f 🚀' } };
    expect(parseMintRequest({ ...valid, ...text })).toEqual({ ...valid, ...text });
  });

  it('repeats an unknown field name only short and cleaned of refused characters', () => {
    expect(refusal({ ...valid, 'x\u202e': 1 })).toBe('body: unknown field "x\ufffd"');
    expect(refusal({ ...valid, ['y'.repeat(5000)]: 1 })).toBe(`body: unknown field "${'y'.repeat(40)}…"`);
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
