/** The overview: tokens by status, activity over 24 h and 7 days, top app versions and source networks. */
import { useMemo } from 'preact/hooks';
import { api } from '../api';
import { ActivityChart, type Series } from '../components/chart';
import { ErrorBox, Section, StatusBadge, useLoad } from '../components/common';
import type { Activity, Stats } from '../types';

const ACTIVITIES = [
  { key: 'mints', label: 'Mints', color: '#1f5fbf', dash: undefined },
  { key: 'refreshes', label: 'Refreshes', color: '#b8500b', dash: [2, 4] },
  { key: 'heartbeats', label: 'Heartbeats', color: '#207a3c', dash: [10, 5] },
] as const;

export function Overview() {
  const stats = useLoad(() => api<Stats>('GET', 'stats'), 'stats');
  const charts = useMemo(() => (stats.data ? chartSeries(stats.data) : undefined), [stats.data]);
  return (
    <>
      <h1>Overview</h1>
      <ErrorBox error={stats.error} />
      {stats.data && charts && (
        <>
          <Section title="Tokens by status" id="by-status">
            <ul class="counts" aria-label="Tokens by status">
              {Object.entries(stats.data.tokensByStatus).map(([status, count]) => (
                <li key={status} data-status={status}>
                  <a href={`#/tokens?status=${encodeURIComponent(status)}`}>
                    <span class="count">{count}</span> <StatusBadge status={status} />
                  </a>
                </li>
              ))}
            </ul>
          </Section>
          <Section title="Activity" id="activity">
            <table class="activity">
              <thead>
                <tr>
                  <th scope="col">Activity</th>
                  <th scope="col">Last 24 h</th>
                  <th scope="col">Last 7 days</th>
                </tr>
              </thead>
              <tbody>
                {ACTIVITIES.map(({ key, label }) => (
                  <tr key={key}>
                    <th scope="row">{label}</th>
                    <td>{stats.data?.[key]?.last24h ?? 0}</td>
                    <td>{stats.data?.[key]?.last7d ?? 0}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class="charts">
              <ActivityChart title="Per hour, last 24 h" series={charts.hourly} />
              <ActivityChart title="Per day, last 7 days" series={charts.daily} />
            </div>
          </Section>
          <div class="columns">
            <Section title="Top app versions" id="top-versions">
              <Top
                rows={(stats.data.topAppVersions ?? []).map((row) => ({
                  label: `${row.app} ${row.version}`,
                  href: `#/tokens?app=${encodeURIComponent(row.app)}&version=${encodeURIComponent(row.version)}`,
                  count: row.count,
                }))}
                what="App version"
              />
            </Section>
            <Section title="Top source networks" id="top-networks">
              <Top
                rows={(stats.data.topSourceNetworks ?? []).map((row) => ({
                  label: row.network,
                  href: `#/tokens?network=${encodeURIComponent(row.network)}`,
                  count: row.count,
                }))}
                what="Network"
              />
            </Section>
          </div>
        </>
      )}
    </>
  );
}

function Top({ rows, what }: { rows: Array<{ label: string; href: string; count: number }>; what: string }) {
  if (rows.length === 0) return <p class="note">None yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{what}</th>
          <th scope="col">Tokens</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.label}>
            <td>
              <a href={row.href}>{row.label}</a>
            </td>
            <td>{row.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function chartSeries(stats: Stats): { hourly: Series[]; daily: Series[] } {
  const pick = (activity: Activity | undefined, by: 'hourly' | 'daily') =>
    by === 'hourly'
      ? (activity?.hourly ?? []).map((point) => ({ at: point.hour, count: point.count }))
      : (activity?.daily ?? []).map((point) => ({ at: point.day, count: point.count }));
  const series = (by: 'hourly' | 'daily') =>
    ACTIVITIES.map(({ key, label, color, dash }) => ({
      label,
      color,
      dash: dash && [...dash],
      points: pick(stats[key], by),
    }));
  return { hourly: series('hourly'), daily: series('daily') };
}
