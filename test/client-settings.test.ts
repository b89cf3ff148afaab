/**
 * Remote client settings and self-revoke (issue #10, points 4 and 5) as a user of a CLI meets them: the
 * example CLI (clients/node/examples/hello-cli.ts) as real child processes against the real `npm start`
 * broker, itself a child process. The broker keeps its tables in a dynalite this test starts, so the test
 * stores the operator's rules through the core function the admin route calls, on the tables the broker
 * serves from. A broker reads the rules at most every 30 s, so each scenario starts a broker after its rules.
 */
import { existsSync } from 'node:fs';
import type { WiredBroker } from '../functions/adapters/wiring';
import { replaceClientSettings } from '../functions/core/clientSettings';
import type { ClientSettingsRule } from '../functions/core/contract';
import { apiKeyEnv, startFakeLogfire, type FakeLogfire } from './fakes/fakeLogfire';
import {
  cachedToken,
  calls,
  runHelloCli,
  startCountingProxy,
  traceBatches,
  useTempHomes,
  type CountingProxy,
} from './support/clientCli';
import { startDynalite, tablesEnv, type TestDynamo } from './support/dynalite';
import { startProxiedBroker, type ProxiedBroker } from './support/clientTestBed';
import type { LocalBroker } from './support/localBroker';
import { operatorSide } from './support/operatorSide';
import { sleep, waitFor } from './support/wait';

jest.setTimeout(90_000);

const newHome = useTempHomes();
const ADMIN = { actor: 'admin:arn:aws:iam::123456789012:user/ops', reason: 'client settings test' } as const;
const LIVE_DEBUG = { HELLO_CLI_TELEMETRY_DEBUG: 'live' };

describe('hello-cli under the operator’s remote client settings (npm start, real CLI processes)', () => {
  let db: TestDynamo;
  let admin: WiredBroker;
  let bed: ProxiedBroker | undefined;
  const batches = () => traceBatches(bed!.broker.output()).length;

  /** Stores `rules`, then starts a broker (which reads them at its first request) behind a counting proxy. */
  async function brokerWith(rules: ClientSettingsRule[]): Promise<void> {
    await bed?.close();
    await replaceClientSettings(admin, { rules }, ADMIN);
    bed = await startProxiedBroker(tablesEnv(db));
  }
  const run = (home: string, args: string[] = []) =>
    runHelloCli({ home, brokerUrl: bed!.proxy.url, args, env: LIVE_DEBUG });

  beforeAll(async () => {
    db = await startDynalite();
    admin = operatorSide(db);
  });
  afterAll(async () => {
    await bed?.close();
    await db?.close();
  });

  it('sends nothing under a kill switch, cold or warm, and its debug output says why', async () => {
    // Prepare
    await brokerWith([{ app: 'hello-cli', telemetry: 'off' }]);
    const home = newHome();
    // Act: a first run (it mints, and learns the setting), then a warm one
    const cold = await run(home, ['alice', '--exit-code', '3']);
    const mintCalls = calls(bed!.proxy.requests);
    bed!.proxy.reset();
    const warm = await run(home, ['bob']);
    // Assess: the CLI's own output and exit code; one mint naming the library; no span anywhere
    expect(cold).toMatchObject({ code: 3, stdout: 'Hello, alice!\n' });
    expect(warm).toMatchObject({ code: 0, stdout: 'Hello, bob!\n' });
    expect(mintCalls).toEqual(['POST /v1/tokens']);
    expect(cachedToken(home)).toMatchObject({ settings: { telemetry: 'off', reason: 'kill_switch' } });
    expect(cold.stderr).toContain(
      "telemetry is off: the broker's operator turned telemetry off for hello-cli 1.0.0 (kill switch)",
    );
    expect(warm.stderr).toContain('(kill switch)');
    expect(bed!.proxy.connections()).toBe(0);
    await sleep(500);
    expect(batches()).toBe(0);
  });

  it('applies the sample rate to the traces it exports: 0 keeps none, a rule for other versions changes nothing', async () => {
    // Act: rate 0 for this version
    await brokerWith([{ app: 'hello-cli', sampleRate: 0 }]);
    const sampledOut = await run(newHome());
    await sleep(500);
    const none = batches();
    // Act: rate 0 only for versions this CLI is not
    await brokerWith([{ app: 'hello-cli', versions: '<1.0.0', sampleRate: 0 }]);
    const kept = await run(newHome());
    // Assess: telemetry stayed on (a token was minted) both times; only the sampler decided
    expect(sampledOut.code).toBe(0);
    expect(sampledOut.stderr).toContain("the broker's operator samples 0% of traces for hello-cli 1.0.0");
    expect(sampledOut.stderr).toContain('minted token');
    expect(none).toBe(0);
    expect(kept.stderr).not.toContain('samples');
    expect(await waitFor(() => batches() === 1)).toBe(true);
  });

  it('stops a client library older than minClientVersion, saying which version to update to', async () => {
    await brokerWith([{ app: '*', minClientVersion: '99.0.0' }]);
    const outdated = await run(newHome());
    expect(outdated.stderr).toContain(
      'telemetry is off: the broker needs logfire-broker-client 99.0.0 or later, this is 0.1.0; update hello-cli',
    );
    await sleep(500);
    expect(batches()).toBe(0);
  });
});

describe('hello-cli telemetry reset, against npm start with an API key (the fake Logfire)', () => {
  let logfire: FakeLogfire;
  let broker: LocalBroker;
  let proxy: CountingProxy;
  let bed: ProxiedBroker | undefined;
  const API_KEY = 'pylf_v1_us_' + 'ClientSettingsResetTestKey0123456789abcdef';

  beforeAll(async () => {
    logfire = await startFakeLogfire({ apiKey: API_KEY });
    bed = await startProxiedBroker(apiKeyEnv(logfire, API_KEY));
    ({ broker, proxy } = bed);
  });
  afterAll(async () => {
    await bed?.close();
    await logfire?.close();
  });

  it('revokes the token at the broker and deletes it at Logfire before forgetting it; the next run mints anew', async () => {
    // Prepare: a run that minted and exported
    const home = newHome();
    expect((await runHelloCli({ home, brokerUrl: proxy.url })).code).toBe(0);
    const before = cachedToken(home)!;
    expect(logfire.tokens.map((token) => token.token)).toContain(before.writeToken);
    proxy.reset();
    // Act
    const reset = await runHelloCli({
      home,
      brokerUrl: proxy.url,
      args: ['telemetry', 'reset'],
      env: LIVE_DEBUG,
    });
    // Assess: one self-revoke, the cache gone, the token dead at the broker and at Logfire
    expect(reset).toMatchObject({ code: 0, stdout: 'telemetry token revoked and forgotten\n' });
    expect(reset.stderr).toContain(`reset: the broker revoked token ${before.tokenId} and its chain`);
    expect(reset.stderr).not.toContain(before.clientSecret);
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens/{id}/revoke']);
    expect(existsSync(before.file)).toBe(false);
    expect(logfire.tokens.map((token) => token.token)).not.toContain(before.writeToken);
    const heartbeat = await fetch(`${broker.url}/v1/tokens/${before.tokenId}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${before.clientSecret}` },
    });
    expect(await heartbeat.json()).toMatchObject({ status: 'revoked' });
    // Act / Assess: the next run is a first run again
    proxy.reset();
    expect((await runHelloCli({ home, brokerUrl: proxy.url })).code).toBe(0);
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens']);
    expect(cachedToken(home)!.tokenId).not.toBe(before.tokenId);
  });

  it('still forgets the token, within its budget and with its own exit code, when the broker is down', async () => {
    // Prepare: a token cached through a proxy that then goes away (its port refuses connections)
    const home = newHome();
    const gone = await startCountingProxy(broker.url);
    expect((await runHelloCli({ home, brokerUrl: gone.url })).code).toBe(0);
    const before = cachedToken(home)!;
    await gone.close();
    // Act
    const reset = await runHelloCli({
      home,
      brokerUrl: gone.url,
      args: ['telemetry', 'reset'],
      env: { ...LIVE_DEBUG, HELLO_BROKER_BUDGET_MS: '800' },
    });
    // Assess
    expect(reset).toMatchObject({ code: 0, stdout: 'telemetry token revoked and forgotten\n' });
    expect(reset.stderr).toContain(`reset: token ${before.tokenId} could not be revoked`);
    expect(reset.stderr).not.toContain(before.clientSecret);
    expect(existsSync(before.file)).toBe(false);
  });
});
