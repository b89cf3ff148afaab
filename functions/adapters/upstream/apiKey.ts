/**
 * Logfire through an API key with scope `project:write_token` (DESIGN §5, the preferred mode): write
 * tokens are created with an expiry and can be deleted, so revocation reaches Logfire.
 */
import { UpstreamUnavailable } from '../../core/errors';
import type { ListedWriteToken, Log, Upstream, UpstreamToken } from '../../core/ports';
import { malformed } from './errors';
import type { LogfireHttp } from './http';
import type { LogfireAccess } from './region';

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
 * const { upstreamId, token } = await upstream.createWriteToken({ description: 'install 42', expiresAt });
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

  async createWriteToken(request: { description: string; expiresAt: Date }): Promise<UpstreamToken> {
    const { credential, baseUrl } = await this.options.access.resolve();
    // A POST retried after a timeout may leave an extra token at Logfire; its expires_at bounds its life.
    const reply = await this.options.http({
      operation: 'creating a write token',
      method: 'POST',
      url: this.tokensUrl(baseUrl),
      authorization: `Bearer ${credential}`,
      json: { expires_at: request.expiresAt.toISOString(), description: request.description },
    });
    const body = reply.body as WriteTokenReply | undefined;
    if (typeof body?.id !== 'string' || typeof body.token !== 'string' || !body.token) {
      throw malformed('creating a write token');
    }
    this.options.log.debug('Logfire write token created', {
      upstreamId: body.id,
      expiresAt: body.expires_at,
    });
    return { upstreamId: body.id, token: body.token };
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

  /** Every write token of the project, for reconciliation: tokens Logfire has that the broker forgot. */
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
        createdAt: optionalString(item.created_at),
        expiresAt: optionalString(item.expires_at),
        tokenPrefix: optionalString(item.token_prefix),
      }));
  }

  /**
   * Checks that the key works and can see the configured project, for a start-up self-test.
   * Throws `UpstreamRejected` for a bad key, `UpstreamUnavailable` when the project is not visible.
   */
  async verify(): Promise<{ projectName: string; organizationName?: string }> {
    const { credential, baseUrl } = await this.options.access.resolve();
    const reply = await this.options.http({
      operation: 'listing projects',
      method: 'GET',
      url: `${baseUrl}/api/v1/projects/`,
      authorization: `Bearer ${credential}`,
    });
    if (!Array.isArray(reply.body)) throw malformed('listing projects');
    const project = (reply.body as Array<Record<string, unknown>>).find(
      (p) => p?.id === this.options.projectId,
    );
    if (!project) {
      throw new UpstreamUnavailable(
        `The Logfire API key cannot see project ${this.options.projectId}; check LOGFIRE_PROJECT_ID.`,
        300,
      );
    }
    return {
      projectName: String(project.project_name ?? ''),
      organizationName: optionalString(project.organization_name),
    };
  }

  private tokensUrl(baseUrl: string): string {
    return `${baseUrl}/api/v1/projects/${encodeURIComponent(this.options.projectId)}/write-tokens/`;
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
