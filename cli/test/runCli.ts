/**
 * Runs the `logfire-broker` CLI as users do (`cli/bin/logfire-broker.js`, through tsx) in a child process,
 * and collects its exit code and output. The test's AWS_* and LOGFIRE_BROKER_* variables are removed first,
 * so a developer's shell cannot change a test.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI_BIN = resolve(__dirname, '..', 'bin', 'logfire-broker.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * @example const { code, stdout } = await runCli(['tokens', 'ls', '--json'], { LOGFIRE_BROKER_ENDPOINT: url });
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('LOGFIRE_BROKER_')) childEnv[key] = value;
  }
  // No shared config or credentials of the developer's either.
  Object.assign(childEnv, {
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { env: childEnv, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
