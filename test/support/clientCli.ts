/**
 * Drives the client library's example CLI (clients/node/examples/hello-cli.ts) as real child processes, and
 * watches what reaches the network: a counting HTTP proxy in front of the broker, and a server that
 * accepts connections and never answers (a hung broker) or only counts them.
 *
 * @example
 * const home = tempHome();
 * const proxy = await startCountingProxy(broker.url);
 * const run = await runHelloCli({ home, brokerUrl: proxy.url, args: ['--exit-code', '3'] });
 * expect(run.code).toBe(3);
 * expect(proxy.requests.map((r) => r.path)).toEqual(['/v1/tokens']);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
} from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cachePaths, type CachePaths } from '../../clients/node/src/cacheFiles';
import { logLines, stopAllLocalBrokers } from './localBroker';

const REPO_ROOT = resolve(__dirname, '..', '..');
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
export const HELLO_CLI = join(REPO_ROOT, 'clients', 'node', 'examples', 'hello-cli.ts');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface CliOptions {
  /** HOME and every XDG base directory point under it, so each test has its own cache and preferences. */
  home: string;
  brokerUrl: string;
  args?: string[];
  /** Added to the child's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** The run is killed (SIGKILL, whole process group) after this long; default 20 s. */
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

process.once('exit', () => {
  for (const child of running) killGroup(child);
});

/** hello-cli's cache directory and files under `home` for `brokerUrl` (as the CLI is given it). */
export function helloCliPaths(home: string, brokerUrl: string): CachePaths {
  return cachePaths(join(home, '.config', 'logfire-broker'), brokerUrl, 'hello-cli');
}

export interface BusyMachine {
  /** Ends the busy processes (each by its pid). */
  stop(): void;
}

/**
 * Keeps the machine busy: `count` node processes that spin for at most `ms` each (bounded, so a test that
 * dies cannot leave them behind for long), to show races that only a loaded machine reveals.
 *
 * @example
 * const busy = startBusyProcesses(3, 60_000);
 * try { … } finally { busy.stop(); }
 */
export function startBusyProcesses(count: number, ms: number): BusyMachine {
  const spin = `const end = Date.now() + ${Math.floor(ms)}; while (Date.now() < end) {}`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', spin], { stdio: 'ignore', detached: true }),
  );
  for (const child of children) running.add(child);
  return {
    stop: () => {
      for (const child of children) {
        killGroup(child);
        running.delete(child);
      }
    },
  };
}

/** A fresh temporary home folder for one test's CLI runs. */
export function tempHome(label = 'home'): string {
  return mkdtempSync(join(tmpdir(), `logfire-broker-client-${label}-`));
}

/**
 * A fresh home folder per call for one test file, all removed after it, with every CLI run and local
 * broker stopped. Call at the top of the file.
 * @example const newHome = useTempHomes(); … const home = newHome();
 */
export function useTempHomes(): () => string {
  const homes: string[] = [];
  afterAll(async () => {
    stopAllCliRuns();
    await stopAllLocalBrokers();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });
  return () => {
    const home = tempHome();
    homes.push(home);
    return home;
  };
}

/**
 * A minimal environment: the developer's or CI's own variables (CI=true, DO_NOT_TRACK, HELLO_*) must not
 * change what a test sees, so only PATH, the temp folder (tsx keeps its compile cache there) and the locale
 * pass through.
 */
function cliEnv(options: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: options.home,
    XDG_CONFIG_HOME: join(options.home, '.config'),
    XDG_CACHE_HOME: join(options.home, '.cache'),
    XDG_DATA_HOME: join(options.home, '.local', 'share'),
    XDG_STATE_HOME: join(options.home, '.local', 'state'),
    HELLO_BROKER_URL: options.brokerUrl,
  };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs hello-cli once through tsx and resolves when it has exited, with everything it printed. */
export function runHelloCli(options: CliOptions): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(TSX, [HELLO_CLI, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: cliEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a stuck run is killed together with tsx's child.
    detached: true,
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => killGroup(child), options.timeoutMs ?? 20_000);
  return new Promise((done, fail) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      fail(error);
    });
    // 'close': the process has exited and its pipes are drained.
    child.once('close', (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      running.delete(child);
      done({ code, signal, stdout, stderr, ms });
    });
  });
}

/** Kills every CLI run still going (for afterAll). */
export function stopAllCliRuns(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

export interface ObservedRequest {
  method: string;
  path: string;
  /** The request body as text (the broker's API takes JSON of at most 64 KiB). */
  body: string;
}

export interface CountingProxy {
  url: string;
  /** Every request forwarded, in arrival order. */
  readonly requests: ObservedRequest[];
  /** TCP connections accepted. */
  connections(): number;
  reset(): void;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/**
 * An HTTP proxy on 127.0.0.1 that forwards every request to `target` unchanged and records its method and
 * path: point a CLI at it and the test sees each call the client made to the broker.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const requests: ObservedRequest[] = [];
  let connections = 0;
  const server = createHttpServer((incoming, outgoing) => {
    const observed: ObservedRequest = { method: incoming.method ?? '', path: incoming.url ?? '', body: '' };
    requests.push(observed);
    incoming.on('data', (chunk: Buffer) => (observed.body += chunk.toString('utf8')));
    const headers: IncomingHttpHeaders = { ...incoming.headers, host: upstream.host };
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers,
      },
      (reply) => {
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(outgoing);
      },
    );
    forward.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forward);
  });
  server.on('connection', () => (connections += 1));
  const url = await listen(server);
  return {
    url,
    requests,
    connections: () => connections,
    reset: () => {
      requests.length = 0;
      connections = 0;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export interface SilentServer {
  url: string;
  /** TCP connections accepted (none is ever answered). */
  connections(): number;
  close(): Promise<void>;
}

/**
 * Accepts TCP connections, counts them and never answers: a broker that hangs, or (with a count of zero
 * expected) proof that a run opened no connection at all.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listen(server);
  return {
    url,
    connections: () => connections,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

/** Every regular file under `dir`, recursively (absolute paths). */
export function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });
}

/** Write tokens of the dev upstream and the broker's client secrets, wherever they appear in `text`. */
const SECRET = /\b(?:dev_wt_|lfb_cs_)[A-Za-z0-9_-]{16,}/g;

/** The secrets stored in the files under `home` (the client's cache). */
export function secretsUnder(home: string): string[] {
  const found = new Set<string>();
  for (const file of filesUnder(home)) {
    for (const match of readFileSync(file, 'utf8').matchAll(SECRET)) found.add(match[0]);
  }
  return [...found];
}

export interface CachedToken {
  file: string;
  installId: string;
  tokenId: string;
  writeToken: string;
  clientSecret: string;
  status: string;
}

/** The client's token cache file under `home` (`*.token.json`), parsed; undefined when there is none. */
export function cachedToken(home: string): CachedToken | undefined {
  const file = filesUnder(home).find((path) => path.endsWith('.token.json'));
  if (!file) return undefined;
  return { file, ...(JSON.parse(readFileSync(file, 'utf8')) as Omit<CachedToken, 'file'>) };
}

/** `POST /v1/tokens` … the calls in `requests`, as `METHOD /path` with the token id shortened to `{id}`. */
export function calls(requests: readonly ObservedRequest[]): string[] {
  return requests.map((r) => `${r.method} ${r.path.replace(/tok_[A-Za-z0-9_-]+/, '{id}')}`);
}

/** How many OTLP trace batches the broker's dev upstream has logged so far. */
export function traceBatches(brokerOutput: string): Array<Record<string, unknown>> {
  return logLines(brokerOutput).filter((line) => line.message === 'dev upstream received traces');
}
