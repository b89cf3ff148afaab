/**
 * Runs the Python client's example CLI (clients/python/examples/hello_cli.py) as a real child process, with
 * the same minimal environment and home-folder layout as the Node example's runs (test/support/clientCli.ts),
 * so a Node and a Python run given one home share one cache.
 *
 * @example
 * const run = await runPythonHelloCli({ home, brokerUrl: proxy.url, args: ['--exit-code', '3'] });
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { CliOptions, CliRun } from './clientCli';

const PACKAGE = resolve(__dirname, '..', '..', 'clients', 'python');
export const PYTHON_HELLO_CLI = join(PACKAGE, 'examples', 'hello_cli.py');

export function runPythonHelloCli(options: CliOptions): Promise<CliRun> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: options.home,
    XDG_CONFIG_HOME: join(options.home, '.config'),
    HELLO_BROKER_URL: options.brokerUrl,
    PYTHONPATH: join(PACKAGE, 'src'),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn('python3', [PYTHON_HELLO_CLI, ...(options.args ?? [])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  return new Promise((done, fail) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
