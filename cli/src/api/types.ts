/**
 * The admin API's requests and replies as docs/admin-api.md describes them: the fields the CLI and the
 * console read (the CLI's JSON output prints whatever the broker sent). It imports only the dependency-free
 * functions/core/adminContract.ts, so the console's browser build takes it without any Node code.
 */

import type { AdminFilter } from '../../../functions/core/adminContract';

/** The list route's query parameters, and the body of a bulk job's filter (the API's names). */
export type TokenFilter = AdminFilter;
export { ADMIN_FILTER_KEYS as TOKEN_FILTER_KEYS } from '../../../functions/core/adminContract';

/** A token as the admin API shows it: never a write token, client secret or hash. */
export interface AdminToken {
  tokenId: string;
  status: string;
  installId: string;
  app: { name: string; version: string };
  platform?: string;
  sourceIp?: string;
  sourceNetwork?: string;
  createdAt: string;
  lastSeenAt?: string;
  expiresAt?: string;
  tokenPrefix?: string;
  chainId?: string;
  reason?: string;
}

export interface Paged {
  nextCursor?: string;
}

export interface TokenList extends Paged {
  tokens: AdminToken[];
}

export interface AuditEntry {
  /** ISO 8601 or epoch ms. */
  at: string | number;
  action: string;
  actor: string;
  tokenId?: string;
  installId?: string;
  sourceIp?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

export interface AuditPage extends Paged {
  entries: AuditEntry[];
}

/** One token with its audit trail. */
export interface TokenDetail {
  token: AdminToken;
  audit: AuditEntry[];
}

/** The core's result of pausing, resuming or revoking one token. */
export interface AdminResult {
  requestedTokenId: string;
  tokenId: string;
  outcome: 'changed' | 'unchanged' | 'not_found' | 'not_applicable';
  status?: string;
  upstreamStillValid?: boolean;
}

export type BulkAction = 'pause' | 'revoke';

export interface BulkJob {
  jobId: string;
  action: BulkAction;
  filter: TokenFilter;
  reason: string;
  matched: number;
  processed: number;
  changed: number;
  done: boolean;
  createdBy?: string;
  createdAt?: string;
}

export interface Quotas {
  defaults: Record<string, number>;
  overrides: Record<string, number>;
  effective: Record<string, number>;
}

export interface Allowlist {
  mintAllowCidrs: string[];
  source: 'config' | 'override';
}

export interface SettingsRule {
  app: string;
  versions?: string;
  telemetry?: 'on' | 'off';
  sampleRate?: number;
  minClientVersion?: string;
}

export interface AnomalyAction {
  actionId: string;
  rule: string;
  action: string;
  dryRun?: boolean;
  subject?: string;
  reason?: string;
  state?: string;
  tokenIds?: string[];
  createdAt?: string | number;
  windowStart?: number;
  windowEnd?: number;
  /** The rest is the rule's evidence (its target, …), shown as it came. */
  [key: string]: unknown;
}

export interface AnomalyPage extends Paged {
  actions: AnomalyAction[];
}

export interface Activity {
  last24h: number;
  last7d: number;
  hourly?: Array<{ hour: string; count: number }>;
  daily?: Array<{ day: string; count: number }>;
}

export interface Stats {
  tokensByStatus: Record<string, number>;
  mints?: Activity;
  refreshes?: Activity;
  heartbeats?: Activity;
  topSourceNetworks?: Array<{ network: string; count: number }>;
  topAppVersions?: Array<{ app: string; version: string; count: number }>;
}
