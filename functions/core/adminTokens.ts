/**
 * The admin API's view of tokens (docs/admin-api.md): the filter of the list and of bulk jobs, read through
 * the index that holds what it may match (byInstall, byAppVersion, bySource; else every live token through
 * byExpireAt), and the token as an admin sees it (never a secret, hash or sealed reply).
 */
import { ADMIN_FILTER_KEYS, type AdminFilter } from './adminContract';
import type { AuditEntry } from './audit';
import type { BrokerDeps } from './deps';
import { InvalidRequest, NotFound } from './errors';
import { appVersionRange, sourceCidrRange } from './indexKeys';
import { TERMINAL_STATUSES, TOKEN_STATUSES, type TokenRecord, type TokenStatus } from './model';
import { networkOf } from './network';
import type { Page } from './ports';
import { compileFilter, type TokenFilter } from './tokenFilter';

/** A token as the admin API shows it. */
export interface AdminToken {
  tokenId: string;
  status: TokenStatus;
  installId: string;
  app: { name: string; version: string };
  platform?: string;
  sourceIp: string;
  sourceNetwork?: string;
  createdAt: string;
  lastSeenAt?: string;
  expiresAt: string;
  tokenPrefix?: string;
  chainId: string;
  reason?: string;
}

const FILTER_KEYS = new Set<string>(ADMIN_FILTER_KEYS);

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** @example toAdminToken(record).app.version // '1.2.0' */
export function toAdminToken(record: TokenRecord): AdminToken {
  return {
    tokenId: record.tokenId,
    status: record.status,
    installId: record.installId,
    app: { name: record.appName, version: record.appVersion },
    platform: record.platform,
    sourceIp: record.sourceIp,
    sourceNetwork: networkOf(record.sourceIp),
    createdAt: iso(record.createdAt)!,
    lastSeenAt: iso(record.lastHeartbeatAt),
    expiresAt: iso(record.expiresAt)!,
    tokenPrefix: record.tokenPrefix,
    chainId: record.chainId,
    reason: record.statusReason,
  };
}

/** A checked filter: its exact test, and how to read the tokens it may match. */
export interface CompiledFilter {
  matches: (record: TokenRecord) => boolean;
  /** Reads one page of candidates; undefined when the filter can match nothing. */
  read?: (deps: BrokerDeps, limit: number, cursor?: string) => Promise<Page<TokenRecord>>;
  empty: boolean;
}

/**
 * Checks an admin filter (400 naming the field) and picks the index to read. A filter by install reads that
 * install's tokens (every status); by app (and version) or by network, only the live tokens that may match;
 * otherwise every live token. Terminal tokens (revoked, superseded, expired) are in no index but byInstall.
 * @example const { matches, read } = compileAdminFilter({ app: 'hello', version: '<2.0.0' });
 */
export function compileAdminFilter(filter: AdminFilter, options: { forBulk?: boolean } = {}): CompiledFilter {
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.has(key)) {
      throw new InvalidRequest(`filter: "${key}" is not a filter; use ${[...FILTER_KEYS].join(', ')}.`);
    }
    if (typeof filter[key as keyof AdminFilter] !== 'string' || filter[key as keyof AdminFilter] === '') {
      throw new InvalidRequest(`${key}: expected a non-empty string.`);
    }
    if (filter[key as keyof AdminFilter]!.length > 200) throw new InvalidRequest(`${key}: too long.`);
  }
  const tokenFilter: TokenFilter = {};
  if (filter.status !== undefined) {
    const statuses = filter.status.split(',').map((status) => status.trim());
    for (const status of statuses) {
      if (!TOKEN_STATUSES.includes(status as TokenStatus)) {
        throw new InvalidRequest(`status: "${status}" is not a status; use ${TOKEN_STATUSES.join(', ')}.`);
      }
    }
    tokenFilter.status = statuses as TokenStatus[];
    const terminal = statuses.some((status) => TERMINAL_STATUSES.includes(status as TokenStatus));
    if (terminal && filter.install === undefined) {
      throw new InvalidRequest(
        'status: revoked, superseded and expired tokens are listed per install; add install=<id>.',
      );
    }
  }
  if (filter.install !== undefined) tokenFilter.installId = filter.install;
  if (filter.app !== undefined) tokenFilter.appName = filter.app;
  if (filter.version !== undefined) {
    if (filter.app === undefined) {
      throw new InvalidRequest('version: a version range is of one app; add app=<name>.');
    }
    tokenFilter.appVersion = filter.version;
  }
  if (filter.network !== undefined) tokenFilter.sourceCidr = filter.network;
  const created = timeRange(filter.createdAfter, filter.createdBefore, 'created');
  if (created) tokenFilter.createdAt = created;
  const seen = timeRange(filter.seenAfter, filter.seenBefore, 'seen');
  if (seen) tokenFilter.seenAt = seen;
  const matches = compileFilter(tokenFilter, { allowEmpty: !options.forBulk });

  if (filter.install !== undefined) {
    const installId = filter.install;
    return {
      matches,
      empty: false,
      read: (deps, limit, cursor) => deps.store.listByInstall(installId, limit, cursor),
    };
  }
  if (filter.app !== undefined) {
    const range = appVersionRange(filter.app, filter.version);
    if (!range) return { matches, empty: true };
    return {
      matches,
      empty: false,
      read: (deps, limit, cursor) => deps.store.listByAppVersion(range, limit, cursor),
    };
  }
  if (filter.network !== undefined) {
    const range = sourceCidrRange(filter.network);
    return {
      matches,
      empty: false,
      read: (deps, limit, cursor) => deps.store.listBySource(range, limit, cursor),
    };
  }
  return { matches, empty: false, read: (deps, limit, cursor) => deps.store.listNonTerminal(limit, cursor) };
}

function timeRange(
  after: string | undefined,
  before: string | undefined,
  name: string,
): { from?: number; to?: number } | undefined {
  if (after === undefined && before === undefined) return undefined;
  const parse = (text: string, key: string) => {
    const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
    if (!Number.isFinite(ms)) throw new InvalidRequest(`${key}: expected an ISO 8601 time, got "${text}".`);
    return ms;
  };
  const from = after === undefined ? undefined : parse(after, `${name}After`);
  const to = before === undefined ? undefined : parse(before, `${name}Before`);
  if (from !== undefined && to !== undefined && from >= to) {
    throw new InvalidRequest(`${name}After must be before ${name}Before.`);
  }
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/**
 * One page of tokens matching `filter`; a page may hold fewer than `limit` tokens while `nextCursor` is set
 * (the index's page held tokens the exact test refused): follow it until it is absent.
 * @example const { tokens, nextCursor } = await listAdminTokens(deps, { app: 'hello' }, 100);
 */
export async function listAdminTokens(
  deps: BrokerDeps,
  filter: AdminFilter,
  limit: number,
  cursor?: string,
): Promise<{ tokens: AdminToken[]; nextCursor?: string }> {
  const { matches, read } = compileAdminFilter(filter);
  if (!read) return { tokens: [] };
  const page = await read(deps, limit, cursor);
  return {
    tokens: page.items.filter(matches).map(toAdminToken),
    ...(page.cursor ? { nextCursor: page.cursor } : {}),
  };
}

const CHAIN_TOKENS = 50;
const ENTRIES_PER_TOKEN = 100;

/**
 * One token and its chain's audit history, oldest first (at most 50 tokens of the chain, 100 entries each).
 * @example const { token, audit } = await showAdminToken(deps, 'tok_…');
 */
export async function showAdminToken(
  deps: BrokerDeps,
  tokenId: string,
): Promise<{ token: AdminToken; audit: AuditEntry[] }> {
  const record = await deps.store.getToken(tokenId);
  if (!record) throw new NotFound('No token with this id.');
  const chain = await deps.store.listByChain(record.chainId, CHAIN_TOKENS);
  const ids = new Set([record.tokenId, ...chain.items.map((item) => item.tokenId)]);
  const pages = await Promise.all([...ids].map((id) => deps.audit.byToken(id, { limit: ENTRIES_PER_TOKEN })));
  const audit = pages.flatMap((page) => page.entries).sort((a, b) => a.at - b.at);
  return { token: toAdminToken(record), audit };
}
