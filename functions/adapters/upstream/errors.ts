import { UpstreamUnavailable } from '../../core/errors';

/**
 * Seconds a caller is told to wait after Logfire refused the broker's own credential or settings. Retrying
 * sooner is pointless: an operator has to fix the configuration first.
 */
export const REJECTED_RETRY_AFTER_SECONDS = 300;

const WHY: Record<number, string> = {
  401: "Logfire did not accept the broker's credential",
  403: "the broker's Logfire credential lacks the permission it needs",
  404: 'Logfire does not know the configured organization, project or route',
  422: 'Logfire found the request invalid',
};

/**
 * Logfire answered with a 4xx other than 429 (or a redirect): a configuration problem such as a revoked
 * API key or a wrong project id. Not retried. It is an `UpstreamUnavailable`, so callers answer 503 with
 * `Retry-After` as DESIGN §3 requires, while logs and tests can still tell it apart.
 * The message never contains the credential; `detail` is Logfire's reply with anything token-shaped
 * removed, for the operator's log only.
 */
export class UpstreamRejected extends UpstreamUnavailable {
  constructor(
    readonly upstreamStatus: number,
    readonly operation: string,
    readonly detail?: string,
  ) {
    const why = WHY[upstreamStatus] ?? 'Logfire refused the request';
    super(
      `${why} (HTTP ${upstreamStatus} while ${operation}); an operator must check the broker's Logfire settings.`,
      REJECTED_RETRY_AFTER_SECONDS,
    );
  }
}

/** Logfire answered 2xx with a body the broker cannot use; retrying the same call would not help. */
export function malformed(operation: string): UpstreamUnavailable {
  return new UpstreamUnavailable(
    `Logfire sent a reply the broker does not understand while ${operation}.`,
    30,
  );
}
