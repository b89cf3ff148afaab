/**
 * The client's own errors. None ever reaches the host program: the client catches them, turns telemetry
 * off for the run and, in debug mode, prints the message. Messages name the step and the cause and never
 * carry a write token or a client secret.
 */

/** Base class of every error the client raises internally. */
export class BrokerClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerClientError';
  }
}

/** The run's time budget ran out before a network step finished. */
export class BudgetSpentError extends BrokerClientError {
  constructor(step: string, budgetMs: number, options?: { cause?: unknown }) {
    super(`${step}: the time budget of ${budgetMs} ms ran out`, options);
    this.name = 'BudgetSpentError';
  }
}

/** The broker could not be reached, or answered with a status the step does not expect. */
export class BrokerRequestError extends BrokerClientError {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerRequestError';
  }
}

/** The broker answered 2xx with a body that does not follow the HTTP contract. */
export class InvalidReplyError extends BrokerClientError {
  constructor(step: string, detail: string) {
    super(`${step}: the broker's reply is not valid (${detail})`);
    this.name = 'InvalidReplyError';
  }
}

/**
 * Something at a cache path is not what the client may use: a symlink, FIFO, directory or oversized file
 * where a cache file belongs, or a cache directory others can write to. Telemetry is off; nothing is changed.
 */
export class CacheRefusedError extends BrokerClientError {
  constructor(reason: string) {
    super(reason);
    this.name = 'CacheRefusedError';
  }
}
