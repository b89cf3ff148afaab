/**
 * Logfire through a user token (DESIGN §5, the legacy mode the source article describes). Logfire's
 * endpoint for this credential takes no expiry and offers no list or delete, so the broker cannot revoke
 * these tokens at Logfire: revocation only stops the broker from handing them out again, and short
 * rotation limits the damage of a leaked one.
 */
import type { Log, Upstream, UpstreamToken } from '../../core/ports';
import { malformed } from './errors';
import type { LogfireHttp } from './http';
import type { LogfireAccess } from './region';

export interface UserTokenUpstreamOptions {
  access: LogfireAccess;
  organization: string;
  project: string;
  http: LogfireHttp;
  log: Log;
}

/**
 * @example
 * const upstream = new UserTokenUpstream({ access, organization: 'acme', project: 'cli', http, log });
 * const { token } = await upstream.createWriteToken({ description: 'ignored here', expiresAt });
 */
export class UserTokenUpstream implements Upstream {
  readonly kind = 'user-token' as const;
  readonly canRevoke = false;

  constructor(private readonly options: UserTokenUpstreamOptions) {}

  get ingestBaseUrl(): string {
    return this.options.access.baseUrl;
  }

  async prepare(): Promise<void> {
    await this.options.access.resolve();
  }

  /** `description` and `expiresAt` cannot be sent: this Logfire route takes no body. */
  async createWriteToken(_request: { description: string; expiresAt: Date }): Promise<UpstreamToken> {
    const { credential, baseUrl } = await this.options.access.resolve();
    const { organization, project } = this.options;
    const reply = await this.options.http({
      operation: 'creating a write token',
      method: 'POST',
      url: `${baseUrl}/v1/organizations/${encodeURIComponent(organization)}/projects/${encodeURIComponent(project)}/write-tokens/`,
      // The user-token API takes the raw token, without "Bearer" (pydantic/logfire client.py).
      authorization: credential,
    });
    const body = reply.body as { token?: unknown } | undefined;
    if (typeof body?.token !== 'string' || !body.token) throw malformed('creating a write token');
    this.options.log.debug('Logfire write token created (user-token mode, no upstream id)', {
      organization,
      project,
    });
    return { token: body.token };
  }

  /**
   * Does nothing, on purpose: Logfire has no delete for tokens made with a user token, so they live until
   * Logfire expires them. Callers see `canRevoke === false` and should say so to the admin.
   */
  async deleteWriteToken(_upstreamId: string): Promise<void> {}
}
