/**
 * The one rule for text a client sends (mint fields, the recorded User-Agent): which characters are refused
 * and how length is counted. No dependency, so a route that only cleans a header does not bundle zod.
 */

/** U+FDD0–U+FDEF and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE … U+10FFFF). */
const NONCHARACTERS =
  '\\uFDD0-\\uFDEF' +
  Array.from({ length: 17 }, (_, plane) => {
    const base = (plane * 0x10000 + 0xfffe).toString(16);
    return `\\u{${base}}\\u{${(plane * 0x10000 + 0xffff).toString(16)}}`;
  }).join('');

/**
 * Characters no text field may hold, because they forge, hide or reorder what an operator reads in a log,
 * the audit trail or a terminal:
 * - Cc controls: NUL, newlines, ESC, and the C1 range (U+009B is an 8-bit CSI in many terminals);
 * - Cf format characters: bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069), zero-width space,
 *   joiners and non-joiners, word joiner, BOM, soft hyphen;
 * - Zl, Zp: U+2028 and U+2029 end a line in JavaScript source and in many log viewers;
 * - Cs: lone surrogates (valid JSON escapes, but no character);
 * - Co private use: no agreed meaning, so nobody reading the value can tell what it says;
 * - noncharacters, which Unicode reserves for a program's internal use.
 * Ordinary spaces (Zs, including the no-break spaces Intl puts in dates and numbers) and emoji stay allowed,
 * except ZWJ sequences, whose joiner is a format character.
 */
const REFUSED = new RegExp(`[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}\\p{Co}${NONCHARACTERS}]`, 'u');
const REFUSED_ALL = new RegExp(REFUSED.source, 'gu');

const KINDS: ReadonlyArray<[RegExp, string]> = [
  [/\p{Cc}/u, 'a control character'],
  [/\p{Cf}/u, 'a format character'],
  [/[\p{Zl}\p{Zp}]/u, 'a line or paragraph separator'],
  [/\p{Cs}/u, 'a lone surrogate'],
  [/\p{Co}/u, 'a private-use character'],
];

/**
 * The first refused character of `value`, named for an error message, or `undefined` when there is none.
 *
 * @example refusedCharacter('abc\u202Etxt.exe') // 'U+202E (a format character)'
 */
export function refusedCharacter(value: string): string | undefined {
  const match = REFUSED.exec(value);
  if (!match) return undefined;
  const kind = KINDS.find(([pattern]) => pattern.test(match[0]))?.[1] ?? 'a noncharacter';
  return `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} (${kind})`;
}

/**
 * Length in code points, the unit every limit of the contract counts: an emoji is one character, not two
 * UTF-16 units, so a 64-character limit holds 64 emoji.
 */
export function codePointLength(value: string): number {
  return [...value].length;
}

/**
 * Text the broker records without refusing the request over it (the User-Agent): at most `max` code points,
 * never cut inside a surrogate pair, each refused character replaced by U+FFFD.
 *
 * @example recordableText('curl/8\u009b31m', 256) // 'curl/8\uFFFD31m'
 */
export function recordableText(value: string, max: number): string {
  const kept: string[] = [];
  for (const character of value) {
    if (kept.length === max) break;
    kept.push(character);
  }
  return kept.join('').replace(REFUSED_ALL, '\uFFFD');
}
