/**
 * The anomaly rules' settings (issue #9 point 5; docs/anomalies.md): for each rule a threshold, an action
 * and a dry-run switch, written `<threshold>:<flag|pause|revoke>[:dry-run]` or `off`, and the length of
 * the evaluation window. Pure: functions/config.ts reads them from `BROKER_ANOMALY_*`, infra/settings.ts
 * from the stack setting `anomalies`, with the same parser and the same defaults.
 */

export const ANOMALY_RULES = [
  'mints-per-network',
  'install-networks',
  'refresh-storm',
  'heartbeat-storm',
  'secret-reuse',
  'relay-volume',
] as const;

export type AnomalyRuleName = (typeof ANOMALY_RULES)[number];

/** What a rule does when it fires: `flag` only records it; `pause` and `revoke` go through admin.ts. */
export type AnomalyAction = 'flag' | 'pause' | 'revoke';

export interface AnomalyRuleSetting {
  /** The rule fires when its count is MORE than this (relay-volume: a multiple of the baseline). */
  threshold: number;
  action: AnomalyAction;
  /** Records what the rule would do (`anomaly.detected`) and changes nothing. */
  dryRun: boolean;
}

export interface AnomalySettings {
  /** Length of one evaluation window (UTC-aligned); each audit entry is read in exactly one. */
  windowMs: number;
  /** A rule that is off is absent. */
  rules: Partial<Record<AnomalyRuleName, AnomalyRuleSetting>>;
}

const MINUTE = 60_000;
export const MIN_ANOMALY_WINDOW_MS = MINUTE;
/** The longest window, and how far back a run looks at most (a broker that was down skips the rest). */
export const MAX_ANOMALY_WINDOW_MS = 60 * MINUTE;

/** Per rule: its default and the least threshold that still means something (README says why). */
export const ANOMALY_RULE_DEFAULTS: Record<
  AnomalyRuleName,
  { env: string; fallback: string; minThreshold: number; maxThreshold?: number; counts: string }
> = {
  'mints-per-network': {
    env: 'BROKER_ANOMALY_MINTS_PER_NETWORK',
    fallback: '50:flag',
    minThreshold: 1,
    counts: 'distinct installs minted from one /24 or /48 network in a window',
  },
  'install-networks': {
    env: 'BROKER_ANOMALY_INSTALL_NETWORKS',
    fallback: '3:pause',
    minThreshold: 1,
    counts: 'distinct networks one install minted or refreshed from in a window',
  },
  'refresh-storm': {
    env: 'BROKER_ANOMALY_REFRESH_STORM',
    fallback: '5:flag',
    minThreshold: 0,
    counts: 'refreshes of one token chain in a window',
  },
  'heartbeat-storm': {
    env: 'BROKER_ANOMALY_HEARTBEAT_STORM',
    fallback: '0:flag',
    // The heartbeat records one refusal per token and hour (its one extra write): the quota is the storm's
    // size (BROKER_QUOTA_HEARTBEATS_PER_TOKEN_PER_HOUR), and only 0 means anything here.
    minThreshold: 0,
    maxThreshold: 0,
    counts: 'tokens past their hourly heartbeat quota (one refusal recorded per token and hour)',
  },
  'secret-reuse': {
    env: 'BROKER_ANOMALY_SECRET_REUSE',
    fallback: '0:flag',
    minThreshold: 0,
    counts: 'spent client secrets one install presented again in a window',
  },
  'relay-volume': {
    env: 'BROKER_ANOMALY_RELAY_VOLUME',
    fallback: '10:flag',
    minThreshold: 1,
    counts: "times a token's relay bytes today exceed its recent daily baseline",
  },
};

export const ANOMALY_WINDOW_DEFAULT = '15m';

/** A parsed rule setting (`setting` undefined: the rule is off), or what is wrong with the text. */
export type ParsedAnomalyRule = { setting: AnomalyRuleSetting | undefined } | { problem: string };

/**
 * Parses one rule's setting.
 * @example parseAnomalyRule('secret-reuse', '0:revoke:dry-run') // { setting: { threshold: 0, action: 'revoke', dryRun: true } }
 * @example parseAnomalyRule('install-networks', 'off') // { setting: undefined }
 */
export function parseAnomalyRule(rule: AnomalyRuleName, text: string): ParsedAnomalyRule {
  const value = text.trim().toLowerCase();
  if (value === 'off') return { setting: undefined };
  const match = /^(\d{1,9}):(flag|pause|revoke)(:dry-run)?$/.exec(value);
  if (!match) {
    return {
      problem: `expected <threshold>:<flag|pause|revoke>[:dry-run] or off, like 20:pause, got "${text}"`,
    };
  }
  const threshold = Number(match[1]);
  const { minThreshold, maxThreshold } = ANOMALY_RULE_DEFAULTS[rule];
  if (maxThreshold !== undefined && threshold > maxThreshold) {
    return {
      problem: `the threshold of ${rule} must be ${maxThreshold} (the heartbeat quota sets the storm's size), got ${threshold}`,
    };
  }
  if (threshold < minThreshold) {
    return { problem: `the threshold of ${rule} must be at least ${minThreshold}, got ${threshold}` };
  }
  return { setting: { threshold, action: match[2] as AnomalyAction, dryRun: match[3] !== undefined } };
}

/** The default settings, as `readConfig({})` and the stack give them. */
export function defaultAnomalySettings(): AnomalySettings {
  const rules: AnomalySettings['rules'] = {};
  for (const rule of ANOMALY_RULES) {
    const parsed = parseAnomalyRule(rule, ANOMALY_RULE_DEFAULTS[rule].fallback);
    if ('setting' in parsed && parsed.setting) rules[rule] = parsed.setting;
  }
  return { windowMs: 15 * MINUTE, rules };
}

/**
 * The text form of a rule's setting (the stack writes it into the Lambdas' environment).
 * @example formatAnomalyRule({ threshold: 3, action: 'pause', dryRun: false }) // '3:pause'
 */
export function formatAnomalyRule(setting: AnomalyRuleSetting | undefined): string {
  if (!setting) return 'off';
  return `${setting.threshold}:${setting.action}${setting.dryRun ? ':dry-run' : ''}`;
}
