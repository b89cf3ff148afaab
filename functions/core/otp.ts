/**
 * The admin API's second factor (R12, docs/admin-api.md): a TOTP code (RFC 6238: SHA-1, 6 digits, 30 s,
 * ±1 step) in `X-Broker-OTP`, checked against the seed in Secrets Manager (locally an env variable or a file).
 * - Single-use: the step of an accepted code is stored with a conditional write, so neither that code nor an
 *   older one passes again, even when two requests race.
 * - Lockout: each attempt first takes one of the 5 attempts of a 15-minute window (one conditional write),
 *   so however many guesses arrive at once, at most 5 are ever checked; the fifth failure locks the second
 *   factor for 15 minutes.
 * - Audited: every attempt, good or bad, is an entry (`otp_accepted` / `otp_refused`), never the code.
 */
import { Secret, TOTP } from 'otpauth';
import type { AuditActor } from './audit';
import type { BrokerDeps } from './deps';
import { errorName, OtpInvalid, OtpLocked, OtpNotConfigured, OtpRequired } from './errors';
import { appendAudit } from './jobs';

export const OTP_MAX_FAILURES = 5;
export const OTP_WINDOW_MS = 15 * 60_000;
export const OTP_LOCK_MS = 15 * 60_000;
const PERIOD_S = 30;
const DIGITS = 6;

export interface OtpAttempt {
  /** The header's value, if any. */
  code: string | undefined;
  actor: AuditActor;
  /** What it authorizes, for the audit trail: `bulk.revoke`, `quotas.put`, `tokens.resume`… */
  operation: string;
  sourceIp?: string;
}

/**
 * Accepts the code, or throws `OtpRequired`, `OtpInvalid` (401), `OtpLocked` (429) or `OtpNotConfigured` (503).
 * @example await requireOtp(deps, { code: header(event, 'x-broker-otp'), actor, operation: 'quotas.put' });
 */
export async function requireOtp(deps: BrokerDeps, attempt: OtpAttempt): Promise<void> {
  const now = deps.clock.now();
  const refuse = async (why: string, error: Error): Promise<never> => {
    await audit(deps, attempt, now, 'otp_refused', why);
    throw error;
  };
  const secret = await seedOf(deps);
  if (!secret) return refuse('not_configured', new OtpNotConfigured());
  if (!attempt.code) return refuse('missing', new OtpRequired());
  const slot = await deps.store.takeOtpAttempt(now, {
    windowMs: OTP_WINDOW_MS,
    maxFailures: OTP_MAX_FAILURES,
  });
  if (!slot.taken) {
    return refuse('locked', new OtpLocked(Math.max(1, Math.ceil((slot.retryAt - now) / 1000))));
  }
  const token = attempt.code.trim();
  const delta = /^\d{6}$/.test(token) ? totp(secret).validate({ token, timestamp: now, window: 1 }) : null;
  if (delta !== null) {
    const step = TOTP.counter({ period: PERIOD_S, timestamp: now }) + delta;
    if (await deps.store.useOtpStep(step, now)) {
      await audit(deps, attempt, now, 'otp_accepted', 'valid');
      return;
    }
  }
  // The attempt stays counted as a failure; the last one the window allows locks the second factor.
  if (slot.failures >= OTP_MAX_FAILURES) await deps.store.lockOtp(now + OTP_LOCK_MS);
  return refuse(delta === null ? 'wrong_code' : 'already_used', new OtpInvalid());
}

/**
 * A new TOTP seed and its otpauth URI, for `logfire-broker otp enroll`: the CLI shows the URI (and a QR code
 * of it) once and stores the seed in Secrets Manager or the local data folder; the broker never logs it.
 * @example const { secret, uri } = createOtpSeed({ account: 'ops@example.com' });
 */
export function createOtpSeed(options: { issuer?: string; account?: string } = {}): {
  secret: string;
  uri: string;
} {
  const secret = new Secret({ size: 20 });
  const uri = new TOTP({
    issuer: options.issuer ?? 'logfire-broker',
    label: options.account ?? 'admin',
    secret,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_S,
  }).toString();
  return { secret: secret.base32, uri };
}

/**
 * The current code of a seed (tests, and a CLI that checks an enrollment).
 * @example currentOtp(seed, Date.now()) // '492039'
 */
export function currentOtp(seed: string, timestamp: number): string {
  return totp(Secret.fromBase32(seed)).generate({ timestamp });
}

function totp(secret: Secret): TOTP {
  return new TOTP({ secret, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_S });
}

/** The seed as a Secret; undefined when none is set up or it is not base32 (said in the log, never shown). */
async function seedOf(deps: BrokerDeps): Promise<Secret | undefined> {
  const text = await deps.admin?.otpSeed();
  if (!text) return undefined;
  try {
    const secret = Secret.fromBase32(text.replace(/\s+/g, '').toUpperCase());
    return secret.bytes.length >= 10 ? secret : undefined;
  } catch (error) {
    deps.log.warn('the admin TOTP seed is not base32; the second factor refuses every code', {
      cause: errorName(error).replace(/:.*/, ''),
    });
    return undefined;
  }
}

async function audit(
  deps: BrokerDeps,
  attempt: OtpAttempt,
  at: number,
  action: 'otp_accepted' | 'otp_refused',
  outcome: string,
): Promise<void> {
  await appendAudit(deps, [
    {
      at,
      action,
      actor: attempt.actor,
      sourceIp: attempt.sourceIp,
      details: { operation: attempt.operation, outcome },
    },
  ]);
}
