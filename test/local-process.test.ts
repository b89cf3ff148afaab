/**
 * `npm start` as a process, the way users and service managers treat it: stopped by a SIGTERM to npm
 * itself, killed mid-write, restarted on the same data folder.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { IssuedToken } from '../functions/core/contract';
import { DEV_TOKENS_FILE } from '../functions/adapters/upstream/dev';
import { keepBusy } from './support/busy';
import { startLocalBroker, stopAllLocalBrokers, type LocalBroker } from './support/localBroker';

jest.setTimeout(60_000);

afterAll(() => stopAllLocalBrokers());

const waitUntil = async (what: () => boolean | Promise<boolean>, ms: number): Promise<boolean> => {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (await what()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return what();
};

const portIsOpen = (url: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => resolve(true)).once('error', () => resolve(false));
    socket.once('connect', () => socket.destroy());
  });

/** True while any process of the group led by `pid` exists. */
const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

const mint = async (broker: LocalBroker): Promise<IssuedToken> => {
  const response = await fetch(`${broker.url}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ installId: randomUUID(), app: { name: 'crash-cli', version: '1.0.0' } }),
  });
  if (response.status !== 201) throw new Error(`mint answered ${response.status}`);
  return (await response.json()) as IssuedToken;
};

/** Every file under `dir`, as paths relative to it. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)).map((f) => `${entry.name}/${f}`) : [entry.name],
  );

describe('npm start as a process', () => {
  it('stops, port closed and every process gone, on a SIGTERM sent to the npm process itself', async () => {
    // Prepare: npm, its shell and the broker, on a busy machine
    const busy = await keepBusy(20_000, 2);
    let broker: LocalBroker | undefined;
    try {
      broker = await startLocalBroker({ viaNpm: true });
      expect(await portIsOpen(broker.url)).toBe(true);
      // Act
      process.kill(broker.pid, 'SIGTERM');
      // Assess
      expect(await waitUntil(async () => !(await portIsOpen(broker!.url)), 10_000)).toBe(true);
      expect(await waitUntil(() => !groupAlive(broker!.pid), 10_000)).toBe(true);
      expect(broker.output()).toContain('stopping');
    } finally {
      // Whatever the outcome, nothing of it outlives the test.
      if (broker && groupAlive(broker.pid)) process.kill(-broker.pid, 'SIGKILL');
      await busy.stop();
    }
  });

  it('after being killed amid concurrent mints, restarts with no temp file left and every answered mint intact', async () => {
    // Prepare: a data folder as an older version left it (LevelDB's folder 0755) and a crashed write's temp file
    const dataDir = mkdtempSync(join(tmpdir(), 'logfire-broker-crash-'));
    const busy = await keepBusy(20_000, 2);
    try {
      mkdirSync(join(dataDir, 'dynamodb'));
      chmodSync(join(dataDir, 'dynamodb'), 0o755);
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
      writeFileSync(join(dataDir, `${DEV_TOKENS_FILE}.${deadPid}.0badc0de.tmp`), '{"version":1,"tokens":[]}');
      let broker = await startLocalBroker({ dataDir });
      // Act: 40 concurrent mints, and SIGKILL once a few have been answered
      const answered: IssuedToken[] = [];
      const mints = Array.from({ length: 40 }, () =>
        mint(broker).then(
          (token) => void answered.push(token),
          () => undefined,
        ),
      );
      await waitUntil(() => answered.length >= 5, 20_000);
      process.kill(-broker.pid, 'SIGKILL');
      await Promise.all(mints);
      await broker.exited;
      const acknowledged = [...answered];
      broker = await startLocalBroker({ dataDir });
      // Assess: no temp file anywhere in the data folder, its sub-folders 0700
      expect(filesUnder(dataDir).filter((file) => /\.(tmp|dbtmp)$/.test(file))).toEqual([]);
      expect(statSync(join(dataDir, 'dynamodb')).mode & 0o777).toBe(0o700);
      expect(statSync(join(dataDir, DEV_TOKENS_FILE)).mode & 0o777).toBe(0o600);
      // ... and every mint that was answered before the crash still works, token record and write token
      expect(acknowledged.length).toBeGreaterThanOrEqual(5);
      for (const token of acknowledged) {
        const beat = await fetch(`${broker.url}/v1/tokens/${token.tokenId}/heartbeat`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token.clientSecret}` },
        });
        expect(beat.status).toBe(200);
        const sent = await fetch(`${broker.url}/v1/traces`, {
          method: 'POST',
          headers: { authorization: token.writeToken, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(sent.status).toBe(200);
      }
      await broker.stop();
    } finally {
      await busy.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
