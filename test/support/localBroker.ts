/**
 * Runs the real local broker (`npm start`, i.e. `node --import tsx functions/local/main.ts`) as a child
 * process for end-to-end tests: on 127.0.0.1 at a free port, with its own data folder, and with every byte it writes
 * to stdout and stderr kept for the test to read.
 *
 * @example
 * const broker = await startLocalBroker();
 * const reply = await fetch(`${broker.url}/health`);
 * const exitCode = await broker.stop('SIGTERM'); // 0
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QUOTA_VARIABLES } from '../../functions/config';
import type { IssuedToken } from '../../functions/core/contract';

const REPO_ROOT = resolve(__dirname, '..', '..');
const ENTRY = join(REPO_ROOT, 'functions', 'local', 'main.ts');
const LISTENING = /logfire-broker listening on (http:\/\/127\.0\.0\.1:\d+)/;

export interface LocalBrokerOptions {
  /**
   * Extra environment for the broker; `undefined` removes a variable. Every `BROKER_*` and `LOGFIRE_*`
   * variable of the test's own environment is removed first, so a developer's shell cannot change a test.
   */
  env?: Record<string, string | undefined>;
  /** `BROKER_DATA_DIR`; a fresh temporary folder (deleted at stop) when not given. */
  dataDir?: string;
  /** How long to wait for the "listening" line; default 20 s. */
  startTimeoutMs?: number;
  /**
   * Start it through `npm start` (npm, its shell, then the broker) instead of running the broker's command
   * directly; `pid` is then npm's.
   */
  viaNpm?: boolean;
}

export interface LocalBroker {
  /** `http://127.0.0.1:<port>`, as the broker printed it. */
  url: string;
  dataDir: string;
  /** The process started: the broker, or npm with `viaNpm`. */
  pid: number;
  /** Everything written to stdout and stderr so far, interleaved in arrival order. */
  output(): string;
  /** Waits until the output matches `pattern`; rejects with the output so far after `timeoutMs`. */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /**
   * Sends `signal` (default SIGTERM) and resolves with the exit code (null if it died by a signal). After
   * `timeoutMs` (default 10 s) the process group is killed with SIGKILL. Calling it again is harmless.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** Resolves with the exit code once the process has exited, whatever made it exit. */
  readonly exited: Promise<number | null>;
}

/** The broker exited before it printed its URL (e.g. an invalid setting). */
export class LocalBrokerExited extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly output: string,
  ) {
    super(
      `the local broker exited (code ${String(exitCode)}, signal ${String(signal)}) before listening:\n${output}`,
    );
    this.name = 'LocalBrokerExited';
  }
}

/**
 * Every quota off (0), unless a test sets one: the suites mint hundreds of times from 127.0.0.1, which the
 * production defaults would refuse. Quota behaviour has its own tests (test/quotas.test.ts).
 */
export const NO_QUOTAS: Record<string, string> = Object.fromEntries(
  Object.values(QUOTA_VARIABLES).map(({ env }) => [env, '0']),
);

/** Every child still running, with its stop function, so `stopAllLocalBrokers` and the exit hook can end them. */
const running = new Map<ChildProcess, LocalBroker['stop']>();
/**
 * The process group of every child started, which outlives the child when a process it started is left
 * behind (a broker that npm's shell did not stop): such leftovers must not outlive the tests.
 */
const groups = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole group, so the broker under npm and its shell go too.
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

process.once('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
});

function childEnv(dataDir: string, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('BROKER_') && !key.startsWith('LOGFIRE_')) env[key] = value;
  }
  Object.assign(env, { BROKER_PORT: '0', BROKER_HOST: '127.0.0.1', BROKER_DATA_DIR: dataDir }, NO_QUOTAS);
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * Starts the broker and resolves once it printed `logfire-broker listening on <url>`. Rejects with
 * `LocalBrokerExited` when the process ends first.
 */
export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'logfire-broker-e2e-'));
  // The same command as `npm start`, so what the tests run is what users run.
  const [command, args] = options.viaNpm
    ? ['npm', ['start', '--silent']]
    : [process.execPath, ['--import', 'tsx', ENTRY]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: childEnv(dataDir, options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a stuck broker can be killed with every process it started.
    detached: true,
  });

  let text = '';
  const watchers = new Set<() => void>();
  const collect = (chunk: string) => {
    text += chunk;
    for (const watcher of watchers) watcher();
  };
  // Decoded per stream, so a character split across two chunks arrives whole.
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);

  const exited = new Promise<number | null>((done) => {
    child.once('exit', (code) => {
      running.delete(child);
      // Let the pipes drain, so output() has the last lines when `exited` resolves.
      let open = 2;
      const closed = () => {
        if (--open === 0) finish();
      };
      const finish = () => {
        if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
        for (const watcher of watchers) watcher();
        done(code);
      };
      if (child.stdout!.readableEnded) closed();
      else child.stdout!.once('close', closed);
      if (child.stderr!.readableEnded) closed();
      else child.stderr!.once('close', closed);
      // A process left behind holds the pipes open: do not wait for it.
      setTimeout(() => {
        if (open > 0) {
          open = 0;
          finish();
        }
      }, 2000).unref();
    });
    child.once('error', () => {
      running.delete(child);
      done(null);
    });
  });

  const waitForOutput = (pattern: RegExp | string, timeoutMs = 5000): Promise<string> =>
    new Promise((resolveWait, rejectWait) => {
      const matches = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      if (matches()) return resolveWait(text);
      const timer = setTimeout(() => {
        watchers.delete(check);
        rejectWait(new Error(`timed out waiting for ${String(pattern)} in the broker's output:\n${text}`));
      }, timeoutMs);
      const check = () => {
        if (!matches()) return;
        clearTimeout(timer);
        watchers.delete(check);
        resolveWait(text);
      };
      watchers.add(check);
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      // To the process started (the broker, or npm), as a service manager or `kill <pid>` would.
      child.kill(signal);
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };

  running.set(child, stop);
  if (child.pid !== undefined) groups.add(child.pid);

  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const url = await new Promise<string>((resolveUrl, rejectUrl) => {
    const timer = setTimeout(() => {
      watchers.delete(check);
      killGroup(child.pid!, 'SIGKILL');
      rejectUrl(new Error(`the local broker did not print its URL within ${startTimeoutMs} ms:\n${text}`));
    }, startTimeoutMs);
    const check = () => {
      const match = LISTENING.exec(text);
      if (match) {
        clearTimeout(timer);
        watchers.delete(check);
        resolveUrl(match[1]!);
      }
    };
    watchers.add(check);
    void exited.then((code) => {
      if (LISTENING.test(text)) return;
      clearTimeout(timer);
      watchers.delete(check);
      rejectUrl(new LocalBrokerExited(code, child.signalCode, text));
    });
    check();
  });

  return { url, dataDir, pid: child.pid!, output: () => text, waitForOutput, stop, exited };
}

/**
 * Ends every broker this process started that is still running, and kills what any of them left behind
 * (for `afterAll`, even after a failure).
 */
export async function stopAllLocalBrokers(): Promise<void> {
  await Promise.all([...running.values()].map((stop) => stop('SIGTERM', 5000)));
  for (const pid of groups) killGroup(pid, 'SIGKILL');
  groups.clear();
}

/** The JSON log lines in a broker's output (Powertools Logger writes one object per line). */
export function logLines(output: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        lines.push(parsed as Record<string, unknown>);
      }
    } catch {
      // Not a log line.
    }
  }
  return lines;
}

/**
 * Mints as a client does, over HTTP; throws unless the broker answers 201.
 * @example const token = await mintAt(broker.url, 'install-1', { name: 'hello', version: '1.2.0' });
 */
export async function mintAt(
  url: string,
  installId: string,
  app: { name: string; version: string },
): Promise<IssuedToken> {
  const reply = await fetch(`${url}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ installId, app }),
  });
  // Thrown rather than expect()ed: the bench uses this module too, outside jest.
  if (reply.status !== 201) throw new Error(`mint answered ${reply.status}: ${await reply.text()}`);
  return (await reply.json()) as IssuedToken;
}

/** A heartbeat's status (`active`, `paused`, …), or the HTTP status when the reply carries none (`401`). */
export async function heartbeatAt(
  url: string,
  token: Pick<IssuedToken, 'tokenId' | 'clientSecret'>,
): Promise<string> {
  const reply = await fetch(`${url}/v1/tokens/${token.tokenId}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.clientSecret}` },
  });
  return ((await reply.json()) as { status?: string }).status ?? String(reply.status);
}
