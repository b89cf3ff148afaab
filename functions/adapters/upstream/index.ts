/**
 * Builds the upstream chosen by `BROKER_UPSTREAM` (DESIGN §5, §7). The credential is loaded on first use,
 * not here, so creating the upstream at Lambda module scope costs no Secrets Manager call.
 */
import type { BrokerConfig, CredentialSource } from '../../config';
import type { Clock, Log, Upstream } from '../../core/ports';
import { loadCredential as loadCredentialFromSource } from '../secrets';
import { ApiKeyUpstream } from './apiKey';
import { DevUpstream } from './dev';
import { createLogfireHttp, type Sleep } from './http';
import { LogfireAccess, logfireBaseUrl } from './region';
import { UserTokenUpstream } from './userToken';

export { ApiKeyUpstream } from './apiKey';
export type { ListedWriteToken } from '../../core/ports';
export { DevUpstream, type OtlpAnswer, type OtlpPost, type OtlpSignal } from './dev';
export { UpstreamRejected } from './errors';
export { LOGFIRE_REGIONS, logfireBaseUrl } from './region';
export { UserTokenUpstream } from './userToken';

/** An `Upstream` that can also load its credential ahead of the first call. */
export interface BrokerUpstream extends Upstream {
  /**
   * Loads the credential (and with it the region), so `ingestBaseUrl` is known before any mint. Needed
   * only when the credential is in Secrets Manager and `LOGFIRE_BASE_URL` is unset; a no-op otherwise.
   */
  prepare(): Promise<void>;
}

export interface UpstreamDeps {
  log: Log;
  /** Defaults to `functions/adapters/secrets.ts`. */
  loadCredential?: (source: CredentialSource) => Promise<string>;
  /** Dev upstream: where its live tokens are kept across restarts. */
  dataDir?: string;
  /** Dev upstream: where the local server accepts OTLP. Required for `kind: 'dev'`. */
  ingestBaseUrl?: string;
  fetch?: typeof fetch;
  sleep?: Sleep;
  clock?: Clock;
}

/**
 * @example
 * const upstream = createUpstream(readConfig(), { log });
 * const { upstreamId, token, tokenPrefix } = await upstream.createWriteToken({ expiresAt });
 * @example
 * // local mode without a Logfire credential
 * const dev = createUpstream(config, { log, dataDir, ingestBaseUrl: 'http://127.0.0.1:8787/dev-logfire' });
 */
export function createUpstream(config: BrokerConfig, deps: UpstreamDeps): BrokerUpstream {
  const upstream = config.upstream;
  if (upstream.kind === 'dev') {
    if (!deps.ingestBaseUrl) throw new Error('createUpstream: the dev upstream needs deps.ingestBaseUrl');
    return new DevUpstream({
      log: deps.log,
      ingestBaseUrl: deps.ingestBaseUrl,
      dataDir: deps.dataDir,
      clock: deps.clock,
    });
  }

  const http = createLogfireHttp({
    timeoutMs: config.upstreamTimeoutMs,
    retries: config.upstreamRetries,
    budgetMs: config.upstreamBudgetMs,
    log: deps.log,
    fetch: deps.fetch,
    sleep: deps.sleep,
    now: deps.clock ? () => deps.clock!.now() : undefined,
  });
  const source = upstream.credential;
  const load = deps.loadCredential ?? ((s: CredentialSource) => loadCredentialFromSource(s));
  // A credential in the environment is known now: check its region at start, not at the first mint.
  const baseUrl = upstream.baseUrl ?? (source.from === 'env' ? logfireBaseUrl(source.value) : undefined);
  const access = new LogfireAccess(() => load(source), baseUrl);

  if (upstream.kind === 'api-key') {
    return new ApiKeyUpstream({ access, projectId: upstream.projectId, http, log: deps.log });
  }
  return new UserTokenUpstream({
    access,
    organization: upstream.organization,
    project: upstream.project,
    http,
    log: deps.log,
  });
}
