/**
 * The admin API's replies as the page reads them (docs/admin-api.md). The CLI has the same shapes in
 * cli/src/api/types.ts; the page keeps its own so that nothing of the CLI's Node code enters the browser build.
 */

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

/** The list's filters, the same keys for a bulk job (values as typed; empty ones are left out). */
export interface TokenFilter {
  status?: string;
  app?: string;
  version?: string;
  install?: string;
  network?: string;
  createdAfter?: string;
  createdBefore?: string;
  seenAfter?: string;
  seenBefore?: string;
}

export const FILTER_KEYS: ReadonlyArray<keyof TokenFilter> = [
  'status',
  'app',
  'version',
  'install',
  'network',
  'createdAfter',
  'createdBefore',
  'seenAfter',
  'seenBefore',
];

export interface TokenList {
  tokens: AdminToken[];
  nextCursor?: string;
}

export interface AuditEntry {
  at: string | number;
  action: string;
  actor: string;
  tokenId?: string;
  installId?: string;
  sourceIp?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

export interface TokenDetail {
  token: AdminToken;
  audit: AuditEntry[];
}

export interface AdminResult {
  tokenId: string;
  outcome: string;
  status?: string;
}

export type BulkAction = 'pause' | 'revoke';

export interface BulkJob {
  jobId: string;
  action: BulkAction;
  matched: number;
  processed: number;
  changed: number;
  done: boolean;
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

export interface AnomalyPage {
  actions: AnomalyAction[];
  nextCursor?: string;
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
