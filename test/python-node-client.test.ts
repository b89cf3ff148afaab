/**
 * The Python client (clients/python) beside the Node client (clients/node): one app built in both languages
 * shares one install id and one token, and the two never race (the same cache files and proper-lockfile's
 * lock protocol). Then the Python CLI when the world changes under its cached token: rotate, pause and
 * revoke at the next heartbeat (every second here), through the core admin operations on the very tables the
 * real `npm start` broker serves from (they have no HTTP route on this branch yet), as
 * test/client-lifecycle.test.ts does for the Node CLI.
 */
import type { WiredBroker } from '../functions/adapters/wiring';
import { pauseToken, revokeToken } from '../functions/core/admin';
import {
  cachedToken,
  calls,
  runHelloCli,
  startBusyProcesses,
  traceBatches,
  useTempHomes,
  type CountingProxy,
} from './support/clientCli';
import { FAST_LIFECYCLE, startClientTestBed, type ClientTestBed } from './support/clientTestBed';
import { logLines, type LocalBroker } from './support/localBroker';
import { runPythonHelloCli } from './support/pythonCli';
import { sleep, waitFor } from './support/wait';

jest.setTimeout(120_000);

const ADMIN = { actor: 'admin:arn:aws:iam::123456789012:user/ops', reason: 'python client test' } as const;
const newHome = useTempHomes();

describe('a Node and a Python build of one app (hello-cli), against the real local broker', () => {
  let broker: LocalBroker;
  let proxy: CountingProxy;
  let admin: WiredBroker;
  let bed: ClientTestBed | undefined;
  const mints = () => logLines(broker.output()).filter((line) => line.message === 'token minted').length;
  const batches = () => traceBatches(broker.output()).length;
  const python = (home: string, args: string[] = []) =>
    runPythonHelloCli({ home, brokerUrl: proxy.url, args });
  const node = (home: string, args: string[] = []) => runHelloCli({ home, brokerUrl: proxy.url, args });

  beforeAll(async () => {
    bed = await startClientTestBed({ ...FAST_LIFECYCLE, BROKER_ROTATE_AFTER: '3s' });
    ({ broker, proxy, admin } = bed);
  });
  afterAll(() => bed?.close());

  it('shares one install and token: the Python run after a Node run mints nothing, and the other way round', async () => {
    for (const [first, second] of [
      [node, python],
      [python, node],
    ] as const) {
      const home = newHome();
      expect((await first(home, ['--exit-code', '3'])).code).toBe(3);
      const minted = cachedToken(home)!;
      proxy.reset();
      const run = await second(home, ['--exit-code', '4']);
      expect(run).toMatchObject({ code: 4, stdout: 'Hello, world!\n', stderr: '' });
      // No mint: the second language found the first one's token (heartbeats are due every second here,
      // and rotation after three, so it may have checked in, even refreshed, but for the same install).
      expect(calls(proxy.requests)).not.toContain('POST /v1/tokens');
      expect(cachedToken(home)!.installId).toBe(minted.installId);
    }
  });

  it('mints once for 8 concurrent first runs, 4 Node and 4 Python, while the machine is busy', async () => {
    const home = newHome();
    const before = mints();
    const busy = startBusyProcesses(3, 60_000);
    let runs;
    try {
      runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? python : node)(home, ['--exit-code', '5'])),
      );
    } finally {
      busy.stop();
    }
    expect(runs.map((run) => run.code)).toEqual(Array(8).fill(5));
    expect(runs.every((run) => run.stdout === 'Hello, world!\n')).toBe(true);
    expect(mints() - before).toBe(1);
    const installs = new Set(
      proxy.requests
        .filter((r) => r.path === '/v1/tokens')
        .map((r) => JSON.parse(r.body).installId as string),
    );
    expect([...installs]).toEqual([cachedToken(home)!.installId]);
  });

  it('refreshes the Python CLI’s token when a heartbeat says rotate', async () => {
    const home = newHome();
    expect((await python(home)).code).toBe(0);
    const first = cachedToken(home)!;
    await sleep(3500); // past BROKER_ROTATE_AFTER; the rotation job runs every second
    proxy.reset();
    const before = batches();
    const run = await python(home, ['--exit-code', '6']);
    expect(run).toMatchObject({ code: 6, stdout: 'Hello, world!\n' });
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens/{id}/heartbeat', 'POST /v1/tokens/{id}/refresh']);
    expect(cachedToken(home)).toMatchObject({ installId: first.installId });
    expect(cachedToken(home)!.tokenId).not.toBe(first.tokenId);
    expect(await waitFor(() => batches() > before)).toBe(true);
  });

  it('sends nothing while paused, and mints for the same install once revoked', async () => {
    const home = newHome();
    expect((await python(home)).code).toBe(0);
    const first = cachedToken(home)!;
    expect(await pauseToken(admin, first.tokenId, ADMIN)).toMatchObject({ status: 'paused' });
    await sleep(1200);
    proxy.reset();
    let before = batches();
    expect((await python(home, ['--exit-code', '2'])).code).toBe(2);
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens/{id}/heartbeat']);
    await sleep(300);
    expect(batches()).toBe(before);
    expect(cachedToken(home)).toMatchObject({ tokenId: first.tokenId, status: 'paused' });

    expect(await revokeToken(admin, first.tokenId, ADMIN)).toMatchObject({ outcome: 'changed' });
    await sleep(1200);
    proxy.reset();
    before = batches();
    expect((await python(home, ['--exit-code', '9'])).code).toBe(9);
    expect(calls(proxy.requests)).toEqual(
      expect.arrayContaining(['POST /v1/tokens/{id}/heartbeat', 'POST /v1/tokens']),
    );
    expect(cachedToken(home)!.tokenId).not.toBe(first.tokenId);
    expect(cachedToken(home)!.installId).toBe(first.installId);
    expect(await waitFor(() => batches() > before)).toBe(true);
  });
});
