/**
 * `GET /v1/admin/stats` (docs/admin-api.md): live tokens by status, top source networks and app versions
 * (from the live tokens), and mints and refreshes over the last 24 hours and 7 days (from the audit trail).
 * Heartbeats are not audited (the hot path stays one write), so `heartbeats` counts the live tokens whose
 * LAST heartbeat fell in each hour or day: a lower bound of the traffic, and what says who is still there.
 * Reads are bounded; past the bound `truncated` is true and the counts cover what was read.
 */
import type { BrokerDeps } from './deps';
import { networkOf } from './network';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_TOKENS_READ = 20_000;
const MAX_ENTRIES_READ = 50_000;
const TOP = 10;

export interface Activity {
  last24h: number;
  last7d: number;
  hourly: Array<{ hour: string; count: number }>;
  daily: Array<{ day: string; count: number }>;
}

export interface AdminStats {
  tokensByStatus: Record<string, number>;
  mints: Activity;
  refreshes: Activity;
  heartbeats: Activity;
  topSourceNetworks: Array<{ network: string; count: number }>;
  topAppVersions: Array<{ app: string; version: string; count: number }>;
  truncated: boolean;
}

/** @example const { tokensByStatus } = await adminStats(deps); */
export async function adminStats(deps: BrokerDeps): Promise<AdminStats> {
  const now = deps.clock.now();
  const hourStart = Math.floor(now / HOUR) * HOUR;
  const dayStart = Math.floor(now / DAY) * DAY;
  const counters = () => ({ hours: new Array<number>(24).fill(0), days: new Array<number>(7).fill(0) });
  const activity = { mints: counters(), refreshes: counters(), heartbeats: counters() };
  const count = (what: keyof typeof activity, at: number) => {
    const hour = Math.floor((hourStart - Math.floor(at / HOUR) * HOUR) / HOUR);
    const day = Math.floor((dayStart - Math.floor(at / DAY) * DAY) / DAY);
    if (hour >= 0 && hour < 24) activity[what].hours[23 - hour]! += 1;
    if (day >= 0 && day < 7) activity[what].days[6 - day]! += 1;
  };

  const byStatus: Record<string, number> = {};
  const networks = new Map<string, number>();
  const versions = new Map<string, number>();
  let truncated = false;
  let read = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.listNonTerminal(100, cursor);
    for (const record of page.items) {
      byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
      const network = networkOf(record.sourceIp) ?? record.sourceIp;
      networks.set(network, (networks.get(network) ?? 0) + 1);
      const key = JSON.stringify([record.appName, record.appVersion]);
      versions.set(key, (versions.get(key) ?? 0) + 1);
      if (record.lastHeartbeatAt !== undefined) count('heartbeats', record.lastHeartbeatAt);
    }
    read += page.items.length;
    cursor = page.cursor;
    if (cursor && read >= MAX_TOKENS_READ) truncated = true;
  } while (cursor && !truncated);

  let entries = 0;
  let auditCursor: string | undefined;
  do {
    const page = await deps.audit.byTime({
      from: dayStart - 6 * DAY,
      to: now,
      limit: 500,
      cursor: auditCursor,
    });
    for (const entry of page.entries) {
      if (entry.action === 'token.minted') count('mints', entry.at);
      if (entry.action === 'token.refreshed') count('refreshes', entry.at);
    }
    entries += page.entries.length;
    auditCursor = page.cursor;
    if (auditCursor && entries >= MAX_ENTRIES_READ) truncated = true;
  } while (auditCursor && entries < MAX_ENTRIES_READ);

  const view = (what: keyof typeof activity): Activity => {
    const { hours, days } = activity[what];
    return {
      last24h: hours.reduce((a, b) => a + b, 0),
      last7d: days.reduce((a, b) => a + b, 0),
      hourly: hours.map((c, i) => ({ hour: new Date(hourStart - (23 - i) * HOUR).toISOString(), count: c })),
      daily: days.map((c, i) => ({
        day: new Date(dayStart - (6 - i) * DAY).toISOString().slice(0, 10),
        count: c,
      })),
    };
  };
  const top = <T>(counts: Map<string, number>, shape: (key: string, count: number) => T) =>
    [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP)
      .map(([key, c]) => shape(key, c));
  return {
    tokensByStatus: byStatus,
    mints: view('mints'),
    refreshes: view('refreshes'),
    heartbeats: view('heartbeats'),
    topSourceNetworks: top(networks, (network, c) => ({ network, count: c })),
    topAppVersions: top(versions, (key, c) => {
      const [app, version] = JSON.parse(key) as [string, string];
      return { app, version, count: c };
    }),
    truncated,
  };
}
