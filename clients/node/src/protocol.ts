/**
 * The three client routes of the HTTP contract v1 (DESIGN §3), each under the run's deadline. The contract
 * types come from the server's module as types only: nothing of the server is bundled.
 */
import type {
  ClientSettings,
  ErrorReply,
  HeartbeatReply,
  IssuedToken,
  MintRequest,
} from '../../../functions/core/contract';
import type { Deadline } from './deadline';
import { randomUUID } from './lazy';
import { BrokerRequestError, BudgetSpentError, InvalidReplyError } from './errors';

export type { ClientSettings, HeartbeatReply, IssuedToken, MintRequest };

/**
 * The remote client settings in a reply or the cache, if they follow the contract; undefined otherwise (an
 * older broker sends none: telemetry stays on, at the full rate).
 * @example remoteSettings(reply.settings)?.telemetry // 'on' | 'off' | undefined
 */
export function remoteSettings(value: unknown): ClientSettings | undefined {
  const settings = value as Partial<ClientSettings> | undefined;
  if (typeof settings !== 'object' || settings === null) return undefined;
  if (settings.telemetry !== 'on' && settings.telemetry !== 'off') return undefined;
  const { telemetry, sampleRate, reason, minClientVersion } = settings;
  if (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1)) return undefined;
  return {
    telemetry,
    sampleRate,
    ...(reason === 'kill_switch' || reason === 'client_outdated' ? { reason } : {}),
    ...(typeof minClientVersion === 'string' ? { minClientVersion } : {}),
  };
}

export interface BrokerHttp {
  /** Without a trailing slash. */
  brokerUrl: string;
  fetch: typeof fetch;
  deadline: Deadline;
  /** A debug line (the caller decides whether it is printed). Never given a secret. */
  log?: (line: string) => void;
}

/** The pause before a retry whose failure named no Retry-After. */
const RETRY_WAIT_MS = 100;
/**
 * What a refresh's first attempt leaves of the budget for its retry (at most half of it): a reply that
 * does not come is then retried in time, and the broker's refresh grace gives the same successor.
 */
const REFRESH_RETRY_RESERVE_MS = 500;

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
 * POSTs to the broker under the deadline, or within `attemptMs` if that is shorter. Statuses listed in
 * `handled` are returned; any other non-2xx status, a network failure or no reply within `attemptMs`
 * throws `BrokerRequestError`, the deadline `BudgetSpentError`.
 */
async function post(
  http: BrokerHttp,
  step: string,
  pathname: string,
  init: { body?: unknown; headers?: Record<string, string> },
  handled: readonly number[] = [],
  attemptMs?: number,
): Promise<Reply> {
  const capped = attemptMs !== undefined && attemptMs < http.deadline.remaining();
  const signal = http.deadline.signal(step, attemptMs);
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
    if (signal.aborted && capped) {
      const message = `${step}: no reply within ${Math.floor(attemptMs)} ms`;
      throw new BrokerRequestError(message, undefined, undefined, { cause: error });
    }
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

/** A failure worth one more try: no reply at all, a conflict, a quota, or the broker's own trouble. */
function retryable(error: unknown): error is BrokerRequestError {
  if (!(error instanceof BrokerRequestError)) return false;
  return error.status === undefined || [409, 429].includes(error.status) || error.status >= 500;
}

/**
 * Runs `attempt`, and once more after a retryable failure when its Retry-After (or a short pause) still
 * leaves time in the budget. Both attempts share the run's one deadline; the first may be given less.
 */
async function withOneRetry<T>(
  http: BrokerHttp,
  attempt: (attemptMs?: number) => Promise<T>,
  firstAttemptMs?: number,
): Promise<T> {
  try {
    return await attempt(firstAttemptMs);
  } catch (error) {
    if (!retryable(error)) throw error;
    const wait = error.retryAfterMs ?? RETRY_WAIT_MS;
    if (http.deadline.remaining() < wait + RETRY_WAIT_MS) throw error;
    http.log?.(`${error.message}; trying once more`);
    await http.deadline.sleep(wait);
    return attempt();
  }
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
  return withOneRetry(http, async () => {
    const reply = await post(http, 'mint', '/v1/tokens', {
      body: request,
      headers: { 'idempotency-key': idempotencyKey },
    });
    return issuedToken('mint', reply.body);
  });
}

/** What a heartbeat found: the broker's reply, or `unauthorized` (401: unknown, expired or spent credential). */
export type HeartbeatOutcome = HeartbeatReply | { status: 'unauthorized' | 'throttled' };

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
    [401, 429],
  );
  if (reply.status === 401) return { status: 'unauthorized' };
  // Over the token's hourly heartbeat quota: the token itself is fine, check in again on a later run.
  if (reply.status === 429) return { status: 'throttled' };
  const body = reply.body as Partial<HeartbeatReply> | undefined;
  if (!STATUSES.has(String(body?.status))) throw new InvalidReplyError('heartbeat', 'unknown status');
  return body as HeartbeatReply;
}

/** What a refresh found: a new token, or why there is none (401 spent/unknown, 403 refused by policy). */
export type RefreshOutcome =
  { status: 'issued'; token: IssuedToken } | { status: 'unauthorized' | 'forbidden' };

/**
 * `POST /v1/tokens/{tokenId}/refresh`: a new token and client secret; the old secret stops working. A
 * refresh whose reply never came (connection lost, no reply in time, 5xx or 429 with a Retry-After that
 * fits) is sent once more with the same secret: within its refresh grace the broker answers a just-spent
 * secret with the same successor. Later, reuse revokes the chain and the retry gets 401 (mint anew).
 *
 * @example
 * const outcome = await refresh(http, tokenId, clientSecret);
 */
export async function refresh(
  http: BrokerHttp,
  tokenId: string,
  clientSecret: string,
): Promise<RefreshOutcome> {
  const left = http.deadline.remaining();
  const firstAttemptMs = left - Math.min(REFRESH_RETRY_RESERVE_MS, left / 2);
  return withOneRetry(
    http,
    async (attemptMs) => {
      const reply = await post(
        http,
        'refresh',
        `/v1/tokens/${encodeURIComponent(tokenId)}/refresh`,
        { headers: { authorization: `Bearer ${clientSecret}` } },
        [401, 403],
        attemptMs,
      );
      if (reply.status === 401) return { status: 'unauthorized' } as const;
      if (reply.status === 403) return { status: 'forbidden' } as const;
      return { status: 'issued', token: issuedToken('refresh', reply.body) } as const;
    },
    firstAttemptMs,
  );
}

/**
 * `POST /v1/tokens/{tokenId}/revoke` (self-revoke): the broker revokes this token's whole chain. `unknown`
 * when the broker no longer knows the credential (401), so there is nothing left to revoke.
 *
 * @example
 * await selfRevoke(http, record.tokenId, record.clientSecret); // 'revoked'
 */
export async function selfRevoke(
  http: BrokerHttp,
  tokenId: string,
  clientSecret: string,
): Promise<'revoked' | 'unknown'> {
  const reply = await withOneRetry(http, () =>
    post(
      http,
      'revoke',
      `/v1/tokens/${encodeURIComponent(tokenId)}/revoke`,
      { headers: { authorization: `Bearer ${clientSecret}` } },
      [401],
    ),
  );
  return reply.status === 401 ? 'unknown' : 'revoked';
}
