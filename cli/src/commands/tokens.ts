/**
 * `tokens ls|show|pause|resume|revoke`, and the bulk form `tokens pause|revoke --filter … [--dry-run]`
 * (also `revoke --filter …` at the top level).
 */
import type { Command } from 'commander';
import type { AdminResult, AdminToken, AuditEntry, TokenList } from '../api/types';
import type { Context } from '../context';
import { CliError, EXIT, UsageError, type ExitCode } from '../errors';
import { FILTER_KEYS, parseFilters } from '../filters';
import { note, printJson, printLine, renderFields, renderTable, type Column } from '../output';
import { withOptionalOtp } from '../otp';
import type { Act } from '../program';
import { runBulk, type BulkOptions } from './bulk';
import { fetchPages, type PageOptions } from './pages';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const FILTER_HELP = `select tokens: key=value, repeat to AND (keys: ${FILTER_KEYS.join(', ')})`;

export const TOKEN_COLUMNS: ReadonlyArray<Column<AdminToken>> = [
  { header: 'token', value: (t) => t.tokenId },
  { header: 'status', value: (t) => t.status },
  { header: 'app', value: (t) => t.app?.name },
  { header: 'version', value: (t) => t.app?.version },
  { header: 'install', value: (t) => t.installId },
  { header: 'network', value: (t) => t.sourceNetwork ?? t.sourceIp },
  { header: 'created', value: (t) => t.createdAt },
  { header: 'last seen', value: (t) => t.lastSeenAt },
];

export const AUDIT_COLUMNS: ReadonlyArray<Column<AuditEntry>> = [
  { header: 'at', value: (e) => (typeof e.at === 'number' ? new Date(e.at).toISOString() : e.at) },
  { header: 'action', value: (e) => e.action },
  { header: 'actor', value: (e) => e.actor },
  { header: 'token', value: (e) => e.tokenId },
  { header: 'source', value: (e) => e.sourceIp },
  { header: 'reason', value: (e) => e.reason },
  { header: 'details', value: (e) => e.details },
];

export function registerTokenCommands(program: Command, act: Act): void {
  const tokens = program.command('tokens').description('list, show, pause, resume and revoke tokens');

  tokens
    .command('ls')
    .description('list tokens, newest first')
    .option('--filter <key=value>', FILTER_HELP, collect)
    .option('--limit <n>', 'tokens per page (1–500; default 100)')
    .option('--cursor <cursor>', 'the page after this cursor')
    .option('--all', 'every page')
    .action(act(listTokens));

  tokens
    .command('show')
    .description('one token and the audit history of its chain')
    .argument('<tokenId>')
    .action(act(showToken));

  for (const action of ['pause', 'resume', 'revoke'] as const) {
    const command = tokens
      .command(action)
      .description(
        action === 'resume'
          ? 'resume a paused token (needs a one-time code if an anomaly rule paused it)'
          : `${action} a token, or every token matching --filter (a bulk job, with a one-time code)`,
      )
      .argument(action === 'resume' ? '<tokenId>' : '[tokenId]')
      .option('--reason <text>', 'why (required; kept in the token and the audit trail)')
      .option('--otp <code>', 'the one-time code (prompted for on a terminal when needed)');
    if (action !== 'resume') addBulkOptions(command);
    command.action(act((context, [tokenId], options) => changeTokens(context, action, tokenId, options)));
  }

  // The issue's `revoke --filter … [--dry-run]`: the same command as `tokens revoke`.
  addBulkOptions(
    program
      .command('revoke')
      .description('revoke every token matching --filter (or one token): the same as `tokens revoke`')
      .argument('[tokenId]')
      .option('--reason <text>', 'why (required; kept in the token and the audit trail)')
      .option('--otp <code>', 'the one-time code (prompted for on a terminal)'),
  ).action(act((context, [tokenId], options) => changeTokens(context, 'revoke', tokenId, options)));
}

function addBulkOptions(command: Command): Command {
  return command
    .option('--filter <key=value>', FILTER_HELP, collect)
    .option('--dry-run', 'count the matching tokens and change nothing')
    .option('--job <jobId>', 'continue a bulk job that was interrupted');
}

async function listTokens(context: Context, _args: string[], options: Record<string, unknown>) {
  const filter = parseFilters((options.filter as string[] | undefined) ?? []);
  const client = await context.client();
  const page = await fetchPages(context, options as PageOptions, 'tokens', (cursor, limit) =>
    client.request<TokenList>('GET', 'tokens', { query: { ...filter, limit, cursor } }),
  );
  if (context.json) return printJson(context.io, page);
  if (page.tokens.length === 0) return note(context.io, 'no tokens match');
  printLine(context.io, renderTable(TOKEN_COLUMNS, page.tokens));
}

async function showToken(context: Context, [tokenId]: string[]) {
  const client = await context.client();
  const reply = await client.request<{ token: AdminToken; audit: AuditEntry[] }>(
    'GET',
    `tokens/${encodeURIComponent(tokenId!)}`,
  );
  if (context.json) return printJson(context.io, reply);
  const t = reply.token;
  printLine(
    context.io,
    renderFields([
      ['token', t.tokenId],
      ['status', t.status],
      ['reason', t.reason],
      ['app', t.app ? `${t.app.name} ${t.app.version}` : undefined],
      ['install', t.installId],
      ['platform', t.platform],
      ['source', t.sourceNetwork ? `${t.sourceIp ?? '-'} (${t.sourceNetwork})` : t.sourceIp],
      ['created', t.createdAt],
      ['last seen', t.lastSeenAt],
      ['expires', t.expiresAt],
      ['token prefix', t.tokenPrefix],
      ['chain', t.chainId],
    ]),
  );
  printLine(context.io, `\nhistory of its chain (${reply.audit.length} entries):`);
  printLine(context.io, renderTable(AUDIT_COLUMNS, reply.audit));
}

async function changeTokens(
  context: Context,
  action: 'pause' | 'resume' | 'revoke',
  tokenId: string | undefined,
  options: Record<string, unknown>,
): Promise<ExitCode | void> {
  const bulk = options as BulkOptions;
  const filters = bulk.filter ?? [];
  const ways = [tokenId !== undefined, filters.length > 0, bulk.job !== undefined].filter(Boolean).length;
  if (action !== 'resume' && ways !== 1) {
    throw new UsageError(`${action}: give a tokenId, or --filter key=value (repeatable), or --job <jobId>.`);
  }
  if (bulk.job === undefined && !bulk.reason?.trim()) {
    throw new UsageError('--reason <text> is required: say why (it is kept in the audit trail).');
  }
  if (tokenId === undefined) {
    if (action === 'resume') throw new UsageError('resume: give a tokenId.');
    return runBulk(context, action, bulk);
  }
  if (bulk.dryRun) throw new UsageError('--dry-run is for bulk jobs (--filter).');
  const client = await context.client();
  const path = `tokens/${encodeURIComponent(tokenId)}/${action}`;
  const result = await withOptionalOtp(context, bulk.otp, `${action} ${tokenId}`, (otp) =>
    client.request<AdminResult>('POST', path, { body: { reason: bulk.reason }, otp }),
  );
  const failed = result.outcome === 'not_found' || result.outcome === 'not_applicable';
  if (context.json) printJson(context.io, result);
  else if (failed) note(context.io, `error: ${describeResult(action, result)}`);
  else printLine(context.io, describeResult(action, result));
  if (result.upstreamStillValid && action !== 'resume' && !context.json) {
    note(context.io, 'note: the Logfire write token itself still works until it expires (user-token mode).');
  }
  if (failed) return EXIT.failed;
}

const PAST = { pause: 'paused', resume: 'resumed', revoke: 'revoked' } as const;

/** One line per result: `tok_… paused`, `tok_… is already paused`, `no token tok_…`. */
export function describeResult(action: 'pause' | 'resume' | 'revoke', result: AdminResult): string {
  const followed =
    result.tokenId !== result.requestedTokenId ? ` (the live successor of ${result.requestedTokenId})` : '';
  switch (result.outcome) {
    case 'changed':
      return `${result.tokenId}${followed} ${PAST[action]}; status now ${result.status ?? '-'}`;
    case 'unchanged':
      return `${result.tokenId}${followed} is already ${result.status ?? PAST[action]}; nothing changed`;
    case 'not_found':
      return `no token ${result.requestedTokenId}`;
    case 'not_applicable':
      return `${result.tokenId}${followed} is ${result.status ?? '-'}: it cannot be ${PAST[action]}`;
    default:
      throw new CliError(`unexpected outcome ${String(result.outcome)}`, EXIT.failed);
  }
}
