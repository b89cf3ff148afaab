/**
 * Validation of what callers send. Everything here is strict: unknown fields, control characters and
 * oversized values are refused with a message that says which field and why.
 */
import * as z from 'zod/mini';
import type { MintRequest } from './contract';
import { InvalidRequest } from './errors';

/** Printable text: no control characters (NUL, newlines, escapes) that could forge log lines. */
const PRINTABLE = /^[^\p{Cc}\p{Cs}]*$/u;

function text(min: number, max: number, pattern = PRINTABLE, what = 'printable characters') {
  return z
    .string()
    .check(z.minLength(min), z.maxLength(max), z.regex(pattern, `must be ${min} to ${max} ${what}`));
}

const IDENTIFIER = /^[A-Za-z0-9._:-]+$/;
export const MAX_METADATA_ENTRIES = 20;

const mintSchema = z.strictObject({
  installId: text(8, 128, IDENTIFIER, 'characters of A-Z a-z 0-9 . _ : -'),
  app: z.strictObject({
    name: text(1, 100, /^[A-Za-z0-9@/._-]+$/, 'characters of A-Z a-z 0-9 @ / . _ -'),
    version: text(1, 64, /^[A-Za-z0-9.+_-]+$/, 'characters of A-Z a-z 0-9 . + _ -'),
  }),
  platform: z.optional(text(1, 64)),
  metadata: z.optional(
    z.record(text(1, 64, /^[A-Za-z0-9._-]+$/, 'characters of A-Z a-z 0-9 . _ -'), text(0, 256)).check(
      z.refine((value) => Object.keys(value).length <= MAX_METADATA_ENTRIES, {
        message: `must have at most ${MAX_METADATA_ENTRIES} entries`,
      }),
    ),
  ),
});

function describe(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.join('.') : 'body';
  switch (issue.code) {
    case 'invalid_type':
      return `${field}: expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `${field}: unknown field ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`;
    case 'too_small':
    case 'too_big':
      return `${field}: must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)} characters`;
    default:
      return `${field}: ${issue.message === 'Invalid input' ? 'is not valid' : issue.message}`;
  }
}

function parse<T>(schema: z.ZodMiniType<T>, value: unknown): T {
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
