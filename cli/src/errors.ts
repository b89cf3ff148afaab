/**
 * The CLI's errors, each with the exit code scripts rely on: 1 failed, 2 usage, 3 refused by policy or by the
 * second factor. Messages never carry a secret (no write token, client secret, seed or secret access key).
 */

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Base class: a message for the operator and the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The command line is wrong (exit 2): an unknown filter key, a bad value, a missing option. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

/** The broker answered with an error (`{"error":{"code","message"}}`), mapped to an exit code. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message, exitCodeFor(status, code));
    this.name = 'ApiError';
  }
}

/**
 * 400 is bad input (usage); 401, 403 and 429 are refusals (a signature the broker does not accept, a missing,
 * wrong or replayed code, a locked second factor, a quota); so is a second factor that is not set up. The
 * rest (404, 409, 5xx) is a failure.
 */
function exitCodeFor(status: number, code: string): ExitCode {
  if (status === 400 || status === 413 || status === 415) return EXIT.usage;
  if (status === 401 || status === 403 || status === 429 || code === 'otp_not_configured')
    return EXIT.refused;
  return EXIT.failed;
}
