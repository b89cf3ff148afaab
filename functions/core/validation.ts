/**
 * Validation of what callers send. Everything here is strict: unknown fields, control, format and separator
 * characters and oversized values are refused with a message that says which field and why.
 */
import * as z from 'zod/mini';
import type { MintRequest } from './contract';
import { InvalidRequest } from './errors';
import { codePointLength, recordableText, refusedCharacter } from './text';

/** The characters an identifier may hold, as a pattern and as the error message lists them. */
export interface Alphabet {
  pattern: RegExp;
  chars: string;
}

const characters = (count: number) => `${count} character${count === 1 ? '' : 's'}`;

/** What is wrong with a text field's value, or `undefined` when nothing is. */
function textProblem(value: string, min: number, max: number, alphabet?: Alphabet): string | undefined {
  const length = codePointLength(value);
  if (length < min) return `must be at least ${characters(min)}`;
  if (length > max) return `must be at most ${characters(max)}`;
  const refused = refusedCharacter(value);
  if (refused) return `must not contain ${refused}`;
  if (alphabet && !alphabet.pattern.test(value)) return `may contain only ${alphabet.chars}`;
  return undefined;
}

/**
 * A text field of `min` to `max` characters, counted in code points, with no refused character
 * (functions/core/text.ts) and, for an identifier, only the characters of its alphabet.
 */
export function text(min: number, max: number, alphabet?: Alphabet) {
  return z.string().check(
    z.superRefine((value, context) => {
      const problem = textProblem(value, min, max, alphabet);
      if (problem) context.issues.push({ code: 'custom', input: value, message: problem });
    }),
  );
}

export const MAX_METADATA_ENTRIES = 20;

/** An npm or PyPI package name, as apps and client libraries are named. */
export const PACKAGE_NAME: Alphabet = { pattern: /^[A-Za-z0-9@/._-]+$/, chars: 'A-Z a-z 0-9 @ / . _ -' };
/** A version as packages write them (`1.2.0`, `2.0.0-beta.1+build.5`). */
export const PACKAGE_VERSION: Alphabet = { pattern: /^[A-Za-z0-9.+_-]+$/, chars: 'A-Z a-z 0-9 . + _ -' };

const packageSchema = () =>
  z.strictObject({ name: text(1, 100, PACKAGE_NAME), version: text(1, 64, PACKAGE_VERSION) });

const mintSchema = z.strictObject({
  installId: text(8, 128, { pattern: /^[A-Za-z0-9._:-]+$/, chars: 'A-Z a-z 0-9 . _ : -' }),
  app: packageSchema(),
  client: z.optional(packageSchema()),
  platform: z.optional(text(1, 64)),
  metadata: z.optional(
    z.record(text(1, 64, { pattern: /^[A-Za-z0-9._-]+$/, chars: 'A-Z a-z 0-9 . _ -' }), text(0, 256)).check(
      z.refine((value) => Object.keys(value).length <= MAX_METADATA_ENTRIES, {
        message: `must have at most ${MAX_METADATA_ENTRIES} entries`,
      }),
    ),
  ),
});

/** A name the caller chose, as an error message may repeat it: short, and with no refused character. */
function shown(name: string): string {
  const kept = recordableText(name, 40);
  return JSON.stringify(codePointLength(name) > 40 ? `${kept}…` : kept);
}

function describe(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.join('.') : 'body';
  switch (issue.code) {
    case 'invalid_type':
      return `${field}: expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `${field}: unknown field ${issue.keys.map(shown).join(', ')}`;
    case 'invalid_key': {
      // The path ends in the refused key itself: name the record, not the key.
      const record = issue.path.slice(0, -1).join('.') || 'body';
      return `${record}: a key ${issue.issues.map((inner) => inner.message).join('; ')}`;
    }
    default:
      return `${field}: ${issue.message === 'Invalid input' ? 'is not valid' : issue.message}`;
  }
}

/** Validates `value` against `schema`; a 400 names the first three problems, each with its field. */
export function parse<T>(schema: z.ZodMiniType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequest(result.error.issues.slice(0, 3).map(describe).join('; '));
  return result.data;
}

/** Validates the body of `POST /v1/tokens`. */
export function parseMintRequest(body: unknown): MintRequest {
  return parse(mintSchema, body) as MintRequest;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{16,255}$/;

/** Validates an `Idempotency-Key` header: 16 to 255 characters, so it is hard to guess (use a UUID). */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new InvalidRequest(
      'Idempotency-Key: must be 16 to 255 characters of A-Z a-z 0-9 . _ : - (a UUID works)',
    );
  }
  return value;
}
