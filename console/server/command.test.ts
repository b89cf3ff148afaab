/**
 * `logfire-broker console` as an operator runs it: the CLI's own bin in a child process, against the real
 * local broker, signing with the admin pair the broker wrote to its data folder, serving the built page
 * (console/dist, what `npm install` and `npm run build` produce).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI_BIN } from '../../cli/test/runCli';
import { keepBusy } from '../../test/support/busy';
import { startLocalBroker, stopAllLocalBrokers, type LocalBroker } from '../../test/support/localBroker';
import { ASSETS_DIR } from './assets';

jest.setTimeout(60_000);

const REPO_ROOT = resolve(__dirname, '..', '..');
const PRINTED_URL = /on (http:\/\/127\.0\.0\.1:(\d+)\/\?key=([\w-]+))/;

let broker: LocalBroker;
let binDir: string;

beforeAll(async () => {
  if (!existsSync(join(ASSETS_DIR, 'index.html'))) {
    // What `npm install` (prepare) and `npm run build` do.
    execFileSync('npm', ['run', '--silent', 'build:console'], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  broker = await startLocalBroker();
  binDir = mkdtempSync(join(tmpdir(), 'console-opener-'));
});

afterAll(async () => {
  await stopAllLocalBrokers();
  rmSync(binDir, { recursive: true, force: true });
});

function startConsole(extraArgs: string[], env: Record<string, string> = {}): ChildProcess {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('LOGFIRE_BROKER_')) childEnv[key] = value;
  }
  return spawn(
    process.execPath,
    [CLI_BIN, '--endpoint', broker.url, '--data-dir', broker.dataDir, 'console', ...extraArgs],
    { env: { ...childEnv, AWS_EC2_METADATA_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

async function printedUrl(child: ChildProcess): Promise<RegExpExecArray> {
  let output = '';
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no URL printed:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = PRINTED_URL.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', () => fail(new Error(`the console exited:\n${output}`)));
  });
}

it('serves the page and signed API calls until Ctrl-C, then exits 0 and frees its port', async () => {
  const child = startConsole(['--no-open']);
  try {
    const [, url, port, key] = await printedUrl(child);
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`<meta name="console-token" content="${key}"`);

    const stats = await fetch(`http://127.0.0.1:${port}/api/stats`, {
      headers: { origin: `http://127.0.0.1:${port}`, 'x-console-token': key! },
    });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ tokensByStatus: {} });

    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    await expect(fetch(url!)).rejects.toThrow();
  } finally {
    child.kill('SIGKILL');
  }
});

it('answers 20 identical concurrent page calls, none refused as a replayed signature, while the machine is busy', async () => {
  // The broker refuses a signature it has seen; identical calls within one second once signed identically.
  const child = startConsole(['--no-open']);
  const busy = await keepBusy(30_000, 2);
  try {
    const [, , port, key] = await printedUrl(child);
    const headers = { origin: `http://127.0.0.1:${port}`, 'x-console-token': key! };
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/api/tokens?limit=5`, { headers })),
    );
    const bodies = await Promise.all(replies.map((reply) => reply.json()));
    expect(replies.map((reply) => reply.status)).toEqual(new Array(20).fill(200));
    for (const body of bodies) expect(body).toMatchObject({ tokens: expect.any(Array) });
  } finally {
    await busy.stop();
    child.kill('SIGINT');
    await once(child, 'exit');
  }
});

it('opens the printed URL in the browser unless --no-open', async () => {
  const opened = join(binDir, 'opened.txt');
  // This machine has no desktop: a stand-in xdg-open records what it was asked to open.
  writeFileSync(join(binDir, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  chmodSync(join(binDir, 'xdg-open'), 0o755);
  const child = startConsole([], { PATH: `${binDir}:${process.env.PATH}` });
  try {
    const [, url] = await printedUrl(child);
    for (let tries = 0; !existsSync(opened) && tries < 100; tries += 1) {
      await new Promise((done) => setTimeout(done, 50));
    }
    expect(readFileSync(opened, 'utf8')).toBe(url);
  } finally {
    child.kill('SIGINT');
    await once(child, 'exit');
  }
});
