/**
 * Helpers for the anomaly rule tests: a test broker with only the rules under test switched on, a clock
 * moved past the end of the current window (and its settling time), and the anomaly entries of the audit
 * trail.
 */
import type { AuditEntry } from '../../functions/core/audit';
import { settleMs } from '../../functions/core/anomalies/phase';
import {
  parseAnomalyRule,
  type AnomalyRuleName,
  type AnomalySettings,
} from '../../functions/core/anomalies/settings';
import type { TokenSettings } from '../../functions/core/deps';
import { startTestBroker, type TestBroker } from './broker';

export const MINUTE = 60_000;
export const WINDOW_MS = 15 * MINUTE;

/**
 * Anomaly settings with exactly the given rules on, written as the environment writes them.
 * @example anomalyRules({ 'install-networks': '2:pause' })
 */
export function anomalyRules(
  rules: Partial<Record<AnomalyRuleName, string>>,
  windowMs = WINDOW_MS,
): AnomalySettings {
  const settings: AnomalySettings = { windowMs, rules: {} };
  for (const [rule, text] of Object.entries(rules) as [AnomalyRuleName, string][]) {
    const parsed = parseAnomalyRule(rule, text);
    if ('problem' in parsed) throw new Error(parsed.problem);
    if (parsed.setting) settings.rules[rule] = parsed.setting;
  }
  return settings;
}

/** A test broker (dynalite, fake Logfire, movable clock) running only `rules`. */
export function startAnomalyBroker(
  rules: Partial<Record<AnomalyRuleName, string>>,
  options: {
    settings?: Partial<TokenSettings>;
    mode?: 'api-key' | 'user-token';
    env?: Record<string, string>;
  } = {},
): Promise<TestBroker> {
  return startTestBroker({
    mode: options.mode,
    env: options.env,
    settings: { anomalies: anomalyRules(rules), ...options.settings },
  });
}

/** Moves the clock just past the point where the window holding "now" has ended and settled. */
export function closeWindow(broker: TestBroker): void {
  const windowMs = broker.deps.settings.anomalies.windowMs;
  const end = Math.floor(broker.clock.now() / windowMs) * windowMs + windowMs;
  broker.clock.time = end + settleMs(broker.deps) + 1;
}

/** Moves the clock to the start of the next window, so a test's requests all fall in one window. */
export function startOfNextWindow(broker: TestBroker): void {
  const windowMs = broker.deps.settings.anomalies.windowMs;
  broker.clock.time = Math.floor(broker.clock.now() / windowMs) * windowMs + windowMs + 1;
}

/** Every `anomaly.*` entry of the audit trail, oldest first. */
export async function anomalyEntries(broker: TestBroker): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await broker.audit.byTime({
      from: 0,
      to: broker.clock.now() + 86_400_000,
      limit: 500,
      cursor,
    });
    entries.push(...page.entries.filter((entry) => entry.action.startsWith('anomaly.')));
    cursor = page.cursor;
  } while (cursor);
  return entries.reverse();
}

/** The status of each token, by id. */
export async function statuses(broker: TestBroker, tokenIds: string[]): Promise<Record<string, string>> {
  const records = await Promise.all(tokenIds.map((id) => broker.store.getToken(id)));
  return Object.fromEntries(tokenIds.map((id, i) => [id, records[i]?.status ?? 'missing']));
}
