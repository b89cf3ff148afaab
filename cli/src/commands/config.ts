/**
 * `quotas get|set`, `allowlist get|set`, `settings get|set`: the broker's run-time overrides. Every change
 * needs the one-time code.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Allowlist, Quotas, SettingsRule } from '../api/types';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { isCidr } from '../filters';
import { note, printJson, printLine, renderTable } from '../output';
import { otpCode } from '../otp';
import type { Act } from '../program';

export function registerConfigCommands(program: Command, act: Act): void {
  const quotas = program.command('quotas').description('read and change the quota limits');
  quotas.command('get').description('defaults, overrides and the limits in force').action(act(getQuotas));
  quotas
    .command('set')
    .description('override quotas: name=<number> (0: no limit), or name=default to drop an override')
    .argument('<name=value...>')
    .option('--otp <code>', 'the one-time code (prompted for on a terminal)')
    .action(act(setQuotas));

  const allowlist = program.command('allowlist').description('read and change who may mint (CIDRs)');
  allowlist
    .command('get')
    .description('the mint allowlist in force and where it comes from')
    .action(act(getAllowlist));
  allowlist
    .command('set')
    .description('replace the mint allowlist with these CIDRs, or go back to the configured one (--default)')
    .argument('[cidr...]')
    .option('--default', "drop the override: the configuration's allowlist applies again")
    .option('--otp <code>', 'the one-time code (prompted for on a terminal)')
    .action(act(setAllowlist));

  const settings = program.command('settings').description('read and change the remote client settings');
  settings.command('get').description('the rules, most specific first').action(act(getSettings));
  settings
    .command('set')
    .description('replace every rule with those in a JSON file ({"rules":[…]} or […]; - reads stdin)')
    .requiredOption('--file <path>', 'the rules as JSON')
    .option('--otp <code>', 'the one-time code (prompted for on a terminal)')
    .action(act(setSettings));
}

async function getQuotas(context: Context) {
  const reply = await (await context.client()).request<Quotas>('GET', 'quotas');
  printQuotas(context, reply);
}

/**
 * `name=value` pairs as the PUT body: a whole number, or `default` (null: the override is dropped).
 * @example parseQuotaChanges(['mintsPerIpPerHour=20', 'mintsPerDay=default']) // { mintsPerIpPerHour: 20, mintsPerDay: null }
 */
export function parseQuotaChanges(pairs: readonly string[]): Record<string, number | null> {
  const changes: Record<string, number | null> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z][A-Za-z0-9]*)=(\d+|default)$/.exec(pair.trim());
    if (!match) {
      throw new UsageError(
        `"${pair}": write name=<whole number> or name=default (e.g. mintsPerIpPerHour=20).`,
      );
    }
    if (match[1]! in changes) throw new UsageError(`${match[1]} is given twice.`);
    changes[match[1]!] = match[2] === 'default' ? null : Number(match[2]);
  }
  return changes;
}

async function setQuotas(context: Context, pairs: string[], options: Record<string, unknown>) {
  const changes = parseQuotaChanges(pairs);
  const client = await context.client();
  const otp = await otpCode(context, options.otp as string | undefined, 'change quotas');
  printQuotas(context, await client.request<Quotas>('PUT', 'quotas', { body: changes, otp }));
}

function printQuotas(context: Context, quotas: Quotas): void {
  if (context.json) return printJson(context.io, quotas);
  const names = [...new Set([...Object.keys(quotas.defaults), ...Object.keys(quotas.effective)])].sort();
  printLine(
    context.io,
    renderTable(
      [
        { header: 'quota', value: (name: string) => name },
        { header: 'default', value: (name) => quotas.defaults[name], align: 'right' },
        { header: 'override', value: (name) => quotas.overrides[name], align: 'right' },
        { header: 'in force', value: (name) => quotas.effective[name], align: 'right' },
      ],
      names,
    ),
  );
  note(context.io, '0 means no limit');
}

async function getAllowlist(context: Context) {
  printAllowlist(context, await (await context.client()).request<Allowlist>('GET', 'allowlist'));
}

async function setAllowlist(context: Context, cidrs: string[], options: Record<string, unknown>) {
  if (options.default && cidrs.length > 0) throw new UsageError('Give CIDRs or --default, not both.');
  if (!options.default && cidrs.length === 0) {
    throw new UsageError('Give the CIDRs that may mint (0.0.0.0/0 ::/0 for everyone), or --default.');
  }
  const bad = cidrs.find((cidr) => !isCidr(cidr));
  if (bad !== undefined) throw new UsageError(`"${bad}" is not a CIDR such as 203.0.113.0/24.`);
  const client = await context.client();
  const otp = await otpCode(context, options.otp as string | undefined, 'change the mint allowlist');
  const body = { mintAllowCidrs: options.default ? null : cidrs };
  printAllowlist(context, await client.request<Allowlist>('PUT', 'allowlist', { body, otp }));
}

function printAllowlist(context: Context, allowlist: Allowlist): void {
  if (context.json) return printJson(context.io, allowlist);
  const from = allowlist.source === 'override' ? 'set at run time' : 'from the configuration';
  if (allowlist.mintAllowCidrs.length === 0) {
    printLine(context.io, `every address may mint (no allowlist, ${from})`);
  } else {
    printLine(
      context.io,
      [`may mint (${from}):`, ...allowlist.mintAllowCidrs.map((c) => `  ${c}`)].join('\n'),
    );
  }
}

async function getSettings(context: Context) {
  printRules(context, await (await context.client()).request<{ rules: SettingsRule[] }>('GET', 'settings'));
}

async function setSettings(context: Context, _args: string[], options: Record<string, unknown>) {
  const rules = readRules(options.file as string, context);
  const client = await context.client();
  const otp = await otpCode(
    context,
    options.otp as string | undefined,
    `replace the client settings (${rules.length} rules)`,
  );
  printRules(
    context,
    await client.request<{ rules: SettingsRule[] }>('PUT', 'settings', { body: { rules }, otp }),
  );
}

/** The rules from a JSON file (or stdin for `-`): `{"rules":[…]}` or the array itself. */
function readRules(path: string, context: Context): SettingsRule[] {
  if (path === '-' && context.io.stdin.isTTY) throw new UsageError('--file -: pipe the JSON into stdin.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path === '-' ? 0 : path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--file ${path}: ${(error as Error).message}`);
  }
  const rules = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw new UsageError(`--file ${path}: give {"rules":[…]} or an array of rules.`);
  return rules as SettingsRule[];
}

function printRules(context: Context, reply: { rules: SettingsRule[] }): void {
  if (context.json) return printJson(context.io, reply);
  if (reply.rules.length === 0) return printLine(context.io, 'no rules: every client sends everything');
  printLine(
    context.io,
    renderTable(
      [
        { header: 'app', value: (r: SettingsRule) => r.app },
        { header: 'versions', value: (r) => r.versions ?? 'any' },
        { header: 'telemetry', value: (r) => r.telemetry ?? 'on' },
        { header: 'sample rate', value: (r) => r.sampleRate, align: 'right' },
        { header: 'min client', value: (r) => r.minClientVersion },
      ],
      reply.rules,
    ),
  );
}
