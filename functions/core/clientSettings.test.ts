import fc from 'fast-check';
import type { ClientSettingsRule } from './contract';
import { InvalidRequest } from './errors';
import {
  MAX_CLIENT_SETTINGS_RULES,
  parseClientSettingsRules,
  readClientSettings,
  replaceClientSettings,
  settingsFor,
} from './clientSettings';
import { startTestBroker, type TestBroker } from '../../test/support/broker';

const ADMIN = { actor: 'admin:arn:aws:iam::123456789012:user/ops', reason: 'incident 42' } as const;
const caller = (appVersion: string, appName = 'mycli', clientVersion: string | undefined = '0.1.0') => ({
  appName,
  appVersion,
  clientVersion,
});

describe('Function: settingsFor', () => {
  it('gives telemetry on at the full rate when no rule applies', () => {
    expect(settingsFor([], caller('1.0.0'))).toEqual({ telemetry: 'on', sampleRate: 1 });
    expect(settingsFor([{ app: 'other', telemetry: 'off' }], caller('1.0.0'))).toEqual({
      telemetry: 'on',
      sampleRate: 1,
    });
  });

  it('turns telemetry off for the versions in range only, with the kill-switch reason', () => {
    const rules: ClientSettingsRule[] = [{ app: 'mycli', versions: '<2.0.0', telemetry: 'off' }];
    expect(settingsFor(rules, caller('1.9.3'))).toEqual({
      telemetry: 'off',
      sampleRate: 0,
      reason: 'kill_switch',
    });
    expect(settingsFor(rules, caller('2.0.0'))).toEqual({ telemetry: 'on', sampleRate: 1 });
  });

  it('lets the most specific rule decide each setting, whatever the order they are listed in', () => {
    const rules: ClientSettingsRule[] = [
      { app: '*', telemetry: 'off', sampleRate: 0.5 },
      { app: 'mycli', sampleRate: 0.25 },
      { app: 'mycli', versions: '>=1.2.0 <1.4.0', sampleRate: 0.1 },
      { app: 'quiet', telemetry: 'on' },
    ];
    // mycli: the app's own rules set no telemetry, so the `*` kill switch holds.
    expect(settingsFor(rules, caller('1.3.0')).reason).toBe('kill_switch');
    // quiet: its own rule turns telemetry back on; the rate comes from `*`.
    expect(settingsFor(rules, caller('9.0.0', 'quiet'))).toEqual({ telemetry: 'on', sampleRate: 0.5 });
    const sampled = rules.filter((rule) => rule.app !== '*');
    expect(settingsFor(sampled, caller('1.3.0')).sampleRate).toBe(0.1);
    expect(settingsFor([...sampled].reverse(), caller('1.3.0')).sampleRate).toBe(0.1);
    expect(settingsFor(sampled, caller('1.4.0')).sampleRate).toBe(0.25);
  });

  it('among rules of the same kind, takes the one listed first', () => {
    const rules: ClientSettingsRule[] = [
      { app: 'mycli', versions: '>=1.0.0', sampleRate: 0.3 },
      { app: 'mycli', versions: '<2.0.0', sampleRate: 0.7 },
    ];
    expect(settingsFor(rules, caller('1.5.0')).sampleRate).toBe(0.3);
  });

  it('stops a client library older than minClientVersion, or one that never said its version', () => {
    const rules: ClientSettingsRule[] = [{ app: 'mycli', minClientVersion: '0.3.0' }];
    const outdated = {
      telemetry: 'off',
      sampleRate: 0,
      reason: 'client_outdated',
      minClientVersion: '0.3.0',
    };
    expect(settingsFor(rules, caller('1.0.0', 'mycli', '0.2.9'))).toEqual(outdated);
    expect(settingsFor(rules, caller('1.0.0', 'mycli', undefined))).toEqual(outdated);
    expect(settingsFor(rules, caller('1.0.0', 'mycli', '0.3.0'))).toEqual({ telemetry: 'on', sampleRate: 1 });
    // The kill switch is the reason given when both apply.
    const both = [...rules, { app: '*', telemetry: 'off' as const }];
    expect(settingsFor(both, caller('1.0.0', 'mycli', '0.1.0')).reason).toBe('kill_switch');
  });
});

describe('Function: parseClientSettingsRules', () => {
  it.each([
    [
      'an unknown field',
      { rules: [{ app: 'a', telemetry: 'off', colour: 'red' }] },
      'rules.0: unknown field',
    ],
    ['a rule that sets nothing', { rules: [{ app: 'a' }] }, 'rules.0: sets nothing'],
    ['a rate above 1', { rules: [{ app: 'a', sampleRate: 1.5 }] }, 'rules.0.sampleRate: must be from 0 to 1'],
    ['a bad range', { rules: [{ app: 'a', versions: '>=one', telemetry: 'off' }] }, 'rules.0.versions'],
    ['a bad version', { rules: [{ app: 'a', minClientVersion: '>=1' }] }, 'rules.0.minClientVersion'],
    ['a telemetry word', { rules: [{ app: 'a', telemetry: 'no' }] }, 'rules.0.telemetry'],
    ['a bidi override', { rules: [{ app: 'a\u202e', telemetry: 'off' }] }, 'rules.0.app: must not contain'],
    [
      'two rules for one scope',
      {
        rules: [
          { app: 'a', telemetry: 'off' },
          { app: 'a', sampleRate: 0.1 },
        ],
      },
      'rules.1: has the same app and versions as rules.0',
    ],
    ['no list', { rules: 'all' }, 'rules: expected array'],
  ])('refuses %s, naming the field', (_what, body, message) => {
    expect(() => parseClientSettingsRules(body)).toThrow(InvalidRequest);
    expect(() => parseClientSettingsRules(body)).toThrow(message);
  });

  it(`refuses more than ${MAX_CLIENT_SETTINGS_RULES} rules`, () => {
    const rules = Array.from({ length: MAX_CLIENT_SETTINGS_RULES + 1 }, (_, i) => ({
      app: `app-${i}`,
      telemetry: 'off',
    }));
    expect(() => parseClientSettingsRules({ rules })).toThrow('at most 100 rules');
  });
});

describe('Function: replaceClientSettings', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker.close());

  it('stores the rules most specific first, and audits who changed them from what to what', async () => {
    // Act
    const { rules } = await replaceClientSettings(
      broker.deps,
      {
        rules: [
          { app: '*', telemetry: 'off' },
          { app: 'mycli', versions: '<2', sampleRate: 0.5 },
        ],
      },
      { ...ADMIN, sourceIp: '198.51.100.9' },
    );
    // Assess
    expect(rules.map((rule) => rule.app)).toEqual(['mycli', '*']);
    expect(await readClientSettings(broker.deps)).toEqual({ rules });
    const { entries } = await broker.audit.byTime({ from: 0, to: broker.clock.now() });
    expect(entries.filter((entry) => entry.action === 'admin.settings_changed').at(0)).toEqual({
      at: broker.clock.now(),
      action: 'admin.settings_changed',
      actor: ADMIN.actor,
      sourceIp: '198.51.100.9',
      reason: ADMIN.reason,
      details: { rules: JSON.stringify(rules), previousRules: '[]' },
    });
  });

  it('refuses any invalid body with a 400 and stores nothing, audits nothing (fuzzed)', async () => {
    // Prepare
    const stored = { rules: [{ app: 'kept', telemetry: 'off' as const }] };
    await replaceClientSettings(broker.deps, stored, ADMIN);
    const auditCount = async () =>
      (await broker.audit.byTime({ from: 0, to: broker.clock.now() + 1, limit: 1000 })).entries.length;
    const before = await auditCount();
    const anyRule = fc.record(
      {
        app: fc.oneof(fc.constantFrom('mycli', '*', '', ' ', 'a b', '@scope/x'), fc.string()),
        versions: fc.oneof(fc.constantFrom('<2.0.0', '>=1 <1.4', '', '~1', '1.x'), fc.string()),
        telemetry: fc.oneof(fc.constantFrom('on', 'off'), fc.anything()),
        sampleRate: fc.oneof(fc.double(), fc.constantFrom(0, 1, -0.01, 1.01), fc.anything()),
        minClientVersion: fc.oneof(fc.constantFrom('0.3.0', '', 'v1', '1 <2'), fc.string()),
        extra: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const anyBody = fc.oneof(
      fc.record({ rules: fc.array(anyRule, { maxLength: 4 }) }),
      fc.record({ rules: fc.anything() }),
      fc.anything(),
    );
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        let valid = true;
        try {
          parseClientSettingsRules(body);
        } catch (error) {
          if (!(error instanceof InvalidRequest)) throw error;
          valid = false;
        }
        fc.pre(!valid);
        refused += 1;
        // Act
        const attempt = replaceClientSettings(broker.deps, body, ADMIN);
        // Assess: the 400 the route answers, the rules and the trail unchanged
        await expect(attempt).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
        expect(await readClientSettings(broker.deps)).toEqual(stored);
      }),
      { numRuns: 150 },
    );
    expect(refused).toBeGreaterThan(100);
    expect(await auditCount()).toBe(before);
  });
});
