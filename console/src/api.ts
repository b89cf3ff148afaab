/**
 * The page's one way to call the admin API: through the console's proxy (`/api/<path>` → the broker's
 * `/v1/admin/<path>`), with this start's token. Errors reject with the API's own code and words.
 */
import type { TokenFilter } from './types';

const token = document.querySelector<HTMLMetaElement>('meta[name="console-token"]')?.content ?? '';

/** An error reply, `{"error":{"code","message"}}`, as the broker (or the console) worded it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The codes that mean "ask for the one-time code (again)". */
export const OTP_CODES = new Set(['otp_required', 'otp_invalid']);

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  otp?: string;
}

/**
 * @example const { tokens } = await api<TokenList>('GET', 'tokens', { query: { status: 'paused' } });
 */
export async function api<T>(
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  options: CallOptions = {},
): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') query.set(key, String(value));
  }
  const headers: Record<string, string> = { 'x-console-token': token, accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.otp !== undefined) headers['x-broker-otp'] = options.otp;
  const search = query.toString();
  let reply: Response;
  try {
    reply = await fetch(`/api/${path}${search ? `?${search}` : ''}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(
      0,
      'console_unreachable',
      'The console is not running any more: start it again and reload.',
    );
  }
  const parsed = (await reply.json().catch(() => undefined)) as
    { error?: { code?: string; message?: string } } | undefined;
  if (!reply.ok) {
    throw new ApiError(
      reply.status,
      parsed?.error?.code ?? `http_${reply.status}`,
      parsed?.error?.message ?? `${reply.status} ${reply.statusText}`,
    );
  }
  return parsed as T;
}

/** A filter without its empty fields, for the list's query and a bulk job's filter alike. */
export function cleanFilter(filter: TokenFilter): TokenFilter {
  return Object.fromEntries(
    Object.entries(filter).filter(([, value]) => value !== undefined && value !== ''),
  );
}
