/**
 * The checks behind infra/settings.ts: a reader that turns `pulumi config` text into typed values or a
 * `SettingsError` naming the key, and format checks for what AWS would otherwise reject halfway through
 * `pulumi up` (schedule expressions, log retention, CIDR ranges, e-mail). No Pulumi import.
 */
import { formatDuration, parseDuration } from '../functions/config';
import {
  ANOMALY_RULES,
  defaultAnomalySettings,
  MAX_ANOMALY_WINDOW_MS,
  MIN_ANOMALY_WINDOW_MS,
  parseAnomalyRule,
  type AnomalyRuleName,
  type AnomalySettings,
} from '../functions/core/anomalies/settings';
import { parseCidr } from '../functions/core/cidr';

export const NAMESPACE = 'logfire-broker';

/** A bad stack setting; the message starts with the full key: `logfire-broker:rateLimit must be ...`. */
export class SettingsError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`${NAMESPACE}:${key} ${detail}`);
    this.name = 'SettingsError';
  }
}

/** What is wrong with a text, in words, or undefined when it is fine. */
export type Check = (text: string) => string | undefined;

/**
 * Reads raw settings (the text `pulumi config get <key>` prints; lists and maps as JSON).
 * @example new SettingsReader({ rateLimit: '5' }).integer('rateLimit', 300, 10, 1e9, 'WAF minimum') // throws
 */
export class SettingsReader {
  constructor(private readonly raw: Partial<Record<string, string>>) {}

  has(key: string): boolean {
    return this.text(key) !== undefined;
  }

  optional(key: string, check: Check): string | undefined {
    const text = this.text(key);
    const problem = text === undefined ? undefined : check(text);
    if (problem) throw new SettingsError(key, `${problem}, got "${text}"`);
    return text;
  }

  required(key: string, pattern: RegExp, what: string, when: string): string {
    const text = this.text(key);
    if (text === undefined)
      throw new SettingsError(key, `is required ${when}: pulumi config set ${key} <value>`);
    if (!pattern.test(text)) throw new SettingsError(key, `must be ${what}, got "${text}"`);
    return text;
  }

  matching(key: string, pattern: RegExp, what: string, fallback: string): string {
    return (
      this.optional(key, (text) => (pattern.test(text) ? undefined : `may only contain ${what}`)) ?? fallback
    );
  }

  choice<T extends string>(key: string, options: readonly T[], fallback: T): T {
    const text = this.text(key) ?? fallback;
    if (!options.includes(text as T))
      throw new SettingsError(key, `must be one of ${options.join(', ')}, got "${text}"`);
    return text as T;
  }

  oneOf<T extends number>(key: string, options: readonly T[], fallback: T, what: string): T {
    const value = this.number(key, fallback, -Infinity, Infinity);
    if (!options.includes(value as T)) {
      throw new SettingsError(key, `must be one of ${options.join(', ')} (${what}), got ${value}`);
    }
    return value as T;
  }

  number(key: string, fallback: number, min: number, max: number, why?: string): number {
    const text = this.text(key);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(value)) {
      throw new SettingsError(key, `must be a number, got "${text}"`);
    }
    const reason = why ? ` (${why})` : '';
    if (value < min) throw new SettingsError(key, `must be at least ${min}${reason}, got ${value}`);
    if (value > max) throw new SettingsError(key, `must be at most ${max}${reason}, got ${value}`);
    return value;
  }

  integer(key: string, fallback: number, min: number, max: number, why?: string): number {
    const value = this.number(key, fallback, min, max, why);
    if (!Number.isInteger(value)) throw new SettingsError(key, `must be a whole number, got ${value}`);
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const text = this.text(key);
    if (text === undefined) return fallback;
    if (text !== 'true' && text !== 'false')
      throw new SettingsError(key, `must be true or false, got "${text}"`);
    return text === 'true';
  }

  /** A duration like `30s`, `6h`, `14d` (functions/config.ts parses the same way). */
  duration(key: string, fallback: string): number {
    const text = this.text(key) ?? fallback;
    const ms = parseDuration(text);
    if (ms === undefined)
      throw new SettingsError(key, `must be a duration like 30s, 6h or 14d, got "${text}"`);
    return ms;
  }

  /** A schedule expression, checked by `check`. */
  expression(key: string, fallback: string, check: Check): string {
    return this.optional(key, check) ?? fallback;
  }

  /** A JSON list of strings (`pulumi config set --path 'key[0]' x`), or one comma-separated string. */
  list(key: string, check: Check): string[] {
    const text = this.text(key);
    if (text === undefined) return [];
    const items = text.startsWith('[') ? this.json(key, text) : text.split(',').map((item) => item.trim());
    if (!Array.isArray(items) || items.some((item) => typeof item !== 'string')) {
      throw new SettingsError(key, `must be a list of strings, got ${text}`);
    }
    for (const item of items as string[]) {
      const problem = check(item);
      if (problem) throw new SettingsError(key, `entry "${item}" ${problem}`);
    }
    return (items as string[]).filter((item) => item !== '');
  }

  /** A JSON object of whole numbers whose keys are among `names`: `{"mint": 20}`. */
  integerMap(key: string, names: readonly string[], min: number, max: number): Record<string, number> {
    const text = this.text(key);
    if (text === undefined) return {};
    const map = this.json(key, text);
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new SettingsError(key, `must be a map like {"mint": 20}, got ${text}`);
    }
    for (const [name, value] of Object.entries(map)) {
      if (!names.includes(name))
        throw new SettingsError(key, `names "${name}", which is not one of ${names.join(', ')}`);
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
        throw new SettingsError(
          key,
          `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
        );
      }
    }
    return map as Record<string, number>;
  }

  private json(key: string, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new SettingsError(key, `is not valid JSON: ${text}`);
    }
  }

  private text(key: string): string | undefined {
    const text = this.raw[key]?.trim();
    return text ? text : undefined;
  }
}

/** The longest a client may stay silent, in heartbeat intervals, before its token may be reclaimed. */
export const MIN_STALE_HEARTBEATS = 2;

/**
 * The lifecycle jobs' settings (issue #4). `staleAfter` must leave a client room to miss a heartbeat (a
 * laptop asleep), or the sweep reclaims tokens that are in use.
 * @example readLifecycleSettings(new SettingsReader({ staleAfter: '6h' }), 6 * 3_600_000) // throws
 */
export function readLifecycleSettings(
  read: SettingsReader,
  heartbeatIntervalMs: number,
): { rotationGraceMs: number; refreshGraceMs: number; staleAfterMs: number; auditRetentionMs: number } {
  const staleAfterMs = read.duration('staleAfter', '30d');
  if (staleAfterMs < MIN_STALE_HEARTBEATS * heartbeatIntervalMs) {
    throw new SettingsError(
      'staleAfter',
      `must be at least ${MIN_STALE_HEARTBEATS} × heartbeatInterval (${formatDuration(MIN_STALE_HEARTBEATS * heartbeatIntervalMs)}), or a client that misses one heartbeat loses its token, got ${formatDuration(staleAfterMs)}`,
    );
  }
  const auditRetentionMs = read.duration('auditRetention', '365d');
  if (auditRetentionMs < 86_400_000) {
    throw new SettingsError('auditRetention', `must be at least 1d, got ${formatDuration(auditRetentionMs)}`);
  }
  return {
    rotationGraceMs: read.duration('rotationGrace', '24h'),
    refreshGraceMs: read.duration('refreshGrace', '30s'),
    staleAfterMs,
    auditRetentionMs,
  };
}

/**
 * `anomalies`, a map like `{"install-networks": "3:revoke", "window": "30m"}`: each rule given replaces its
 * default (`<threshold>:<flag|pause|revoke>[:dry-run]` or `off`), as `BROKER_ANOMALY_*` do.
 * @example readAnomalySettings(new SettingsReader({ anomalies: '{"secret-reuse": "0:pause"}' })).rules['secret-reuse']
 */
export function readAnomalySettings(read: SettingsReader): AnomalySettings {
  const settings = defaultAnomalySettings();
  const text = read.optional('anomalies', () => undefined);
  if (text === undefined) return settings;
  let map: unknown;
  try {
    map = JSON.parse(text);
  } catch {
    throw new SettingsError('anomalies', `is not valid JSON: ${text}`);
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new SettingsError('anomalies', `must be a map like {"install-networks": "3:pause"}, got ${text}`);
  }
  const names: readonly string[] = [...ANOMALY_RULES, 'window'];
  for (const [name, value] of Object.entries(map)) {
    if (!names.includes(name)) {
      throw new SettingsError('anomalies', `names "${name}", which is not one of ${names.join(', ')}`);
    }
    if (typeof value !== 'string') {
      throw new SettingsError(
        'anomalies',
        `${name} must be a string like "20:pause", got ${JSON.stringify(value)}`,
      );
    }
    if (name === 'window') {
      const ms = parseDuration(value);
      if (ms === undefined || ms < MIN_ANOMALY_WINDOW_MS || ms > MAX_ANOMALY_WINDOW_MS) {
        throw new SettingsError('anomalies', `window must be a duration from 1m to 1h, got "${value}"`);
      }
      settings.windowMs = ms;
      continue;
    }
    const parsed = parseAnomalyRule(name as AnomalyRuleName, value);
    if ('problem' in parsed) throw new SettingsError('anomalies', `${name}: ${parsed.problem}`);
    if (parsed.setting) settings.rules[name as AnomalyRuleName] = parsed.setting;
    else delete settings.rules[name as AnomalyRuleName];
  }
  return settings;
}

/** The retention periods CloudWatch Logs accepts (0, "never expire", is left out on purpose). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A CIDR range WAF accepts (infra/cidr.ts parses it the way the WAF component will). */
export const cidrCheck: Check = (text) =>
  parseCidr(text) ? undefined : 'is not an IPv4 or IPv6 CIDR like 203.0.113.0/24 (/0 is not allowed)';

export const emailCheck: Check = (text) =>
  /^[^\s@]+@[^\s@]+\.[^\s@.]+$/.test(text) ? undefined : 'is not an e-mail address';

const RATE_UNITS = ['minute', 'hour', 'day'];

/**
 * What is wrong with an EventBridge Scheduler expression for a recurring schedule, or undefined.
 * @example scheduleCheck('rate(15 minutes)') // undefined
 * @example scheduleCheck('rate(1 hours)') // 'must say rate(1 hour): the unit is singular for 1'
 */
export const scheduleCheck: Check = (text) => {
  const rate = /^rate\((\d+) ([a-z]+)\)$/.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    const singular = unit.replace(/s$/, '');
    if (!RATE_UNITS.includes(singular)) return `has unit "${unit}"; use minutes, hours or days`;
    if (value < 1) return 'needs a rate of at least 1';
    if (value === 1 && unit !== singular) return `must say rate(1 ${singular}): the unit is singular for 1`;
    if (value > 1 && unit === singular)
      return `must say rate(${value} ${singular}s): the unit is plural above 1`;
    return undefined;
  }
  const cron = /^cron\((.+)\)$/.exec(text);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) {
      return `has ${fields.length} cron fields; it needs 6 (minutes hours day-of-month month day-of-week year)`;
    }
    if (fields.some((field) => !/^[0-9A-Za-z*?,/#-]+$/.test(field)))
      return 'has a cron field with invalid characters';
    if ((fields[2] === '?') === (fields[4] === '?'))
      return 'needs exactly one of day-of-month and day-of-week to be ?';
    return undefined;
  }
  return 'is not rate(<n> minutes|hours|days) or cron(<6 fields>)';
};
