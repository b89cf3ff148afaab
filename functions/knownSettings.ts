/**
 * The start-up check for misspelled settings: every `BROKER_*` variable must be one the broker reads, so a
 * typo (`BROKER_TOKEN_TTLL`) stops `npm start` with a message instead of silently leaving the setting at its
 * default. `LOGFIRE_*` variables are not checked: Logfire's own SDK reads many that the broker does not.
 */
import { ConfigError, type Env } from './config';

/**
 * Every `BROKER_*` variable read by functions/config.ts (knownSettings.test.ts fails when one is missing,
 * and when one is not in the README's Configuration table).
 */
export const KNOWN_SETTINGS: readonly string[] = [
  'BROKER_TOKEN_TTL',
  'BROKER_ROTATE_AFTER',
  'BROKER_HEARTBEAT_INTERVAL',
  'BROKER_IDEMPOTENCY_WINDOW',
  'BROKER_ROTATION_GRACE',
  'BROKER_REFRESH_GRACE',
  'BROKER_STALE_AFTER',
  'BROKER_AUDIT_RETENTION',
  'BROKER_UPSTREAM',
  'BROKER_UPSTREAM_SECRET_ID',
  'BROKER_UPSTREAM_TIMEOUT',
  'BROKER_UPSTREAM_RETRIES',
  'BROKER_FUNCTION_TIMEOUT',
  'BROKER_QUOTA_MINTS_PER_INSTALL_PER_DAY',
  'BROKER_QUOTA_MINTS_PER_IP_PER_HOUR',
  'BROKER_QUOTA_MINTS_PER_NETWORK_PER_HOUR',
  'BROKER_QUOTA_MINTS_PER_DAY',
  'BROKER_QUOTA_HEARTBEATS_PER_TOKEN_PER_HOUR',
  'BROKER_QUOTA_REFRESHES_PER_TOKEN_PER_HOUR',
  'BROKER_MINT_ALLOW_CIDRS',
  'BROKER_BIND_TOKENS_TO_NETWORK',
  'BROKER_TRUSTED_PROXIES',
  'BROKER_ANOMALY_WINDOW',
  'BROKER_ANOMALY_MINTS_PER_NETWORK',
  'BROKER_ANOMALY_INSTALL_NETWORKS',
  'BROKER_ANOMALY_REFRESH_STORM',
  'BROKER_ANOMALY_HEARTBEAT_STORM',
  'BROKER_ANOMALY_SECRET_REUSE',
  'BROKER_ANOMALY_RELAY_VOLUME',
  'BROKER_TABLE_NAME',
  'BROKER_AUDIT_TABLE_NAME',
  'BROKER_DYNAMODB_ENDPOINT',
  'BROKER_LOG_LEVEL',
  'BROKER_INGEST_MODE',
  'BROKER_RELAY_REQUESTS_PER_MINUTE',
  'BROKER_RELAY_BYTES_PER_DAY',
  'BROKER_RELAY_STAMP_IDENTITY',
  'BROKER_PUBLIC_URL',
  'BROKER_SCHEDULE_INTERVAL',
  'BROKER_PORT',
  'BROKER_HOST',
  'BROKER_DATA_DIR',
  'BROKER_DEV_INGEST_PORT',
  'BROKER_ADMIN_TOTP_SECRET_ID',
  'BROKER_ADMIN_ACCESS_KEY_ID',
  'BROKER_ADMIN_SECRET_ACCESS_KEY',
  'BROKER_ADMIN_TOTP_SECRET',
];

/**
 * Throws `ConfigError` naming each `BROKER_*` variable of `env` that is not a setting, with the known
 * setting closest to it.
 * @example checkKnownSettings({ BROKER_TOKEN_TTLL: '1d' })
 * // ConfigError: BROKER_TOKEN_TTLL: is not a setting of the broker (did you mean BROKER_TOKEN_TTL?)
 */
export function checkKnownSettings(env: Env): void {
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith('BROKER_') && !KNOWN_SETTINGS.includes(name))
    .sort();
  if (!unknown.length) return;
  const [first, ...others] = unknown.map((name) => ({ name, closest: closestSetting(name) }));
  const more = others.map(({ name, closest }) => `; nor is ${name} (did you mean ${closest}?)`).join('');
  throw new ConfigError(
    first!.name,
    `is not a setting of the broker (did you mean ${first!.closest}?)${more}. ` +
      'The README lists every setting under Configuration.',
  );
}

/** The known setting with the fewest single-character edits from `name`. */
export function closestSetting(name: string): string {
  let best = KNOWN_SETTINGS[0]!;
  let bestDistance = Infinity;
  for (const known of KNOWN_SETTINGS) {
    const distance = editDistance(name, known);
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
