/** `anomalies ls|undo`, `audit`, `stats`: what happened, and undoing what an anomaly rule did. */
import type { Command } from 'commander';
import type { Activity, AnomalyAction, AnomalyPage, AuditPage, Stats } from '../api/types';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { checkedTime } from '../filters';
import { note, printJson, printLine, renderTable } from '../output';
import { otpCode } from '../otp';
import type { Act } from '../program';
import { fetchPages, type PageOptions } from './pages';
import { AUDIT_COLUMNS } from './tokens';

export function registerActivityCommands(program: Command, act: Act): void {
  const anomalies = program.command('anomalies').description('what the anomaly rules did, and undoing it');
  pageOptions(anomalies.command('ls').description('anomaly actions, newest first')).action(
    act(listAnomalies),
  );
  anomalies
    .command('undo')
    .description('undo an anomaly action: resume the tokens it paused (revoked ones stay revoked)')
    .argument('<actionId>')
    .option('--reason <text>', 'why (required; kept in the audit trail)')
    .option('--otp <code>', 'the one-time code (prompted for on a terminal)')
    .action(act(undoAnomaly));

  pageOptions(
    program
      .command('audit')
      .description('the audit trail, newest first')
      .option('--token <tokenId>', 'entries of this token')
      .option('--install <installId>', 'entries of this installation')
      .option('--actor <actor>', 'entries by this actor (client, system:sweep, admin:<principal>, …)')
      .option('--after <time>', 'entries after this time (ISO 8601, or an age such as 2h or 7d)')
      .option('--before <time>', 'entries before this time (ISO 8601, or an age)'),
  ).action(act(listAudit));

  program
    .command('stats')
    .description('tokens by status, activity, top networks and app versions')
    .action(act(showStats));
}

function pageOptions(command: Command): Command {
  return command
    .option('--limit <n>', 'entries per page (1–500; default 100)')
    .option('--cursor <cursor>', 'the page after this cursor')
    .option('--all', 'every page');
}

async function listAnomalies(context: Context, _args: string[], options: Record<string, unknown>) {
  const client = await context.client();
  const page = await fetchPages(context, options as PageOptions, 'actions', (cursor, limit) =>
    client.request<AnomalyPage>('GET', 'anomalies', { query: { limit, cursor } }),
  );
  if (context.json) return printJson(context.io, page);
  if (page.actions.length === 0) return note(context.io, 'no anomaly actions');
  printLine(
    context.io,
    renderTable(
      [
        { header: 'action id', value: (a: AnomalyAction) => a.actionId },
        {
          header: 'at',
          value: (a) => (typeof a.createdAt === 'number' ? new Date(a.createdAt).toISOString() : a.createdAt),
        },
        { header: 'rule', value: (a) => a.rule },
        { header: 'did', value: (a) => (a.dryRun ? `${a.action} (dry run)` : a.action) },
        { header: 'state', value: (a) => a.state },
        { header: 'tokens', value: (a) => a.tokenIds?.length, align: 'right' },
        { header: 'subject', value: (a) => a.subject },
      ],
      page.actions,
    ),
  );
}

async function undoAnomaly(context: Context, [actionId]: string[], options: Record<string, unknown>) {
  const reason = options.reason as string | undefined;
  if (!reason?.trim())
    throw new UsageError('--reason <text> is required: say why (it is kept in the audit trail).');
  const client = await context.client();
  const otp = await otpCode(context, options.otp as string | undefined, `undo ${actionId}`);
  const result = await client.request<{
    outcome?: string;
    resumed?: string[];
    cannotUndo?: Array<{ tokenId: string; why: string }>;
    leftAlone?: Array<{ tokenId: string; status?: string }>;
  }>('POST', `anomalies/${encodeURIComponent(actionId!)}/undo`, { body: { reason }, otp });
  if (context.json) return printJson(context.io, result);
  const lines = [
    result.outcome === 'already_undone' ? `${actionId} was already undone` : `${actionId} undone`,
    `resumed: ${result.resumed?.length ?? 0}`,
    ...(result.cannotUndo ?? []).map((t) => `  not undone: ${t.tokenId} (${t.why})`),
    ...(result.leftAlone ?? []).map((t) => `  left alone: ${t.tokenId} (now ${t.status ?? 'gone'})`),
  ];
  printLine(context.io, lines.join('\n'));
}

async function listAudit(context: Context, _args: string[], options: Record<string, unknown>) {
  const after = options.after === undefined ? undefined : checkedTime('--after', options.after as string);
  const before = options.before === undefined ? undefined : checkedTime('--before', options.before as string);
  const query = {
    tokenId: options.token as string | undefined,
    installId: options.install as string | undefined,
    actor: options.actor as string | undefined,
    after,
    before,
  };
  const client = await context.client();
  const page = await fetchPages(context, options as PageOptions, 'entries', (cursor, limit) =>
    client.request<AuditPage>('GET', 'audit', { query: { ...query, limit, cursor } }),
  );
  if (context.json) return printJson(context.io, page);
  if (page.entries.length === 0) return note(context.io, 'no audit entries match');
  printLine(context.io, renderTable(AUDIT_COLUMNS, page.entries));
}

async function showStats(context: Context) {
  const stats = await (await context.client()).request<Stats>('GET', 'stats');
  if (context.json) return printJson(context.io, stats);
  const byStatus = Object.entries(stats.tokensByStatus);
  const activity = (['mints', 'refreshes', 'heartbeats'] as const).flatMap((name) =>
    stats[name] ? [[name, stats[name]] as [string, Activity]] : [],
  );
  const sections = [
    renderTable(
      [
        { header: 'status', value: ([status]: [string, number]) => status },
        { header: 'tokens', value: ([, count]) => count, align: 'right' },
      ],
      byStatus,
    ),
    renderTable(
      [
        { header: 'activity', value: ([name]: [string, Activity]) => name },
        { header: 'last 24 h', value: ([, a]) => a.last24h, align: 'right' },
        { header: 'last 7 days', value: ([, a]) => a.last7d, align: 'right' },
      ],
      activity,
    ),
    renderTable(
      [
        { header: 'top networks', value: (n: { network: string; count: number }) => n.network },
        { header: 'tokens', value: (n) => n.count, align: 'right' },
      ],
      stats.topSourceNetworks ?? [],
    ),
    renderTable(
      [
        {
          header: 'top app versions',
          value: (v: { app: string; version: string; count: number }) => `${v.app} ${v.version}`,
        },
        { header: 'tokens', value: (v) => v.count, align: 'right' },
      ],
      stats.topAppVersions ?? [],
    ),
  ];
  printLine(context.io, sections.join('\n\n'));
}
