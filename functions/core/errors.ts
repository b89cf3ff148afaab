import type { ErrorCode } from './contract';

/**
 * Base of every error the broker answers with on purpose. Each subclass fixes the HTTP status and the
 * public `code`; `message` is shown to the caller, so it never carries a secret or an internal detail.
 */
export class BrokerError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidRequest extends BrokerError {
  constructor(message: string) {
    super(400, 'invalid_request', message);
  }
}

/** Bad or unknown credential: one reply for both, so nobody can learn which token ids exist. */
export class Unauthorized extends BrokerError {
  constructor() {
    super(401, 'unauthorized', 'The credential is missing, unknown or no longer valid.');
  }
}

export class Forbidden extends BrokerError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class NotFound extends BrokerError {
  constructor(message = 'No such route.') {
    super(404, 'not_found', message);
  }
}

export class MethodNotAllowed extends BrokerError {
  constructor() {
    super(405, 'method_not_allowed', 'This route does not accept that method.');
  }
}

export class PayloadTooLarge extends BrokerError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `The request body is larger than ${limitBytes} bytes.`);
  }
}

export class UnsupportedMediaType extends BrokerError {
  constructor() {
    super(415, 'unsupported_media_type', 'Send the body as JSON, with Content-Type: application/json.');
  }
}

export class Conflict extends BrokerError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(409, 'conflict', message);
  }
}

/** The Idempotency-Key was sent before with another body (IETF Idempotency-Key draft: 422). */
export class IdempotencyKeyReused extends BrokerError {
  constructor() {
    super(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was used for a different request; send a new key for a new request.',
    );
  }
}

export class QuotaExceeded extends BrokerError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'quota_exceeded', message);
  }
}

/** Logfire did not answer in time, or kept refusing; the caller should come back after `retryAfterSeconds`. */
export class UpstreamUnavailable extends BrokerError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(503, 'upstream_unavailable', message, options);
  }
}

/** An admin operation that needs the second factor came without `X-Broker-OTP`. */
export class OtpRequired extends BrokerError {
  constructor() {
    super(401, 'otp_required', 'This operation needs a one-time code: send it in the X-Broker-OTP header.');
  }
}

/** A wrong code, or one (or an older one) already used: one reply for both. */
export class OtpInvalid extends BrokerError {
  constructor() {
    super(401, 'otp_invalid', 'The one-time code is wrong or was already used; wait for the next one.');
  }
}

export class OtpLocked extends BrokerError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'otp_locked', 'Too many wrong one-time codes: the second factor is locked for a while.');
  }
}

export class OtpNotConfigured extends BrokerError {
  constructor() {
    super(
      503,
      'otp_not_configured',
      'No second-factor seed is set up: run `logfire-broker otp enroll`, then retry.',
    );
  }
}

/** Seconds the caller should wait before retrying, for the errors that have one. */
export function retryAfterOf(error: BrokerError): number | undefined {
  if (error instanceof OtpLocked) return error.retryAfterSeconds;
  if (error instanceof QuotaExceeded || error instanceof UpstreamUnavailable || error instanceof Conflict) {
    return error.retryAfterSeconds;
  }
  return undefined;
}

/** An error's class name and message, for logs; never a request body or a secret. */
export function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
