/**
 * The conventions users of CLI telemetry expect (issue #5, point 5): `DO_NOT_TRACK`, `<APP>_TELEMETRY`,
 * `<APP>_TELEMETRY_DEBUG`, CI detection and the first-run notice. Pure functions of the environment, so
 * the tests pass their own `env` instead of touching `process.env`.
 */

export type Env = Record<string, string | undefined>;

/** What `<APP>_TELEMETRY_DEBUG` asks for: nothing, a dry run (no network), or a real run that logs each step. */
export type DebugMode = 'off' | 'dry-run' | 'live';

export interface TelemetrySettings {
  /** `ACME_MY_CLI` for `@acme/my-cli`. */
  prefix: string;
  /** Why the environment turns telemetry off (`DO_NOT_TRACK=1`, `ACME_MY_CLI_TELEMETRY=0`), if it does. */
  optOut: string | undefined;
  debug: DebugMode;
  /** Detected CI provider, e.g. `github-actions`. */
  ci: string | undefined;
}

const OFF_VALUES = new Set(['0', 'false', 'off', 'no', 'n', 'disable', 'disabled']);

/**
 * The environment-variable prefix of an app: its npm name upper-cased, scope marker dropped, every run of
 * other characters turned into one underscore.
 *
 * @example
 * appEnvPrefix('@acme/my-cli'); // 'ACME_MY_CLI' → ACME_MY_CLI_TELEMETRY=0 turns telemetry off
 * appEnvPrefix('hello-cli'); // 'HELLO_CLI'
 */
export function appEnvPrefix(appName: string): string {
  const prefix = appName
    .replace(/^@/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return prefix || 'APP';
}

/** True for a set, non-empty value that does not say "no" (`1`, `true`, `yes`, anything but `0`/`false`/`off`). */
export function isFlagOn(value: string | undefined): boolean {
  if (value === undefined) return false;
  const normalized = value.trim().toLowerCase();
  return normalized !== '' && !OFF_VALUES.has(normalized);
}

/** True when a value explicitly says "off" (`0`, `false`, `off`, `no`). */
export function isFlagOff(value: string | undefined): boolean {
  return value !== undefined && OFF_VALUES.has(value.trim().toLowerCase());
}

/**
 * Reads every telemetry setting an app's users can set in the environment.
 *
 * @example
 * readSettings('hello-cli', { DO_NOT_TRACK: '1' }).optOut; // 'DO_NOT_TRACK=1'
 */
export function readSettings(appName: string, env: Env): TelemetrySettings {
  const prefix = appEnvPrefix(appName);
  const telemetryVar = `${prefix}_TELEMETRY`;
  let optOut: string | undefined;
  if (isFlagOn(env.DO_NOT_TRACK)) optOut = `DO_NOT_TRACK=${env.DO_NOT_TRACK ?? ''}`;
  else if (isFlagOff(env[telemetryVar])) optOut = `${telemetryVar}=${env[telemetryVar] ?? ''}`;
  return { prefix, optOut, debug: debugMode(env[`${prefix}_TELEMETRY_DEBUG`]), ci: detectCi(env) };
}

/** `1`, `true`, `yes`, `dry-run` → dry run; `live` → real run with a log of each step; unset or `0` → off. */
export function debugMode(value: string | undefined): DebugMode {
  if (!isFlagOn(value)) return 'off';
  return value?.trim().toLowerCase() === 'live' ? 'live' : 'dry-run';
}

/**
 * CI providers by the variable each sets, most specific first; generic `CI` last. A short list rather
 * than `ci-info`, which reads `process.env` once at import and so cannot honour the `env` option.
 */
const CI_PROVIDERS: ReadonlyArray<readonly [name: string, variable: string]> = [
  ['github-actions', 'GITHUB_ACTIONS'],
  ['gitlab-ci', 'GITLAB_CI'],
  ['circleci', 'CIRCLECI'],
  ['azure-pipelines', 'TF_BUILD'],
  ['bitbucket-pipelines', 'BITBUCKET_BUILD_NUMBER'],
  ['buildkite', 'BUILDKITE'],
  ['travis-ci', 'TRAVIS'],
  ['aws-codebuild', 'CODEBUILD_BUILD_ARN'],
  ['google-cloud-build', 'BUILDER_OUTPUT'],
  ['jenkins', 'JENKINS_URL'],
  ['teamcity', 'TEAMCITY_VERSION'],
  ['drone', 'DRONE'],
  ['woodpecker', 'CI_PIPELINE_NUMBER'],
  ['appveyor', 'APPVEYOR'],
  ['semaphore', 'SEMAPHORE'],
  ['bitrise', 'BITRISE_IO'],
  ['netlify', 'NETLIFY'],
  ['vercel', 'VERCEL'],
  ['cloudflare-pages', 'CF_PAGES'],
  ['generic', 'CI'],
  ['generic', 'CONTINUOUS_INTEGRATION'],
];

/**
 * The CI provider this process runs under, or undefined on a developer's machine.
 *
 * @example
 * detectCi({ GITHUB_ACTIONS: 'true', CI: 'true' }); // 'github-actions'
 * detectCi({ CI: 'false' }); // undefined
 */
export function detectCi(env: Env): string | undefined {
  return CI_PROVIDERS.find(([, variable]) => isFlagOn(env[variable]))?.[0];
}

/** `linux-x64`, `darwin-arm64`, `win32-x64`: what the mint request and the resource attributes carry. */
export function currentPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/**
 * The default first-run notice: names the app, says what is collected and how to opt out.
 *
 * @example
 * process.stderr.write(defaultNotice('hello-cli', 'HELLO_CLI') + '\n');
 */
export function defaultNotice(appName: string, prefix: string): string {
  return [
    `${appName} sends telemetry (traces and logs of its runs) to its authors to help improve it.`,
    `It is tagged with a random install id, the ${appName} version, your platform (OS and CPU architecture)`,
    "and, in CI, the CI provider's name.",
    `To opt out, set ${prefix}_TELEMETRY=0 or DO_NOT_TRACK=1.`,
  ].join('\n');
}
