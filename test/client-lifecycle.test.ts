/**
 * The client library (clients/node/, issue #5) when the world changes under a cached token, in real CLI processes
 * (clients/node/examples/hello-cli.ts through tsx) against the real `npm start` broker:
 *
 * - the broker says `rotate`, `paused` or `revoked`, or refuses a spent client secret, at the next heartbeat
 *   (heartbeats every second here). The broker keeps its tables in a dynalite server this test starts, so the
 *   test can pause, resume and revoke through the core admin operations (functions/core/admin.ts), which
 *   have no HTTP route yet, on the very tables the broker serves from;
 * - the broker is down, or hangs: the CLI still ends within its budget with its own exit code.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { WiredBroker } from '../functions/adapters/wiring';
import { pauseToken, resumeToken, revokeToken } from '../functions/core/admin';
import type { IssuedToken } from '../functions/core/contract';
import {
  cachedToken,
  calls,
  runHelloCli,
  startSilentServer,
  useTempHomes,
  traceBatches,
  type CliOptions,
  type CountingProxy,
} from './support/clientCli';
import { FAST_LIFECYCLE, startClientTestBed, type ClientTestBed } from './support/clientTestBed';
import type { LocalBroker } from './support/localBroker';
import { sleep, waitFor } from './support/wait';

jest.setTimeout(60_000);

const ADMIN = { actor: 'admin:arn:aws:iam::123456789012:user/ops', reason: 'client library test' } as const;
const newHome = useTempHomes();

describe('hello-cli when its token is rotated, paused, revoked or refused (heartbeat every 1 s)', () => {
  let broker: LocalBroker;
  let proxy: CountingProxy;
  let admin: WiredBroker;
  let bed: ClientTestBed | undefined;
  const run = (home: string, options: Partial<CliOptions> = {}) =>
    runHelloCli({ home, brokerUrl: proxy.url, ...options });
  const batches = () => traceBatches(broker.output()).length;
  /** A little over the heartbeat interval since the last check-in. */
  const heartbeatDue = () => sleep(1200);

  beforeAll(async () => {
    bed = await startClientTestBed({ ...FAST_LIFECYCLE, BROKER_ROTATE_AFTER: '4s' });
    ({ broker, proxy, admin } = bed);
  });
  afterAll(() => bed?.close());

  it('refreshes on the first heartbeat that says rotate, and sends with the new token', async () => {
    // Prepare: a first run mints; then the broker's rotation job marks the token due
    const home = newHome();
    expect((await run(home)).code).toBe(0);
    const first = cachedToken(home)!;
    const heartbeatSays = async () => {
      const reply = await fetch(`${broker.url}/v1/tokens/${first.tokenId}/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.clientSecret}` },
      });
      return ((await reply.json()) as { status: string }).status;
    };
    expect(await waitFor(async () => (await heartbeatSays()) === 'rotate')).toBe(true);
    await heartbeatDue();
    proxy.reset();
    const before = batches();
    // Act
    const result = await run(home, { args: ['--exit-code', '6'] });
    // Assess: heartbeat, then refresh; a new token in the cache; the span went out with it
    expect(result).toMatchObject({ code: 6, stdout: 'Hello, world!\n' });
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens/{id}/heartbeat', 'POST /v1/tokens/{id}/refresh']);
    const second = cachedToken(home)!;
    expect(second.tokenId).not.toBe(first.tokenId);
    expect(second.installId).toBe(first.installId);
    expect(await waitFor(() => batches() > before)).toBe(true);
  });

  it('sends nothing while the token is paused, and sends again after it is resumed', async () => {
    // Prepare
    const home = newHome();
    expect((await run(home)).code).toBe(0);
    const { tokenId } = cachedToken(home)!;
    expect(await pauseToken(admin, tokenId, ADMIN)).toMatchObject({ outcome: 'changed', status: 'paused' });
    await heartbeatDue();
    proxy.reset();
    let before = batches();
    // Act
    const paused = await run(home, { args: ['--exit-code', '2'] });
    // Assess: one heartbeat, no mint, no refresh, no span; the token is kept
    expect(paused).toMatchObject({ code: 2, stdout: 'Hello, world!\n' });
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens/{id}/heartbeat']);
    await sleep(300);
    expect(batches()).toBe(before);
    expect(cachedToken(home)).toMatchObject({ tokenId, status: 'paused' });

    // Act: resumed at the broker; the next heartbeat finds out
    expect(await resumeToken(admin, tokenId, ADMIN)).toMatchObject({ outcome: 'changed' });
    await heartbeatDue();
    proxy.reset();
    before = batches();
    const resumed = await run(home);
    // Assess: no new mint (a heartbeat, and a refresh if rotation came due meanwhile); the span went out
    expect(resumed.code).toBe(0);
    expect(calls(proxy.requests)[0]).toBe('POST /v1/tokens/{id}/heartbeat');
    expect(calls(proxy.requests)).not.toContain('POST /v1/tokens');
    expect(await waitFor(() => batches() > before)).toBe(true);
  });

  it('mints a new token for the same install when the heartbeat says revoked', async () => {
    // Prepare
    const home = newHome();
    expect((await run(home)).code).toBe(0);
    const first = cachedToken(home)!;
    expect(await revokeToken(admin, first.tokenId, ADMIN)).toMatchObject({ outcome: 'changed' });
    await heartbeatDue();
    proxy.reset();
    const before = batches();
    // Act
    const result = await run(home, { args: ['--exit-code', '9'] });
    // Assess
    expect(result).toMatchObject({ code: 9, stdout: 'Hello, world!\n' });
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens/{id}/heartbeat', 'POST /v1/tokens']);
    expect(JSON.parse(proxy.requests[1]!.body)).toMatchObject({ installId: first.installId });
    const second = cachedToken(home)!;
    expect(second.tokenId).not.toBe(first.tokenId);
    expect(second.installId).toBe(first.installId);
    expect(await waitFor(() => batches() > before)).toBe(true);
  });

  it('mints again when the broker refuses the cached client secret (spent by someone else’s refresh)', async () => {
    // Prepare: someone holding a copy of the cache refreshes first; the cached secret is now spent
    const home = newHome();
    expect((await run(home)).code).toBe(0);
    const first = cachedToken(home)!;
    const stolen = await fetch(`${broker.url}/v1/tokens/${first.tokenId}/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.clientSecret}` },
    });
    expect(stolen.status).toBe(200);
    const thief = (await stolen.json()) as IssuedToken;
    await heartbeatDue();
    proxy.reset();
    const before = batches();
    // Act
    const result = await run(home);
    // Assess: the heartbeat is refused (401), the client mints for the same install and sends
    expect(result.code).toBe(0);
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens/{id}/heartbeat', 'POST /v1/tokens']);
    const second = cachedToken(home)!;
    expect([first.tokenId, thief.tokenId]).not.toContain(second.tokenId);
    expect(second.installId).toBe(first.installId);
    expect(await waitFor(() => batches() > before)).toBe(true);
  });
});

describe('hello-cli when the broker is down or hangs', () => {
  const BUDGET_MS = 1000;

  /** A port nothing listens on: bound, then released. */
  async function closedPortUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((done) => server.close(() => done()));
    return `http://127.0.0.1:${port}`;
  }

  it('finishes within its budget with its own exit code when the broker refuses connections or never answers', async () => {
    // Prepare: the same CLI with telemetry off is the baseline (process start, tsx, the greeting)
    const hung = await startSilentServer();
    const down = await closedPortUrl();
    const env = { HELLO_BROKER_BUDGET_MS: String(BUDGET_MS) };
    try {
      const baseline = await runHelloCli({
        home: newHome(),
        brokerUrl: down,
        env: { ...env, HELLO_CLI_TELEMETRY: '0' },
        args: ['--exit-code', '7'],
      });
      // Act
      const refused = await runHelloCli({
        home: newHome(),
        brokerUrl: down,
        env,
        args: ['--exit-code', '7'],
      });
      const hanging = await runHelloCli({
        home: newHome(),
        brokerUrl: hung.url,
        env,
        args: ['--exit-code', '7'],
      });
      // Assess: output and exit code unchanged; at most the budget (plus process-start noise) added
      for (const result of [baseline, refused, hanging]) {
        expect(result).toMatchObject({ code: 7, signal: null, stdout: 'Hello, world!\n' });
      }
      // The hung broker was really tried, and held the run until the budget ran out
      expect(hung.connections()).toBeGreaterThan(0);
      expect(hanging.ms).toBeGreaterThan(BUDGET_MS);
      // Process start-up varies by a few hundred ms on a loaded 2-core machine (other test files run alongside).
      const slack = 1000;
      expect(refused.ms).toBeLessThan(baseline.ms + BUDGET_MS + slack);
      expect(hanging.ms).toBeLessThan(baseline.ms + BUDGET_MS + slack);
      // Quiet by default: why telemetry is off is for the debug log
      expect(hanging.stderr).not.toMatch(/error|ECONNREFUSED|timed out/i);
    } finally {
      await hung.close();
    }
  });
});
