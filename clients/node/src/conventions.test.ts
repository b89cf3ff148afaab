import { appEnvPrefix, debugMode, defaultNotice, detectCi, isFlagOn, readSettings } from './conventions';

describe('Function: appEnvPrefix', () => {
  it.each([
    ['@acme/my-cli', 'ACME_MY_CLI'],
    ['hello-cli', 'HELLO_CLI'],
    ['my.tool', 'MY_TOOL'],
    ['--weird--name__', 'WEIRD_NAME'],
    ['@@@', 'APP'],
  ])('turns %s into %s', (name, prefix) => {
    expect(appEnvPrefix(name)).toBe(prefix);
  });
});

describe('Function: readSettings', () => {
  it.each(['1', 'true', 'yes', 'TRUE', ' 1 '])('is opted out by DO_NOT_TRACK=%s', (value) => {
    expect(readSettings('hello-cli', { DO_NOT_TRACK: value }).optOut).toBe(`DO_NOT_TRACK=${value}`);
  });

  it.each(['0', '', 'false', 'no'])('is not opted out by DO_NOT_TRACK=%j', (value) => {
    expect(readSettings('hello-cli', { DO_NOT_TRACK: value }).optOut).toBeUndefined();
  });

  it.each(['0', 'false', 'off', 'OFF'])('is opted out by HELLO_CLI_TELEMETRY=%s', (value) => {
    expect(readSettings('hello-cli', { HELLO_CLI_TELEMETRY: value }).optOut).toBe(
      `HELLO_CLI_TELEMETRY=${value}`,
    );
  });

  it('is not opted out by HELLO_CLI_TELEMETRY=1 or by another app’s variable', () => {
    expect(
      readSettings('hello-cli', { HELLO_CLI_TELEMETRY: '1', OTHER_TELEMETRY: '0' }).optOut,
    ).toBeUndefined();
  });

  it('reads the debug mode from <APP>_TELEMETRY_DEBUG', () => {
    expect(readSettings('@acme/x', { ACME_X_TELEMETRY_DEBUG: '1' }).debug).toBe('dry-run');
    expect(debugMode('live')).toBe('live');
    expect(debugMode('0')).toBe('off');
    expect(debugMode(undefined)).toBe('off');
  });
});

describe('Function: detectCi', () => {
  it.each([
    [{ GITHUB_ACTIONS: 'true', CI: 'true' }, 'github-actions'],
    [{ GITLAB_CI: 'true', CI: 'true' }, 'gitlab-ci'],
    [{ TF_BUILD: 'True' }, 'azure-pipelines'],
    [{ JENKINS_URL: 'http://jenkins' }, 'jenkins'],
    [{ CI: '1' }, 'generic'],
    [{ CI: 'false' }, undefined],
    [{}, undefined],
  ])('detects %j as %s', (env, name) => {
    expect(detectCi(env)).toBe(name);
  });

  it('treats an empty flag as unset', () => {
    expect(isFlagOn('')).toBe(false);
    expect(isFlagOn(undefined)).toBe(false);
  });
});

describe('Function: defaultNotice', () => {
  it('names the app, what is collected and how to opt out', () => {
    const text = defaultNotice('hello-cli', 'HELLO_CLI');
    for (const part of [
      'hello-cli',
      'install id',
      'version',
      'platform',
      'CI',
      'HELLO_CLI_TELEMETRY=0',
      'DO_NOT_TRACK=1',
    ]) {
      expect(text).toContain(part);
    }
  });
});
