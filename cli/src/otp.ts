/**
 * The second factor (`X-Broker-OTP`): the code from `--otp`, or typed at a prompt when the CLI runs in a
 * terminal. Scripts must pass `--otp`; nothing is ever read from a pipe by surprise.
 */
import { createInterface } from 'node:readline/promises';
import type { Context } from './context';
import { ApiError, UsageError } from './errors';

const CODE = /^\d{6}$/;

/**
 * The code for `purpose` (`revoke 42 tokens`): `--otp`, or a prompt on a terminal; else a usage error.
 * @example const otp = await otpCode(context, options.otp, 'change quotas');
 */
export async function otpCode(context: Context, given: string | undefined, purpose: string): Promise<string> {
  if (given !== undefined) return checkedCode(given);
  if (!canPrompt(context)) {
    throw new UsageError(`To ${purpose} the broker needs a one-time code: pass --otp <code>.`);
  }
  const prompt = createInterface({ input: context.io.stdin, output: context.io.stderr, terminal: true });
  try {
    return checkedCode((await prompt.question(`One-time code to ${purpose} (Ctrl-C to cancel): `)).trim());
  } finally {
    prompt.close();
  }
}

function canPrompt(context: Context): boolean {
  return context.io.stdin.isTTY === true && context.io.stderr.isTTY === true;
}

function checkedCode(code: string): string {
  if (!CODE.test(code)) throw new UsageError('The one-time code is the 6 digits your authenticator shows.');
  return code;
}

/**
 * Sends `call` with `--otp` when given; when the broker answers `otp_required` (resuming a token an anomaly
 * rule stopped), asks for a code on a terminal and sends it once more.
 * @example await withOptionalOtp(context, options.otp, 'resume tok_…', (otp) => client.request('POST', path, { otp }));
 */
export async function withOptionalOtp<T>(
  context: Context,
  given: string | undefined,
  purpose: string,
  call: (otp: string | undefined) => Promise<T>,
): Promise<T> {
  try {
    return await call(given === undefined ? undefined : checkedCode(given));
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'otp_required' || given !== undefined) throw error;
    if (!canPrompt(context)) {
      throw new ApiError(error.status, error.code, `${error.message}: to ${purpose}, pass --otp <code>.`);
    }
    return call(await otpCode(context, undefined, purpose));
  }
}
