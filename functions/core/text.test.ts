import { codePointLength, recordableText, refusedCharacter } from './text';

const char = (codePoint: number) => String.fromCodePoint(codePoint);

describe('Method: refusedCharacter', () => {
  it.each([
    ['0000', 'a control character'], // NUL
    ['000A', 'a control character'], // newline: forges a log line
    ['001B', 'a control character'], // ESC: terminal escapes
    ['007F', 'a control character'], // DEL
    ['009B', 'a control character'], // C1 CSI: an 8-bit terminal escape
    ['00AD', 'a format character'], // soft hyphen: invisible
    ['200B', 'a format character'], // zero-width space
    ['200C', 'a format character'], // zero-width non-joiner
    ['200D', 'a format character'], // zero-width joiner
    ['200E', 'a format character'], // left-to-right mark
    ['202A', 'a format character'], // left-to-right embedding
    ['202E', 'a format character'], // right-to-left override: 'exe.txt' shown as 'txt.exe'
    ['2060', 'a format character'], // word joiner
    ['2066', 'a format character'], // left-to-right isolate
    ['2069', 'a format character'], // pop directional isolate
    ['FEFF', 'a format character'], // BOM / zero-width no-break space
    ['E0041', 'a format character'], // tag character
    ['2028', 'a line or paragraph separator'],
    ['2029', 'a line or paragraph separator'],
    ['E000', 'a private-use character'],
    ['F8FF', 'a private-use character'],
    ['F0000', 'a private-use character'],
    ['10FFFD', 'a private-use character'],
    ['FDD0', 'a noncharacter'],
    ['FDEF', 'a noncharacter'],
    ['FFFE', 'a noncharacter'],
    ['FFFF', 'a noncharacter'],
    ['1FFFE', 'a noncharacter'],
    ['10FFFF', 'a noncharacter'],
  ])('refuses U+%s as %s, wherever it stands', (hex, kind) => {
    const codePoint = parseInt(hex, 16);
    const name = `U+${hex} (${kind})`;
    for (const value of [char(codePoint), `linux${char(codePoint)}`, `${char(codePoint)}x64`]) {
      expect(refusedCharacter(value)).toBe(name);
    }
  });

  it('refuses lone surrogates, which JSON can carry as escapes', () => {
    expect(refusedCharacter(JSON.parse('"a\\ud800b"') as string)).toBe('U+D800 (a lone surrogate)');
    expect(refusedCharacter(JSON.parse('"\\udfff"') as string)).toBe('U+DFFF (a lone surrogate)');
  });

  it('names the first refused character when there are several', () => {
    expect(refusedCharacter('a\u2028b\u202e')).toBe('U+2028 (a line or paragraph separator)');
  });

  it.each([
    ['ASCII with spaces', 'linux-x64 node20'],
    ['accented letters', 'Åsa Ødegård'],
    ['combining marks', 'e\u0301'],
    ['CJK', '東京都'],
    ['right-to-left script without controls', 'שלום'],
    ['an emoji outside the BMP', '🚀'],
    ['an emoji with a variation selector', '❤\ufe0f'],
    ['the no-break spaces Intl puts in times and numbers', '3:00\u202fPM 1\u00a0234 \u3000'],
    ['the neighbours of the noncharacter block', '\ufdcf\ufdf0'],
    ['the replacement character', '\ufffd'],
  ])('accepts %s', (_what, value) => {
    expect(refusedCharacter(value)).toBeUndefined();
  });
});

describe('Method: codePointLength', () => {
  it('counts an emoji as one character, not two UTF-16 units', () => {
    expect(codePointLength('🚀'.repeat(64))).toBe(64);
    expect('🚀'.repeat(64).length).toBe(128);
  });

  it('counts code points, not what a reader sees as one letter', () => {
    expect(codePointLength('e\u0301')).toBe(2);
    expect(codePointLength('')).toBe(0);
  });
});

describe('Method: recordableText', () => {
  it('replaces each refused character with U+FFFD and keeps the rest', () => {
    expect(recordableText('curl/8\u009b31m \u202egnp.exe\u2028x', 256)).toBe(
      'curl/8\ufffd31m \ufffdgnp.exe\ufffdx',
    );
  });

  it('keeps at most the given number of code points without cutting a surrogate pair', () => {
    const kept = recordableText(`a${'🚀'.repeat(300)}`, 256);
    expect(codePointLength(kept)).toBe(256);
    expect(refusedCharacter(kept)).toBeUndefined();
    expect(kept.endsWith('🚀')).toBe(true);
  });
});
