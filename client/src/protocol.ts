/**
 * The three client routes of the HTTP contract v1 (DESIGN §3), each under the run's deadline. The contract
 * types come from the server's module as types only: nothing of the server is bundled.
 */
import type { ErrorReply, HeartbeatReply, IssuedToken, MintRequest } from '../../functions/core/contract';
import type { Deadline } from './deadline';
import { randomUUID } from './lazy';
import { BrokerRequestError, BudgetSpentError, InvalidReplyError } from './errors';

export type { HeartbeatReply, IssuedToken, MintRequest };

export interface BrokerHttp {
  /** Without a trailing slash. */
  brokerUrl: string;
  fetch: typeof fetch;
  deadline: Deadline;
}

/** A reply the caller acts on: 2xx with its body, or one of the statuses the step handles itself. */
interface Reply {
  status: number;
  body: unknown;
}

const STATUSES = new Set(['active', 'paused', 'rotate', 'revoked']);

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function errorMessage(body: unknown): string {
  const error = (body as Partial<ErrorReply> | undefined)?.error;
  return error && typeof error.code === 'string'
    ? `${error.code}: ${String(error.message)}`
    : 'no error body';
}

/**
 * POSTs to the broker under the deadline. Statuses listed in `handled` are returned; any other non-2xx
 * status, a network failure or the deadline throws (`BrokerRequestError`, `BudgetSpentError`).
 */
async function post(
  http: BrokerHttp,
  step: string,
  pathname: string,
  init: { body?: unknown; headers?: Record<string, string> },
  handled: readonly number[] = [],
): Promise<Reply> {
  const signal = http.deadline.signal(step);
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await http.fetch(`${http.brokerUrl}${pathname}`, {
      method: 'POST',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal,
      // A redirect could carry the Authorization header elsewhere: the broker never redirects.
      redirect: 'error',
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.ok || handled.includes(response.status)) return { status: response.status, body };
    throw new BrokerRequestError(
      `${step}: the broker answered ${response.status} (${errorMessage(body)})`,
      response.status,
      retryAfterMs(response),
    );
  } catch (error) {
    if (error instanceof BrokerRequestError) throw error;
    if (signal.aborted) throw new BudgetSpentError(step, http.deadline.budgetMs, { cause: error });
    throw new BrokerRequestError(
      `${step}: the broker could not be reached (${networkCause(error)})`,
      undefined,
      undefined,
      { cause: error },
    );
  }
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isTime = (value: unknown): boolean => isText(value) && Number.isFinite(Date.parse(value));

function issuedToken(step: string, body: unknown): IssuedToken {
  const reply = body as Partial<IssuedToken> | undefined;
  const fields: Array<[string, boolean]> = [
    ['tokenId', isText(reply?.tokenId)],
    ['writeToken', isText(reply?.writeToken)],
    ['clientSecret', isText(reply?.clientSecret)],
    ['expiresAt', isTime(reply?.expiresAt)],
    ['refreshAfter', isTime(reply?.refreshAfter)],
    ['heartbeatIntervalSeconds', typeof reply?.heartbeatIntervalSeconds === 'number'],
    ['ingest.baseUrl', isText(reply?.ingest?.baseUrl)],
  ];
  const missing = fields.filter(([, ok]) => !ok).map(([name]) => name);
  if (missing.length) throw new InvalidReplyError(step, `missing or invalid ${missing.join(', ')}`);
  return reply as IssuedToken;
}

/**
 * `POST /v1/tokens` with a fresh Idempotency-Key. A fast failure (connection reset, 409, 429, 5xx) is
 * retried once with the same key when its Retry-After fits in the budget, so a mint whose reply was lost
 * returns the same token instead of a second one.
 *
 * @example
 * const issued = await mint(http, { installId, app: { name: 'hello-cli', version: '1.0.0' } });
 */
export async function mint(http: BrokerHttp, request: MintRequest): Promise<IssuedToken> {
  const idempotencyKey = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      const reply = await post(http, 'mint', '/v1/tokens', {
        body: request,
        headers: { 'idempotency-key': idempotencyKey },
      });
      return issuedToken('mint', reply.body);
    } catch (error) {
      if (attempt > 1 || !(error instanceof BrokerRequestError)) throw error;
      const retryable =
        error.status === undefined || [409, 429].includes(error.status) || error.status >= 500;
      const wait = error.retryAfterMs ?? 100;
      if (!retryable || http.deadline.remaining() < wait + 100) throw error;
      await http.deadline.sleep(wait);
    }
  }
}

/** What a heartbeat found: the broker's reply, or `unauthorized` (401: unknown, expired or spent credential). */
export type HeartbeatOutcome = HeartbeatReply | { status: 'unauthorized' };

/**
 * `POST /v1/tokens/{tokenId}/heartbeat` with the client secret.
 *
 * @example
 * const outcome = await sendHeartbeat(http, tokenId, clientSecret); // outcome.status: 'active' | 'rotate' | …
 */
export async function sendHeartbeat(
  http: BrokerHttp,
  tokenId: string,
  clientSecret: string,
): Promise<HeartbeatOutcome> {
  const reply = await post(
    http,
    'heartbeat',
    `/v1/tokens/${encodeURIComponent(tokenId)}/heartbeat`,
    { headers: { authorization: `Bearer ${clientSecret}` } },
    [401],
  );
  if (reply.status === 401) return { status: 'unauthorized' };
  const body = reply.body as Partial<HeartbeatReply> | undefined;
  if (!STATUSES.has(String(body?.status))) throw new InvalidReplyError('heartbeat', 'unknown status');
  return body as HeartbeatReply;
}

/** What a refresh found: a new token, or why there is none (401 spent/unknown, 403 refused by policy). */
export type RefreshOutcome =
  { status: 'issued'; token: IssuedToken } | { status: 'unauthorized' | 'forbidden' };

/**
 * `POST /v1/tokens/{tokenId}/refresh`: a new token and client secret; the old secret stops working. Never
 * retried: presenting a spent secret again revokes the whole chain (reuse detection).
 *
 * @example
 * const outcome = await refresh(http, tokenId, clientSecret);
 */
export async function refresh(
  http: BrokerHttp,
  tokenId: string,
  clientSecret: string,
): Promise<RefreshOutcome> {
  const reply = await post(
    http,
    'refresh',
    `/v1/tokens/${encodeURIComponent(tokenId)}/refresh`,
    { headers: { authorization: `Bearer ${clientSecret}` } },
    [401, 403],
  );
  if (reply.status === 401) return { status: 'unauthorized' };
  if (reply.status === 403) return { status: 'forbidden' };
  return { status: 'issued', token: issuedToken('refresh', reply.body) };
}
