/**
 * The one place the broker talks HTTP to Logfire: per-attempt timeout, retries with backoff and jitter on
 * network errors, timeouts, 429 and 5xx (honouring `Retry-After`), and no retry on other 4xx.
 */
import { UpstreamUnavailable } from '../../core/errors';
import type { Log } from '../../core/ports';
import { DEFAULT_UPSTREAM_BUDGET_MS } from './budget';
import { UpstreamRejected } from './errors';
import { redact } from './tokenShape';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LogfireHttpOptions {
  /** Per attempt, including reading the reply (`config.upstreamTimeoutMs`); cut short by `budgetMs`. */
  timeoutMs: number;
  /** Attempts after the first (`config.upstreamRetries`). */
  retries: number;
  log: Log;
  fetch?: typeof fetch;
  sleep?: Sleep;
  /** In [0, 1); injected to make jitter predictable in tests. */
  random?: () => number;
  /** Epoch ms; used to read `Retry-After` given as an HTTP date (the budget runs on wall time). */
  now?: () => number;
  /** First backoff step; doubles on each retry. */
  baseDelayMs?: number;
  /** Longest single wait. A `Retry-After` above it ends the retries, so we never call back sooner than asked. */
  maxWaitMs?: number;
  /** Longest sum of waits for one request. */
  maxTotalWaitMs?: number;
  /**
   * Time for the whole request, attempts and waits together (`config.upstreamBudgetMs`, derived from the
   * function's timeout): the first attempt is cut short to fit it and no retry starts that could end
   * later, so a slow Logfire yields 503 while the function still has time to answer.
   */
  budgetMs?: number;
  /** Told to our caller when Logfire gave no `Retry-After`. */
  defaultRetryAfterSeconds?: number;
}

export interface LogfireRequest {
  /** What the broker was doing, for messages and logs: "creating a write token". */
  operation: string;
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** The whole `Authorization` header value; it is also scrubbed from any error detail. */
  authorization: string;
  /** Sent as `application/json` when present; no body at all when absent. */
  json?: unknown;
  /** Statuses besides 2xx that the caller handles itself, such as 404 on delete. */
  accept?: readonly number[];
}

export interface LogfireReply {
  status: number;
  /** Parsed JSON, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  /** Requests sent for this reply: above 1, an earlier attempt may have acted too (a POST that timed out). */
  attempts?: number;
}

export type LogfireHttp = (request: LogfireRequest) => Promise<LogfireReply>;

type Attempt =
  | { kind: 'reply'; reply: LogfireReply }
  | { kind: 'rejected'; error: UpstreamRejected }
  | { kind: 'retry'; problem: string; retryAfterMs?: number; cause?: unknown };

/**
 * Reads `Retry-After` (delay-seconds or HTTP date) as milliseconds from `now`.
 * @example parseRetryAfter('2', Date.now()) // 2000
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Builds the request function every Logfire adapter uses.
 * @example
 * const call = createLogfireHttp({ timeoutMs: 5000, retries: 3, log });
 * const { body } = await call({ operation: 'listing projects', method: 'GET', url, authorization: `Bearer ${key}` });
 */
export function createLogfireHttp(options: LogfireHttpOptions): LogfireHttp {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const maxTotalWaitMs = options.maxTotalWaitMs ?? 15_000;
  const defaultRetryAfterSeconds = options.defaultRetryAfterSeconds ?? 30;
  const budgetMs = options.budgetMs ?? DEFAULT_UPSTREAM_BUDGET_MS;

  return async (request) => {
    let waitedMs = 0;
    // Attempt time is measured on the wall clock (the budget guards the function's real timeout, whatever
    // clock a test injects) and wait time is counted, so an injected sleep still spends the budget.
    let spentMs = 0;
    for (let attempt = 0; ; attempt++) {
      const startedAt = performance.now();
      const timeoutMs = Math.max(1, Math.min(options.timeoutMs, budgetMs - spentMs));
      const outcome = await attemptOnce(request, { ...options, timeoutMs });
      spentMs += performance.now() - startedAt;
      if (outcome.kind === 'reply') return { ...outcome.reply, attempts: attempt + 1 };
      if (outcome.kind === 'rejected') {
        options.log.error('Logfire refused a request', {
          operation: request.operation,
          status: outcome.error.upstreamStatus,
          detail: outcome.error.detail,
        });
        throw outcome.error;
      }

      // Exponential backoff with jitter in [half, full] of the step, so many Lambdas do not retry in step.
      const step = Math.min(baseDelayMs * 2 ** attempt, maxWaitMs);
      const waitMs = outcome.retryAfterMs ?? Math.round(step / 2 + (random() * step) / 2);
      const outOfRetries = attempt >= options.retries;
      const overBudget = spentMs + waitMs + options.timeoutMs > budgetMs;
      if (outOfRetries || waitMs > maxWaitMs || waitedMs + waitMs > maxTotalWaitMs || overBudget) {
        const retryAfterSeconds =
          outcome.retryAfterMs === undefined
            ? defaultRetryAfterSeconds
            : Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
        options.log.warn('Logfire unavailable; giving up', {
          operation: request.operation,
          attempts: attempt + 1,
          problem: outcome.problem,
          retryAfterSeconds,
        });
        throw new UpstreamUnavailable(
          `Logfire is unavailable (${outcome.problem} while ${request.operation}, after ${attempt + 1} attempts); try again in ${retryAfterSeconds} seconds.`,
          retryAfterSeconds,
          { cause: outcome.cause },
        );
      }
      options.log.warn('Logfire request failed; retrying', {
        operation: request.operation,
        attempt: attempt + 1,
        problem: outcome.problem,
        waitMs,
      });
      waitedMs += waitMs;
      spentMs += waitMs;
      await sleep(waitMs);
    }
  };
}

async function attemptOnce(request: LogfireRequest, options: LogfireHttpOptions): Promise<Attempt> {
  const headers: Record<string, string> = {
    Authorization: request.authorization,
    Accept: 'application/json',
    'User-Agent': 'logfire-broker',
  };
  let body: string | undefined;
  if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers['Content-Type'] = 'application/json';
  }

  let response: Response;
  let text: string;
  try {
    // `redirect: 'manual'`: a redirect means a wrong base URL, and must not carry the credential elsewhere.
    response = await (options.fetch ?? fetch)(request.url, {
      method: request.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    // By name, not instanceof: fetch's DOMException comes from another realm under jest.
    const name = (error as { name?: unknown } | null)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    return {
      kind: 'retry',
      problem: timedOut ? `no reply within ${options.timeoutMs} ms` : 'network error',
      cause: error,
    };
  }

  const status = response.status;
  if ((status >= 200 && status < 300) || request.accept?.includes(status)) {
    return { kind: 'reply', reply: { status, body: parseBody(text) } };
  }
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), (options.now ?? Date.now)());
    return { kind: 'retry', problem: `HTTP ${status}`, retryAfterMs };
  }
  const secrets = [request.authorization, request.authorization.replace(/^Bearer\s+/i, '')];
  return {
    kind: 'rejected',
    error: new UpstreamRejected(status, request.operation, redact(text, secrets).slice(0, 500)),
  };
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
