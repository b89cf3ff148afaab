import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config';
import { checkKnownSettings, closestSetting, KNOWN_SETTINGS } from './knownSettings';

const REPO_ROOT = join(__dirname, '..');

describe('Method: checkKnownSettings', () => {
  it('stops on a misspelled setting, naming it and the setting it is closest to', () => {
    const check = () => checkKnownSettings({ BROKER_TOKEN_TTLL: '1d', BROKER_PORT: '8787' });

    expect(check).toThrow(ConfigError);
    expect(check).toThrow(
      /^BROKER_TOKEN_TTLL: is not a setting of the broker \(did you mean BROKER_TOKEN_TTL\?\)/,
    );
  });

  it('names every unknown setting at once', () => {
    expect(() => checkKnownSettings({ BROKER_PROT: '1', BROKER_LOGLEVEL: 'DEBUG' })).toThrow(
      /BROKER_LOGLEVEL: .*did you mean BROKER_LOG_LEVEL\?.*nor is BROKER_PROT \(did you mean BROKER_PORT\?\)/,
    );
  });

  it('accepts every known setting, and leaves other variables alone (Logfire SDK ones included)', () => {
    const env = Object.fromEntries(KNOWN_SETTINGS.map((name) => [name, 'x']));

    expect(() =>
      checkKnownSettings({ ...env, LOGFIRE_TOKEN: 'x', LOGFIRE_SEND_TO_LOGFIRE: 'false', HOME: '/home/me' }),
    ).not.toThrow();
  });

  it('points a far-off name at some known setting rather than at nothing', () => {
    expect(KNOWN_SETTINGS).toContain(closestSetting('BROKER_SOMETHING_ELSE_ENTIRELY'));
  });
});

describe('KNOWN_SETTINGS', () => {
  it('holds every BROKER_* variable that functions/config.ts reads', () => {
    const source = readFileSync(join(__dirname, 'config.ts'), 'utf8');
    const read = new Set(source.match(/\bBROKER_[A-Z0-9_]*[A-Z0-9]\b/g));

    expect([...read].filter((name) => !KNOWN_SETTINGS.includes(name))).toEqual([]);
  });

  it('is documented: each one has a row in the README Configuration table', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Deploy to AWS'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const documented = new Set(rows.flatMap((row) => row.split('|')[1]!.match(/BROKER_[A-Z0-9_]+/g) ?? []));

    expect(KNOWN_SETTINGS.filter((name) => !documented.has(name))).toEqual([]);
  });
});
