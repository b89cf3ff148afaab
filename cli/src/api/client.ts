/**
 * The signing client of the admin API (docs/admin-api.md): every request is signed with AWS Signature V4
 * (service `execute-api`), as API Gateway's AWS_IAM authorization and the local server expect. Shared by
 * the CLI and the admin console.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { randomUUID } from 'node:crypto';
import { ApiError, CliError, EXIT } from '../errors';

export interface AdminClientOptions {
  /** The broker's base URL (an API Gateway URL with its stage path, or `http://127.0.0.1:8787`). */
  endpoint: URL;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

export interface AdminRequest {
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** The one-time code, sent as `X-Broker-OTP`. */
  otp?: string;
}

export interface AdminClient {
  readonly endpoint: URL;
  /**
   * Sends one signed request under `/v1/admin/` and resolves with the reply's JSON; an error reply rejects
   * with an ApiError (its status, code and message).
   * @example const { tokens } = await client.request<{ tokens: unknown[] }>('GET', 'tokens', { query: { status: 'paused' } });
   */
  request<T>(method: 'GET' | 'POST' | 'PUT', path: string, request?: AdminRequest): Promise<T>;
}

/**
 * @example const client = createAdminClient({ endpoint, region: 'eu-west-1', credentials: fromNodeProviderChain() });
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const { endpoint, region, credentials } = options;
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  const basePath = endpoint.pathname.replace(/\/+$/, '');

  return {
    endpoint,
    async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, request: AdminRequest = {}): Promise<T> {
      const query = Object.fromEntries(
        Object.entries(request.query ?? {})
          .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
          .map(([key, value]) => [key, String(value)]),
      );
      const body = request.body === undefined ? undefined : JSON.stringify(request.body);
      const headers: Record<string, string> = {
        host: endpoint.host,
        accept: 'application/json',
        // Signed and random: two identical calls within a second (a bulk job's pages) would otherwise carry
        // the same signature, and the local server refuses a signature it has seen as a replay.
        'x-broker-request-id': randomUUID(),
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (request.otp !== undefined) headers['x-broker-otp'] = request.otp;
      const fullPath = `${basePath}/v1/admin/${path}`;
      const signed = await signer.sign({
        method,
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port ? Number(endpoint.port) : undefined,
        path: fullPath,
        query,
        headers,
        body,
      });
      // fetch sets Host from the URL (the same value that was signed).
      const { host: _host, ...sent } = signed.headers;
      const url = `${endpoint.protocol}//${endpoint.host}${fullPath}${queryString(query)}`;
      let reply: Response;
      try {
        reply = await fetch(url, {
          method,
          headers: sent,
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        throw new CliError(`Cannot reach the broker at ${endpoint.origin} (${cause}).`, EXIT.failed, {
          cause: error,
        });
      }
      return parseReply<T>(reply);
    },
  };
}

/**
 * The query string as SigV4 canonicalizes it (RFC 3986: a space is %20, never `+`), so what is sent is what
 * was signed whichever way the server decodes it.
 */
export function queryString(query: Record<string, string>): string {
  const pairs = Object.entries(query).map(([key, value]) => `${escapeUri(key)}=${escapeUri(value)}`);
  return pairs.length ? `?${pairs.join('&')}` : '';
}

function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

async function parseReply<T>(reply: Response): Promise<T> {
  const text = await reply.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (reply.ok) {
    if (parsed === undefined)
      throw new CliError(`The broker answered ${reply.status} with a body that is not JSON.`, EXIT.failed);
    return parsed as T;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  // API Gateway's own refusals are `{"message": "…"}`.
  const gatewayMessage = (parsed as { message?: unknown } | undefined)?.message;
  const code = typeof error?.code === 'string' ? error.code : `http_${reply.status}`;
  let message =
    typeof error?.message === 'string'
      ? error.message
      : typeof gatewayMessage === 'string'
        ? gatewayMessage
        : `${reply.status} ${reply.statusText}`;
  const retryAfter = reply.headers.get('retry-after');
  if (retryAfter && /^\d+$/.test(retryAfter)) message += ` (try again in ${retryAfter} s)`;
  throw new ApiError(reply.status, code, `${message} [${reply.status} ${code}]`);
}
