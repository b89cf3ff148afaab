import type { MintRequest } from '../../../functions/core/contract';
import { sink, useFixture } from './testing/fixture';

describe('Method: logfireOptions', () => {
  const f = useFixture();

  it('gives configure() a token function, the ingest base URL and the resource attributes', async () => {
    const client = f.client({ env: { GITHUB_ACTIONS: 'true' }, platform: 'linux-x64' });

    const options = await client.logfireOptions();

    const installId = (f.broker.calls[0]!.body as MintRequest).installId;
    expect(options).toEqual({
      serviceName: 'hello-cli',
      serviceVersion: '1.2.3',
      resourceAttributes: {
        'service.name': 'hello-cli',
        'service.version': '1.2.3',
        'logfire_broker.install_id': installId,
        'logfire_broker.platform': 'linux-x64',
        ci: 'github-actions',
      },
      sendToLogfire: true,
      token: expect.any(Function),
      advanced: { baseUrl: `${f.broker.url}/ingest` },
    });
    const token = options.token as () => Promise<string>;
    expect(await token()).toBe(f.broker.tokens.get('tok_1')?.writeToken);
    expect(await token()).toBe(f.broker.tokens.get('tok_1')?.writeToken);
    expect(f.broker.calls).toHaveLength(1); // re-read at each export, from memory
  });

  it('renews the token from the token function once it expired during a long run', async () => {
    const client = f.client();
    const token = (await client.logfireOptions()).token as () => Promise<string>;
    f.clock.now += f.broker.settings.ttlMs;

    expect(await token()).toBe(f.broker.tokens.get('tok_2')?.writeToken);
  });

  it('turns sending off when there is no token for this run', async () => {
    f.broker.settings.failStatus = 503;
    const options = await f.client().logfireOptions();

    expect(options).toMatchObject({ sendToLogfire: false, serviceName: 'hello-cli' });
    expect(options).not.toHaveProperty('token');
  });

  it('asks Logfire to print the spans in a dry run', async () => {
    const options = await f.client({ env: { HELLO_CLI_TELEMETRY_DEBUG: '1' } }).logfireOptions();
    expect(options).toMatchObject({ sendToLogfire: false, console: true });
  });
});

describe('Method: flush', () => {
  const f = useFixture();

  it('waits for a flush that finishes in time', async () => {
    let flushed = false;
    await f.client().flush(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      flushed = true;
    });
    expect(flushed).toBe(true);
  });

  it('gives up on a flush that never finishes after the budget', async () => {
    const stderr = sink();
    const started = performance.now();

    await f
      .client({ budgetMs: 200, stderr, env: { HELLO_CLI_TELEMETRY_DEBUG: 'live' } })
      .flush(() => new Promise(() => undefined));

    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(400);
    expect(stderr.text()).toContain('flush did not finish within 200 ms');
  });

  it('never throws, whether the flush throws or rejects', async () => {
    const client = f.client();
    await expect(client.flush(() => Promise.reject(new Error('export failed')))).resolves.toBeUndefined();
    await expect(
      client.flush(() => {
        throw new Error('sync failure');
      }),
    ).resolves.toBeUndefined();
  });
});
