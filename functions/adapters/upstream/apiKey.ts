/**
 * Logfire through an API key with scope `project:write_token` (DESIGN §5, the preferred mode): write
 * tokens are created with an expiry and can be listed and deleted, so revocation reaches Logfire. That one
 * scope is all the broker needs; it calls no route that needs `project:read`.
 */
import type { ListedWriteToken, Log, Upstream, UpstreamToken } from '../../core/ports';
import { malformed } from './errors';
import type { LogfireHttp } from './http';
import type { LogfireAccess } from './region';
import { tokenPrefixOf } from './tokenShape';

export interface ApiKeyUpstreamOptions {
  access: LogfireAccess;
  projectId: string;
  http: LogfireHttp;
  log: Log;
}

interface WriteTokenReply {
  id?: unknown;
  token?: unknown;
  description?: unknown;
  created_at?: unknown;
  expires_at?: unknown;
  token_prefix?: unknown;
}

/**
 * @example
 * const upstream = new ApiKeyUpstream({ access, projectId, http, log });
 * const { upstreamId, token, tokenPrefix } = await upstream.createWriteToken({ expiresAt });
 * await upstream.deleteWriteToken(upstreamId!);
 */
export class ApiKeyUpstream implements Upstream {
  readonly kind = 'api-key' as const;
  readonly canRevoke = true;

  constructor(private readonly options: ApiKeyUpstreamOptions) {}

  /** OTLP goes to the same host as the management API: `{base}/v1/traces`. */
  get ingestBaseUrl(): string {
    return this.options.access.baseUrl;
  }

  /** Loads the credential, so `ingestBaseUrl` is known before the first mint. */
  async prepare(): Promise<void> {
    await this.options.access.resolve();
  }

  /**
   * Sends `expires_at` only: Logfire's public create takes nothing else and fixes the description of every
   * token it makes to "Created by Public API", so the token's id and `token_prefix` are what tell one
   * install's token from another at Logfire.
   */
  async createWriteToken(request: { expiresAt: Date }): Promise<UpstreamToken> {
    const { credential, baseUrl } = await this.options.access.resolve();
    // A POST retried after a timeout may leave an extra token at Logfire: `retried` keeps the mint's intent
    // standing, so the sweep's reconciliation deletes it (it has this expires_at and no record).
    const reply = await this.options.http({
      operation: 'creating a write token',
      method: 'POST',
      url: this.tokensUrl(baseUrl),
      authorization: `Bearer ${credential}`,
      json: { expires_at: request.expiresAt.toISOString() },
    });
    const body = reply.body as WriteTokenReply | undefined;
    if (typeof body?.id !== 'string' || typeof body.token !== 'string' || !body.token) {
      throw malformed('creating a write token');
    }
    const tokenPrefix = optionalString(body.token_prefix) || tokenPrefixOf(body.token);
    this.options.log.debug('Logfire write token created', {
      upstreamId: body.id,
      tokenPrefix,
      expiresAt: body.expires_at,
    });
    const retried = (reply.attempts ?? 1) > 1;
    return { upstreamId: body.id, token: body.token, tokenPrefix, ...(retried ? { retried } : {}) };
  }

  async deleteWriteToken(upstreamId: string): Promise<void> {
    const { credential, baseUrl } = await this.options.access.resolve();
    const reply = await this.options.http({
      operation: 'deleting a write token',
      method: 'DELETE',
      url: `${this.tokensUrl(baseUrl)}${encodeURIComponent(upstreamId)}/`,
      authorization: `Bearer ${credential}`,
      accept: [404],
    });
    // 404: deleted earlier (a retried delete, or the token expired), which is what the caller wants.
    this.options.log.debug('Logfire write token deleted', { upstreamId, alreadyGone: reply.status === 404 });
  }

  /**
   * Every write token of the project, for reconciliation: tokens Logfire has that the broker forgot. Its
   * times are normalized to `Date.toISOString()` (Logfire's Python backend may write `+00:00` or
   * microseconds), so an `expires_at` the broker sent reads back as the same string.
   */
  async listWriteTokens(): Promise<ListedWriteToken[]> {
    const { credential, baseUrl } = await this.options.access.resolve();
    const reply = await this.options.http({
      operation: 'listing write tokens',
      method: 'GET',
      url: this.tokensUrl(baseUrl),
      authorization: `Bearer ${credential}`,
    });
    if (!Array.isArray(reply.body)) throw malformed('listing write tokens');
    return (reply.body as WriteTokenReply[])
      .filter((item) => typeof item?.id === 'string')
      .map((item) => ({
        upstreamId: item.id as string,
        description: optionalString(item.description),
        createdAt: isoTime(item.created_at),
        expiresAt: isoTime(item.expires_at),
        tokenPrefix: optionalString(item.token_prefix),
      }));
  }

  private tokensUrl(baseUrl: string): string {
    return `${baseUrl}/api/v1/projects/${encodeURIComponent(this.options.projectId)}/write-tokens/`;
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An RFC 3339 time as `toISOString()` writes it; a string that does not parse is kept as Logfire sent it. */
function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? value : new Date(at).toISOString();
}
