/**
 * Remote client settings (issue #10, point 4; docs/admin-api.md): per app and app-version range, the
 * operator turns telemetry off (a kill switch), sets a trace sample rate, or sets the lowest client-library
 * version allowed to send. Mint, refresh and heartbeat replies carry what applies to the caller.
 *
 * Precedence, for each setting on its own: a rule for the app with a version range that holds, then a rule
 * for the app without a range, then a `*` rule with a range, then a `*` rule without one; among rules of the
 * same kind, the one listed first. So `{app:'*', telemetry:'off'}` silences every app that no rule of its own
 * turns back on, while `{app:'mycli', sampleRate:0.1}` leaves that kill switch in force.
 *
 * The rules are one item of the tokens table, read at most every 30 s per process (like the quota
 * overrides), and the read runs beside the request's own write: mint and heartbeat make no extra DynamoDB
 * request per call, and a change reaches every process within 30 s.
 */
import * as z from 'zod/mini';
import type { AdminContext } from './admin';
import type { ClientSettings, ClientSettingsRule, IssuedToken } from './contract';
import type { BrokerDeps } from './deps';
import { InvalidRequest } from './errors';
import { operatorSettingsCache } from './operatorSettingsCache';
import { appendAudit } from './jobs';
import type { TokenStore } from './ports';
import { versionRange } from './tokenFilter';
import { PACKAGE_NAME, PACKAGE_VERSION, parse, text } from './validation';

/** How long a process keeps the rules it read; the staleness bound of a change (docs/admin-api.md). */
export const CLIENT_SETTINGS_TTL_MS = 30_000;
export const MAX_CLIENT_SETTINGS_RULES = 100;

/** With no rule, or a rule that says nothing about a setting. */
export const DEFAULT_CLIENT_SETTINGS: ClientSettings = { telemetry: 'on', sampleRate: 1 };

/** Who asks: the token's app and version, and the client library that minted it (absent from old clients). */
export interface SettingsCaller {
  appName: string;
  appVersion: string;
  clientVersion?: string;
}

/** A version-range check as a zod refinement: the 400 names the field, as every other refusal does. */
function semver(what: 'range' | 'version') {
  return z.superRefine((value: string, context) => {
    try {
      versionRange(what === 'range' ? value : `>=${value}`);
    } catch (error) {
      if (!(error instanceof InvalidRequest)) throw error;
      const message = error.message.replace(/^appVersion: /, '');
      context.issues.push({ code: 'custom', input: value, message });
    }
  });
}

const ruleSchema = z
  .strictObject({
    app: text(1, 100, {
      pattern: new RegExp(`^(\\*|${PACKAGE_NAME.pattern.source.slice(1, -1)})$`),
      chars: `${PACKAGE_NAME.chars}, or * for every app`,
    }),
    versions: z.optional(text(1, 200).check(semver('range'))),
    telemetry: z.optional(z.enum(['on', 'off'])),
    sampleRate: z.optional(
      z.number().check(z.gte(0, 'must be from 0 to 1'), z.lte(1, 'must be from 0 to 1')),
    ),
    minClientVersion: z.optional(text(1, 64, PACKAGE_VERSION).check(semver('version'))),
  })
  .check(
    z.refine(
      (rule) =>
        rule.telemetry !== undefined || rule.sampleRate !== undefined || rule.minClientVersion !== undefined,
      'sets nothing: give telemetry, sampleRate or minClientVersion',
    ),
  );

const rulesSchema = z.strictObject({
  rules: z.array(ruleSchema).check(
    z.maxLength(MAX_CLIENT_SETTINGS_RULES, `must have at most ${MAX_CLIENT_SETTINGS_RULES} rules`),
    z.superRefine((rules, context) => {
      const seen = new Map<string, number>();
      rules.forEach((rule, i) => {
        const scope = `${rule.app}\n${(rule.versions ?? '').trim().split(/\s+/).join(' ')}`;
        const first = seen.get(scope);
        if (first === undefined) return void seen.set(scope, i);
        context.issues.push({
          code: 'custom',
          input: rule,
          path: [i],
          message: `has the same app and versions as rules.${first}: merge them into one rule`,
        });
      });
    }),
  ),
});

/**
 * Checks a `PUT /v1/admin/settings` body, `{rules:[rule]}`; a 400 names the rule and field.
 * @example parseClientSettingsRules({ rules: [{ app: 'mycli', versions: '<2.0.0', telemetry: 'off' }] })
 */
export function parseClientSettingsRules(body: unknown): ClientSettingsRule[] {
  return parse(rulesSchema, body).rules as ClientSettingsRule[];
}

interface CompiledRule {
  rule: ClientSettingsRule;
  /** 0 (app and range) to 3 (`*` alone): lower wins. */
  rank: number;
  applies: (caller: SettingsCaller) => boolean;
  /** `minClientVersion` as a check, compiled with the rule rather than on every reply. */
  clientCurrent?: (clientVersion: string) => boolean;
}

function compile(rules: readonly ClientSettingsRule[]): CompiledRule[] {
  const compiled = rules.map((rule) => {
    const inRange = rule.versions === undefined ? () => true : versionRange(rule.versions);
    const forApp = (caller: SettingsCaller) => rule.app === '*' || rule.app === caller.appName;
    return {
      rule,
      rank: (rule.app === '*' ? 2 : 0) + (rule.versions === undefined ? 1 : 0),
      applies: (caller: SettingsCaller) => forApp(caller) && inRange(caller.appVersion),
      clientCurrent:
        rule.minClientVersion === undefined ? undefined : versionRange(`>=${rule.minClientVersion}`),
    };
  });
  // Array.prototype.sort is stable: among rules of one rank, the one listed first stays first.
  return compiled.sort((a, b) => a.rank - b.rank);
}

/**
 * The settings `rules` give the caller (see the module comment for the precedence). A kill switch wins over
 * an outdated client; a client that sent no version counts as older than any `minClientVersion`.
 * @example settingsFor([{ app: 'mycli', sampleRate: 0.25 }], { appName: 'mycli', appVersion: '1.0.0' }) // { telemetry: 'on', sampleRate: 0.25 }
 */
export function settingsFor(rules: readonly ClientSettingsRule[], caller: SettingsCaller): ClientSettings {
  return resolve(compile(rules), caller);
}

function resolve(compiled: readonly CompiledRule[], caller: SettingsCaller): ClientSettings {
  const matching = compiled.filter((entry) => entry.applies(caller));
  const telemetry = matching.find(({ rule }) => rule.telemetry !== undefined)?.rule.telemetry ?? 'on';
  const sampleRate = matching.find(({ rule }) => rule.sampleRate !== undefined)?.rule.sampleRate ?? 1;
  const minimum = matching.find(({ clientCurrent }) => clientCurrent !== undefined);
  if (telemetry === 'off') return { telemetry: 'off', sampleRate: 0, reason: 'kill_switch' };
  if (minimum) {
    const current = caller.clientVersion !== undefined && minimum.clientCurrent!(caller.clientVersion);
    if (!current) {
      const { minClientVersion } = minimum.rule;
      return { telemetry: 'off', sampleRate: 0, reason: 'client_outdated', minClientVersion };
    }
  }
  return { telemetry: 'on', sampleRate };
}

const rulesCache = operatorSettingsCache<CompiledRule[]>(
  CLIENT_SETTINGS_TTL_MS,
  async (deps) => compile(parseClientSettingsRules({ rules: await deps.store.getClientSettingsRules() })),
  () => [],
  'remote client settings',
);

/**
 * The settings a mint, refresh or heartbeat reply carries, as a lookup by caller over the cached rules
 * (see above). Start it beside the request's own DynamoDB work, so a read of the rules adds no wait.
 * @example const lookup = clientSettingsLookup(deps); … reply.settings = (await lookup)(record);
 */
export async function clientSettingsLookup(
  deps: BrokerDeps,
): Promise<(caller: SettingsCaller) => ClientSettings> {
  const rules = await rulesCache.get(deps);
  return (caller) => resolve(rules, caller);
}

/**
 * An issued token's reply with the settings that apply to `caller` now. Start `lookup` before the work that
 * makes `reply`, so the read of the rules runs beside it (a replayed reply gets the settings of now too).
 * @example return withClientSettings(clientSettingsLookup(deps), record, issueSuccessor(...));
 */
export async function withClientSettings(
  lookup: ReturnType<typeof clientSettingsLookup>,
  caller: SettingsCaller,
  reply: IssuedToken | Promise<IssuedToken>,
): Promise<IssuedToken> {
  const [issued, settingsOf] = await Promise.all([reply, lookup]);
  return { ...issued, settings: settingsOf(caller) };
}

/** Drops this process's cached rules (after a change here, and in tests). */
export function forgetClientSettings(store: TokenStore): void {
  rulesCache.forget(store);
}

/**
 * The stored rules, read now (for `GET /v1/admin/settings`), most specific first.
 * @example const { rules } = await readClientSettings(deps);
 */
export async function readClientSettings(deps: BrokerDeps): Promise<{ rules: ClientSettingsRule[] }> {
  const stored = parseClientSettingsRules({ rules: await deps.store.getClientSettingsRules() });
  return { rules: compile(stored).map((entry) => entry.rule) };
}

/**
 * Replaces every rule (for `PUT /v1/admin/settings`, after its OTP check): checks `body` (a 400 stores
 * nothing), stores the rules most specific first, and appends a `admin.settings_changed` audit entry with the
 * rules before and after. This process uses the new rules at once; others within 30 s.
 * @example await replaceClientSettings(deps, { rules: [{ app: '*', telemetry: 'off' }] }, { actor: 'admin:arn:…', reason: 'incident 42' });
 */
export async function replaceClientSettings(
  deps: BrokerDeps,
  body: unknown,
  context: Pick<AdminContext, 'actor' | 'sourceIp'> & { reason?: string },
): Promise<{ rules: ClientSettingsRule[] }> {
  const rules = compile(parseClientSettingsRules(body)).map((entry) => entry.rule);
  const now = deps.clock.now();
  const before = await deps.store.putClientSettingsRules(rules, now, context.actor);
  forgetClientSettings(deps.store);
  deps.log.info('remote client settings changed', { actor: context.actor, rules: rules.length });
  await appendAudit(deps, [
    {
      at: now,
      action: 'admin.settings_changed',
      actor: context.actor,
      sourceIp: context.sourceIp,
      reason: context.reason,
      details: { rules: JSON.stringify(rules), previousRules: JSON.stringify(before) },
    },
  ]);
  return { rules };
}
