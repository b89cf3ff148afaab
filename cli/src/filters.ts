/**
 * `--filter key=value` as the admin API's token filter (docs/admin-api.md): repeated flags are AND-ed. Keys
 * are checked here, so a typo is a usage error (exit 2) rather than a filter the broker ignores; values are
 * checked again by the broker.
 */
import { isIP } from 'node:net';
import { TOKEN_STATUSES } from '../../functions/core/model';
import type { TokenFilter } from './api/types';
import { UsageError } from './errors';

/** Command-line key → the API's name. */
const KEYS: Record<string, keyof TokenFilter> = {
  status: 'status',
  app: 'app',
  version: 'version',
  install: 'install',
  network: 'network',
  'created-before': 'createdBefore',
  'created-after': 'createdAfter',
  'seen-before': 'seenBefore',
  'seen-after': 'seenAfter',
};

export const FILTER_KEYS = Object.keys(KEYS);

const TIME_KEYS = new Set<keyof TokenFilter>(['createdBefore', 'createdAfter', 'seenBefore', 'seenAfter']);
const AGO = /^(\d+)([mhdw])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const COMPARATOR = /^(>=|<=|>|<|=)?v?\d+(\.\d+)*(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * Parses every `--filter` value. `version` may repeat (its ranges are joined, as semver AND-s comparators);
 * any other key given twice with different values could match nothing and is refused. Times take ISO 8601
 * or an age such as `30d` (`m`, `h`, `d`, `w`: that long before `now`).
 * @example parseFilters(['app=hello', 'version=<2.0.0', 'seen-before=30d'])
 * // { app: 'hello', version: '<2.0.0', seenBefore: '2026-11-01T…Z' }
 */
export function parseFilters(values: readonly string[], now = Date.now()): TokenFilter {
  const filter: TokenFilter = {};
  for (const text of values) {
    const at = text.indexOf('=');
    const key = at > 0 ? text.slice(0, at).trim() : '';
    const value = at > 0 ? text.slice(at + 1).trim() : '';
    const name = KEYS[key];
    if (!name) {
      throw new UsageError(`--filter "${text}": write key=value with a key among ${FILTER_KEYS.join(', ')}.`);
    }
    if (!value) throw new UsageError(`--filter ${key}: the value is empty.`);
    const checked = checkValue(key, name, value, now);
    const before = filter[name];
    if (before === undefined || before === checked) filter[name] = checked;
    else if (name === 'version') filter.version = `${before} ${checked}`;
    else throw new UsageError(`--filter ${key} is given twice with different values; filters are AND-ed.`);
  }
  return filter;
}

function checkValue(key: string, name: keyof TokenFilter, value: string, now: number): string {
  if (name === 'status') {
    const unknown = value
      .split(',')
      .find((status) => !(TOKEN_STATUSES as readonly string[]).includes(status.trim()));
    if (unknown !== undefined) {
      throw new UsageError(`--filter status: "${unknown}" is none of ${TOKEN_STATUSES.join(', ')}.`);
    }
  }
  if (name === 'version' && !value.split(/\s+/).every((part) => COMPARATOR.test(part))) {
    throw new UsageError(`--filter version: "${value}" is not a range such as <2.0.0 or ">=1.2.0 <1.4.0".`);
  }
  if (name === 'network' && !isCidr(value)) {
    throw new UsageError(`--filter network: "${value}" is not a CIDR such as 203.0.113.0/24.`);
  }
  if (TIME_KEYS.has(name)) return checkedTime(key, value, now);
  return value;
}

export function isCidr(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * ISO 8601 (a date or a date and time), or an age before `now` such as `30d`, as an ISO 8601 timestamp.
 * @example checkedTime('--after', '2d', Date.parse('2026-12-03T00:00:00Z')) // '2026-12-01T00:00:00.000Z'
 */
export function checkedTime(what: string, value: string, now = Date.now()): string {
  const ago = AGO.exec(value);
  if (ago) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS]).toISOString();
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `${what}: "${value}" is neither an ISO 8601 time (2026-12-01T09:00:00Z) nor an age (30d).`,
    );
  }
  return new Date(time).toISOString();
}

/** The filter as the operator wrote it, for messages: `app=hello version=<2.0.0`. */
export function describeFilter(filter: TokenFilter): string {
  const byName = Object.fromEntries(Object.entries(KEYS).map(([key, name]) => [name, key]));
  return Object.entries(filter)
    .map(([name, value]) => `${byName[name] ?? name}=${String(value)}`)
    .join(' ');
}
