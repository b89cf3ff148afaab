/**
 * The network side of `getWriteToken()` (issue #5, points 1–4): under the inter-process lock and one
 * deadline, re-read the install id and the cache (another process may have done the work), then mint,
 * heartbeat, refresh or re-mint as the cache and the broker say, and write the result. Everything here
 * may throw; the client turns a throw into "telemetry off for this run".
 */
import type { AppIdentity } from '../../../functions/core/contract';
import {
  readTokenCache,
  writePrivateJson,
  TOKEN_FORMAT,
  type CachePaths,
  type TokenCache,
} from './cacheFiles';
import { Deadline } from './deadline';
import { CacheRefusedError } from './errors';
import { withLock } from './lock';
import { CLIENT_LIBRARY } from './library';
import {
  mint,
  refresh,
  remoteSettings,
  sendHeartbeat,
  type BrokerHttp,
  type ClientSettings,
  type IssuedToken,
} from './protocol';
import { cacheDirProblem, errorCode } from './safeFiles';

/** A token this close to its expiry is treated as expired: it could die in the middle of the run. */
export const EXPIRY_MARGIN_MS = 60_000;
/** A last heartbeat this far in the future means the clock moved back: check in again. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface FlowContext {
  paths: CachePaths;
  brokerUrl: string;
  app: AppIdentity;
  installId: string;
  /** Re-reads the install id from the preferences file (under the lock: another process may have set it). */
  reloadInstallId?: () => string | undefined;
  platform: string;
  metadata: Record<string, string>;
  now: () => number;
  fetch: typeof fetch;
  budgetMs: number;
  /** A debug line (the caller decides whether it is printed). Never given a secret. */
  log: (line: string) => void;
}

/** The cache record after the step (if any) and, when telemetry is off for the run, why. */
export interface FlowResult {
  record: TokenCache | undefined;
  off?: string;
}

/** What a cached record allows without the network. */
export type CacheVerdict = 'use' | 'paused' | 'missing' | 'expired' | 'heartbeat-due';

/**
 * Decides from the cache alone: `use` and `paused` need no network; the others do.
 *
 * @example
 * if (judge(record, Date.now(), installId) === 'use') return record.writeToken; // no network call
 */
export function judge(record: TokenCache | undefined, now: number, installId: string): CacheVerdict {
  if (!record || record.installId !== installId) return 'missing';
  if (Date.parse(record.expiresAt) - EXPIRY_MARGIN_MS <= now) return 'expired';
  const sinceHeartbeat = now - Date.parse(record.lastHeartbeatAt);
  if (sinceHeartbeat < -CLOCK_SKEW_MS || sinceHeartbeat >= record.heartbeatIntervalSeconds * 1000) {
    return 'heartbeat-due';
  }
  return record.status === 'paused' ? 'paused' : 'use';
}

/** When the next heartbeat is due, as an ISO time (for debug lines). */
export function nextHeartbeatAt(record: TokenCache): string {
  return new Date(Date.parse(record.lastHeartbeatAt) + record.heartbeatIntervalSeconds * 1000).toISOString();
}

export function pausedReason(record: TokenCache): string {
  return `the broker paused token ${record.tokenId}: telemetry is off until the next heartbeat (after ${nextHeartbeatAt(record)})`;
}

/**
 * Brings the cached token up to date with the broker, holding the lock: one process mints, the others
 * find its token when they get the lock.
 *
 * @example
 * const { record, off } = await renewToken(context);
 */
export async function renewToken(start: FlowContext): Promise<FlowResult> {
  const unsafe = cacheDirProblem(start.paths.dir, true); // the lock directory goes in it
  if (unsafe) throw new CacheRefusedError(unsafe);
  const deadline = new Deadline(start.budgetMs);
  const http: BrokerHttp = { brokerUrl: start.brokerUrl, fetch: start.fetch, deadline, log: start.log };
  return withLock(start.paths.tokenFile, deadline, async () => {
    const ctx = { ...start, installId: start.reloadInstallId?.() ?? start.installId };
    const read = readTokenCache(ctx.paths.tokenFile, ctx.brokerUrl, ctx.app.name);
    if (read.kind === 'refused') return { record: undefined, off: `telemetry is off: ${read.problem}` };
    if (read.problem) ctx.log(read.problem);
    const record = read.value;
    switch (judge(record, ctx.now(), ctx.installId)) {
      case 'use':
        return { record };
      case 'paused':
        return { record, off: pausedReason(record!) };
      case 'missing':
        return mintAndStore(ctx, http, 'no usable cached token');
      case 'expired':
        return mintAndStore(ctx, http, `the cached token ${record!.tokenId} has expired`);
      case 'heartbeat-due':
        return heartbeat(ctx, http, record!);
    }
  });
}

async function heartbeat(ctx: FlowContext, http: BrokerHttp, record: TokenCache): Promise<FlowResult> {
  ctx.log(`sending a heartbeat for token ${record.tokenId} to ${ctx.brokerUrl}`);
  const outcome = await sendHeartbeat(http, record.tokenId, record.clientSecret);
  const checked = (status: TokenCache['status']): TokenCache => ({
    ...record,
    status,
    lastHeartbeatAt: new Date(ctx.now()).toISOString(),
    ...('heartbeatIntervalSeconds' in outcome && outcome.heartbeatIntervalSeconds > 0
      ? { heartbeatIntervalSeconds: outcome.heartbeatIntervalSeconds }
      : {}),
    ...('expiresAt' in outcome && Number.isFinite(Date.parse(outcome.expiresAt))
      ? { expiresAt: outcome.expiresAt }
      : {}),
    // What the operator says now; a heartbeat without settings (an older broker) leaves the last ones.
    ...withSettings('settings' in outcome ? outcome.settings : undefined),
  });
  switch (outcome.status) {
    case 'active': {
      ctx.log(`token ${record.tokenId} is active`);
      return store(ctx, checked('active'));
    }
    case 'paused': {
      const paused = checked('paused');
      return { ...store(ctx, paused), off: pausedReason(paused) };
    }
    case 'rotate':
      return rotate(ctx, http, record, checked);
    case 'revoked':
      return mintAndStore(ctx, http, `the broker revoked token ${record.tokenId}`);
    case 'throttled':
      // Not recorded as a heartbeat, so the next run checks in again; the token was good when last seen.
      ctx.log(`the broker is rate-limiting heartbeats of token ${record.tokenId}; using the cached token`);
      return { record };
    case 'unauthorized':
      return mintAndStore(ctx, http, `the broker no longer accepts token ${record.tokenId} (401)`);
  }
}

async function rotate(
  ctx: FlowContext,
  http: BrokerHttp,
  record: TokenCache,
  checked: (status: TokenCache['status']) => TokenCache,
): Promise<FlowResult> {
  ctx.log(`the broker asks to rotate token ${record.tokenId}: refreshing it`);
  const outcome = await refresh(http, record.tokenId, record.clientSecret);
  if (outcome.status === 'issued') {
    ctx.log(`token ${record.tokenId} was replaced by ${outcome.token.tokenId}`);
    return store(ctx, fromIssued(ctx, outcome.token));
  }
  if (outcome.status === 'forbidden') {
    // The broker refuses to refresh a paused token: act as a heartbeat that said `paused`.
    const paused = checked('paused');
    return { ...store(ctx, paused), off: pausedReason(paused) };
  }
  return mintAndStore(ctx, http, `the broker refused to refresh token ${record.tokenId} (401)`);
}

async function mintAndStore(ctx: FlowContext, http: BrokerHttp, why: string): Promise<FlowResult> {
  ctx.log(`${why}: minting a token for ${ctx.app.name}@${ctx.app.version} at ${ctx.brokerUrl}`);
  const issued = await mint(http, {
    installId: ctx.installId,
    app: { name: ctx.app.name, version: ctx.app.version },
    platform: ctx.platform,
    ...(Object.keys(ctx.metadata).length ? { metadata: ctx.metadata } : {}),
    client: { name: CLIENT_LIBRARY.name, version: CLIENT_LIBRARY.version },
  });
  ctx.log(`minted token ${issued.tokenId} (expires ${issued.expiresAt})`);
  return store(ctx, fromIssued(ctx, issued));
}

function fromIssued(ctx: FlowContext, issued: IssuedToken): TokenCache {
  return {
    format: TOKEN_FORMAT,
    brokerUrl: ctx.brokerUrl,
    app: ctx.app.name,
    installId: ctx.installId,
    tokenId: issued.tokenId,
    writeToken: issued.writeToken,
    clientSecret: issued.clientSecret,
    expiresAt: issued.expiresAt,
    refreshAfter: issued.refreshAfter,
    heartbeatIntervalSeconds: Math.max(1, issued.heartbeatIntervalSeconds),
    ingestBaseUrl: issued.ingest.baseUrl.replace(/\/+$/, ''),
    // A mint or refresh is as good as a heartbeat: the broker just vouched for the token.
    lastHeartbeatAt: new Date(ctx.now()).toISOString(),
    status: 'active',
    ...withSettings(issued.settings),
  };
}

function withSettings(value: unknown): { settings?: ClientSettings } {
  const settings = remoteSettings(value);
  return settings ? { settings } : {};
}

/** Writes the record; a cache that cannot be written still leaves the token usable for this run. */
function store(ctx: FlowContext, record: TokenCache): FlowResult {
  try {
    writePrivateJson(ctx.paths.tokenFile, record);
  } catch (error) {
    ctx.log(`could not write the token cache (${errorCode(error)}); the token serves this run only`);
  }
  return { record };
}
