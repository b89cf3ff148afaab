import { ConfigError, readConfig } from '../../config';
import { KNOWN_SETTINGS } from '../../knownSettings';
import {
  ANOMALY_RULE_DEFAULTS,
  ANOMALY_RULES,
  defaultAnomalySettings,
  formatAnomalyRule,
  parseAnomalyRule,
} from './settings';

describe('Function: parseAnomalyRule', () => {
  it('reads a threshold, an action and the dry-run switch, or off', () => {
    expect(parseAnomalyRule('install-networks', '3:pause')).toEqual({
      setting: { threshold: 3, action: 'pause', dryRun: false },
    });
    expect(parseAnomalyRule('secret-reuse', ' 0:REVOKE:dry-run ')).toEqual({
      setting: { threshold: 0, action: 'revoke', dryRun: true },
    });
    expect(parseAnomalyRule('relay-volume', 'off')).toEqual({ setting: undefined });
  });

  it.each([
    ['pause', /expected <threshold>:<flag\|pause\|revoke>\[:dry-run\] or off/],
    ['3:delete', /expected/],
    ['3:pause:dry', /expected/],
    ['-1:flag', /expected/],
  ])('refuses "%s", saying what it expects', (text, message) => {
    expect(parseAnomalyRule('refresh-storm', text)).toEqual({ problem: expect.stringMatching(message) });
  });

  it('refuses a threshold that would fire on every install, or a heartbeat-storm threshold above 0', () => {
    expect(parseAnomalyRule('install-networks', '0:pause')).toEqual({
      problem: 'the threshold of install-networks must be at least 1, got 0',
    });
    expect(parseAnomalyRule('heartbeat-storm', '2:pause')).toEqual({
      problem: expect.stringMatching(/must be 0 \(the heartbeat quota sets the storm's size\)/),
    });
  });

  it('writes back what it reads', () => {
    for (const text of ['3:pause', '0:revoke:dry-run', 'off']) {
      const parsed = parseAnomalyRule('secret-reuse', text);
      expect('setting' in parsed && formatAnomalyRule(parsed.setting)).toBe(text);
    }
  });
});

describe('BROKER_ANOMALY_* (readConfig)', () => {
  it('has the documented defaults: flag, except a copied install, which is paused', () => {
    expect(readConfig({}).anomalies).toEqual({
      windowMs: 15 * 60_000,
      rules: {
        'mints-per-network': { threshold: 50, action: 'flag', dryRun: false },
        'install-networks': { threshold: 3, action: 'pause', dryRun: false },
        'refresh-storm': { threshold: 5, action: 'flag', dryRun: false },
        'heartbeat-storm': { threshold: 0, action: 'flag', dryRun: false },
        'secret-reuse': { threshold: 0, action: 'flag', dryRun: false },
        'relay-volume': { threshold: 10, action: 'flag', dryRun: false },
      },
    });
    expect(readConfig({}).anomalies).toEqual(defaultAnomalySettings());
  });

  it('reads each rule and the window, and turns a rule off', () => {
    const { anomalies } = readConfig({
      BROKER_ANOMALY_WINDOW: '30m',
      BROKER_ANOMALY_INSTALL_NETWORKS: '5:revoke:dry-run',
      BROKER_ANOMALY_RELAY_VOLUME: 'off',
    });
    expect(anomalies.windowMs).toBe(30 * 60_000);
    expect(anomalies.rules['install-networks']).toEqual({ threshold: 5, action: 'revoke', dryRun: true });
    expect(anomalies.rules).not.toHaveProperty('relay-volume');
  });

  it.each([
    [{ BROKER_ANOMALY_SECRET_REUSE: 'revoke' }, /^BROKER_ANOMALY_SECRET_REUSE: expected <threshold>/],
    [{ BROKER_ANOMALY_WINDOW: '2h' }, /^BROKER_ANOMALY_WINDOW: must be at most 1h, got "2h"/],
    [{ BROKER_ANOMALY_WINDOW: '30s' }, /^BROKER_ANOMALY_WINDOW: must be at least 1m/],
  ])('stops at start on %j, naming the variable', (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });

  it('knows every rule variable (a misspelling stops npm start)', () => {
    for (const rule of ANOMALY_RULES) expect(KNOWN_SETTINGS).toContain(ANOMALY_RULE_DEFAULTS[rule].env);
    expect(KNOWN_SETTINGS).toContain('BROKER_ANOMALY_WINDOW');
  });
});
