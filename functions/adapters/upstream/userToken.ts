/**
 * Logfire through a user token (DESIGN §5, the legacy mode the source article describes). Logfire's
 * endpoint for this credential takes no expiry and offers no list or delete, so the broker cannot revoke
 * these tokens at Logfire: revocation only stops the broker from handing them out again, and short
 * rotation limits the damage of a leaked one. The user token itself carries an expiry (the one
 * `logfire auth` wrote next to it); past it Logfire refuses every call (401) until an operator puts a
 * fresh one in the secret.
 */
import type { Log, Upstream, UpstreamToken } from '../../core/ports';
import { malformed } from './errors';
import type { LogfireHttp } from './http';
import type { LogfireAccess } from './region';
import { tokenPrefixOf } from './tokenShape';

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
 * const { token, tokenPrefix } = await upstream.createWriteToken({ expiresAt }); // expiresAt cannot be sent
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

  /**
   * `expiresAt` cannot be sent: this Logfire route takes no body. Logfire returns no id and no
   * `token_prefix` here, so the prefix is the token's start as Logfire's own client prints it: what an
   * operator looks for in Logfire's UI to delete the token by hand.
   */
  async createWriteToken(_request: { expiresAt: Date }): Promise<UpstreamToken> {
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
    const tokenPrefix = tokenPrefixOf(body.token);
    this.options.log.debug('Logfire write token created (user-token mode, no upstream id)', {
      organization,
      project,
      tokenPrefix,
    });
    return { token: body.token, tokenPrefix };
  }

  /**
   * Does nothing, on purpose: Logfire has no delete for tokens made with a user token, so they live until
   * Logfire expires them. Callers see `canRevoke === false` and should say so to the admin.
   */
  async deleteWriteToken(_upstreamId: string): Promise<void> {}
}
