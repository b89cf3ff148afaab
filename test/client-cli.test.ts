/**
 * The client library (clients/node/, issue #5) in real CLI processes: clients/node/examples/hello-cli.ts run through
 * tsx as child processes against the real `npm start` broker (a child process too). A counting HTTP proxy
 * sits between the CLI and the broker, so every call the client makes to the broker is seen; the dev
 * upstream's log line per OTLP batch shows what reached "Logfire". Each test has its own HOME (and XDG
 * folders), so caches never leak between tests.
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  cachedToken,
  calls,
  filesUnder,
  runHelloCli,
  secretsUnder,
  startSilentServer,
  useTempHomes,
  traceBatches,
  type CliOptions,
  type CliRun,
  type CountingProxy,
} from './support/clientCli';
import { startProxiedBroker, type ProxiedBroker } from './support/clientTestBed';
import type { LocalBroker } from './support/localBroker';
import { waitFor } from './support/wait';

jest.setTimeout(60_000);

const newHome = useTempHomes();

const NOTICE = 'hello-cli sends telemetry';

describe('hello-cli with the broker client, against npm start', () => {
  let broker: LocalBroker;
  let proxy: CountingProxy;
  const run = (home: string, options: Partial<CliOptions> = {}) =>
    runHelloCli({ home, brokerUrl: proxy.url, ...options });
  const batches = () => traceBatches(broker.output()).length;
  /** Waits for the broker's log line of `count` trace batches in all (the CLI has exited; the pipe may lag). */
  const batchesReach = (count: number) => waitFor(() => batches() >= count);

  let bed: ProxiedBroker | undefined;

  beforeAll(async () => {
    bed = await startProxiedBroker();
    ({ broker, proxy } = bed);
  });
  afterAll(() => bed?.close());

  it('mints on the first run and its span reaches the dev upstream; the second run makes no call to the broker', async () => {
    // Prepare
    const home = newHome();
    proxy.reset();
    const before = batches();
    // Act
    const first = await run(home, { args: ['alice', '--exit-code', '3'] });
    // Assess: the CLI's output and exit code are its own; one mint; the notice came first
    expect(first).toMatchObject({ code: 3, stdout: 'Hello, alice!\n' });
    expect(first.stderr).toContain(NOTICE);
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens']);
    const mintBody = JSON.parse(proxy.requests[0]!.body) as Record<string, unknown>;
    expect(mintBody).toMatchObject({ app: { name: 'hello-cli', version: '1.0.0' } });
    expect(await batchesReach(before + 1)).toBe(true);
    expect(traceBatches(broker.output()).at(-1)).toMatchObject({
      signal: 'traces',
      contentType: 'application/x-protobuf',
      bytes: expect.any(Number),
    });

    // Act: the second run
    proxy.reset();
    const second = await run(home, { args: ['bob'] });
    // Assess: no connection to the broker at all, no notice, and the span still went out
    expect(second).toMatchObject({ code: 0, stdout: 'Hello, bob!\n' });
    expect(second.stderr).not.toContain(NOTICE);
    expect(proxy.connections()).toBe(0);
    expect(proxy.requests).toEqual([]);
    expect(await batchesReach(before + 2)).toBe(true);
  });

  it('sends nothing with DO_NOT_TRACK=1 or HELLO_CLI_TELEMETRY=0: no connection reaches the broker or the ingest', async () => {
    // Prepare: a server that only counts connections, for a first run; and a home with a warm cache
    const silent = await startSilentServer();
    const warm = newHome();
    const initial = batches();
    expect((await run(warm)).code).toBe(0);
    expect(await batchesReach(initial + 1)).toBe(true);
    try {
      for (const optOut of [{ DO_NOT_TRACK: '1' }, { HELLO_CLI_TELEMETRY: '0' }]) {
        proxy.reset();
        const before = batches();
        // Act: a first run (empty cache) at the counting server, and a run with a warm cache at the proxy
        const cold = await runHelloCli({
          home: newHome(),
          brokerUrl: silent.url,
          env: optOut,
          args: ['--exit-code', '4'],
        });
        const cached = await run(warm, { env: optOut, args: ['--exit-code', '5'] });
        // Assess
        expect(cold).toMatchObject({ code: 4, stdout: 'Hello, world!\n' });
        expect(cached).toMatchObject({ code: 5, stdout: 'Hello, world!\n' });
        expect(silent.connections()).toBe(0);
        expect(proxy.connections()).toBe(0);
        // The warm cache knows the ingest URL: no batch may arrive there either.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(batches()).toBe(before);
      }
    } finally {
      await silent.close();
    }
  });

  it('stops sending after `hello-cli telemetry disable` and starts again after `telemetry enable`', async () => {
    // Prepare
    const home = newHome();
    expect((await run(home)).code).toBe(0);
    // Act
    const disabled = await run(home, { args: ['telemetry', 'disable'] });
    proxy.reset();
    const before = batches();
    const quiet = await run(home);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Assess
    expect(disabled).toMatchObject({ code: 0, stdout: 'telemetry is disabled\n' });
    expect(quiet.code).toBe(0);
    expect(proxy.connections()).toBe(0);
    expect(batches()).toBe(before);

    // Act
    const enabled = await run(home, { args: ['telemetry', 'enable'] });
    await run(home);
    // Assess
    expect(enabled).toMatchObject({ code: 0, stdout: 'telemetry is enabled\n' });
    expect(await batchesReach(before + 1)).toBe(true);
  });

  it('keeps its cache file at mode 0600 in a 0700 folder and prints no secret, in debug mode neither', async () => {
    // Prepare
    const home = newHome();
    const dryHome = newHome();
    const outputs: CliRun[] = [];
    // Act: a first run, a warm run, and dry runs (HELLO_CLI_TELEMETRY_DEBUG=1) on a cold and a warm cache
    outputs.push(await run(home));
    outputs.push(await run(home));
    outputs.push(await run(home, { env: { HELLO_CLI_TELEMETRY_DEBUG: '1' } }));
    outputs.push(await run(dryHome, { env: { HELLO_CLI_TELEMETRY_DEBUG: '1' } }));
    outputs.push(await run(home, { env: { HELLO_CLI_TELEMETRY_DEBUG: 'live' } }));
    // Assess: the files and their modes
    const cache = cachedToken(home)!;
    expect(cache).toBeDefined();
    expect(statSync(cache.file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(cache.file)).mode & 0o777).toBe(0o700);
    for (const file of filesUnder(dirname(cache.file))) expect(statSync(file).mode & 0o777).toBe(0o600);
    // Assess: the secrets, read from the cache, appear in no output
    const secrets = secretsUnder(home);
    expect(secrets).toEqual(expect.arrayContaining([cache.writeToken, cache.clientSecret]));
    for (const output of outputs) {
      expect(output.code).toBe(0);
      for (const secret of secrets) {
        expect(output.stdout).not.toContain(secret);
        expect(output.stderr).not.toContain(secret);
      }
    }
    // The dry runs printed the span instead of sending it, and a dry run on an empty cache minted nothing.
    expect(outputs[2]!.stderr).toContain('telemetry debug (not sent): {"span":"hello"');
    expect(cachedToken(dryHome)).toBeUndefined();
  });

  it('tags a CI run in the resource attributes it sends', async () => {
    // Act: a dry run shows the resource attributes the span would carry
    const result = await run(newHome(), {
      env: { GITHUB_ACTIONS: 'true', CI: 'true', HELLO_CLI_TELEMETRY_DEBUG: '1' },
    });
    // Assess
    const line = /telemetry debug \(not sent\): (.*)/.exec(result.stderr)?.[1];
    expect(line).toBeDefined();
    const span = JSON.parse(line!) as { resource: Record<string, unknown> };
    expect(span.resource).toMatchObject({
      'service.name': 'hello-cli',
      'service.version': '1.0.0',
      ci: 'github-actions',
    });
  });

  it('recovers from a corrupt cache file by minting again, without user action', async () => {
    // Prepare
    const home = newHome();
    expect((await run(home)).code).toBe(0);
    const before = cachedToken(home)!;
    writeFileSync(before.file, '{"format":"logfire-broker-client/token/1","tokenId":', { mode: 0o600 });
    proxy.reset();
    const batchesBefore = batches();
    // Act
    const result = await run(home);
    // Assess
    expect(result).toMatchObject({ code: 0, stdout: 'Hello, world!\n' });
    expect(calls(proxy.requests)).toEqual(['POST /v1/tokens']);
    const after = cachedToken(home)!;
    expect(after.tokenId).not.toBe(before.tokenId);
    expect(after.installId).toBe(before.installId);
    expect(await batchesReach(batchesBefore + 1)).toBe(true);
  });
});
