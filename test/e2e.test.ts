/**
 * End to end: the real `npm start` process (a child process, functions/local/main.ts through tsx) driven
 * over HTTP the way a user's CLI and curl drive it. Each process start costs a few seconds, so the tests of
 * a describe share one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeartbeatReply, IssuedToken } from '../functions/core/contract';
import { apiKeyEnv, PUBLIC_API_DESCRIPTION, startFakeLogfire, type FakeLogfire } from './fakes/fakeLogfire';
import {
  LocalBrokerExited,
  logLines,
  startLocalBroker,
  stopAllLocalBrokers,
  type LocalBroker,
} from './support/localBroker';

jest.setTimeout(30_000);

/** Shaped like a real Logfire API key (`pylf_v1_us_` and 40 characters); only the fake Logfire knows it. */
const E2E_API_KEY = 'pylf_v1_us_' + 'E2eApiKeyForTheFakeLogfireServer01234567';

interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T = unknown>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(url, {
    method: init.method ?? 'POST',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Left as text: the assertion on it will show what came back.
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

const mintBody = (installId: string = randomUUID()) => ({
  installId,
  app: { name: 'e2e-cli', version: '1.4.0' },
  platform: 'linux-x64',
});

const mint = (broker: LocalBroker, headers: Record<string, string> = {}, installId?: string) =>
  call<IssuedToken>(`${broker.url}/v1/tokens`, { body: mintBody(installId), headers });

const heartbeat = (broker: LocalBroker, tokenId: string, secret: string) =>
  call<HeartbeatReply>(`${broker.url}/v1/tokens/${tokenId}/heartbeat`, {
    headers: { authorization: `Bearer ${secret}` },
  });

const refresh = (broker: LocalBroker, tokenId: string, secret: string) =>
  call<IssuedToken>(`${broker.url}/v1/tokens/${tokenId}/refresh`, {
    headers: { authorization: `Bearer ${secret}` },
  });

/** A small OTLP/JSON trace export: one resource with a service name, one span. */
const otlpTraces = (serviceName: string) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
      scopeSpans: [
        {
          scope: { name: 'e2e' },
          spans: [
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              name: 'cli run',
              kind: 1,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000001000000000',
            },
          ],
        },
      ],
    },
  ],
});

const sendTraces = (baseUrl: string, writeToken: string, serviceName = 'e2e-cli') =>
  call(`${baseUrl}/v1/traces`, { body: otlpTraces(serviceName), headers: { authorization: writeToken } });

afterAll(() => stopAllLocalBrokers());

/** Reuse detection at once: a spent secret presented again right after its refresh revokes the chain. */
const NO_REFRESH_GRACE = { BROKER_REFRESH_GRACE: '0s' };

describe('npm start with the built-in dev upstream', () => {
  let dataDir: string;
  let broker: LocalBroker;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'logfire-broker-e2e-dev-'));
    // No refresh grace: these tests present a spent secret right after its refresh to see reuse detection
    // (the grace itself is tested in functions/handlers/refresh.test.ts and test/secrets-in-logs.test.ts).
    broker = await startLocalBroker({ dataDir, env: NO_REFRESH_GRACE });
  });
  afterAll(async () => {
    await stopAllLocalBrokers();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints its URL and the upstream mode at start, and answers GET /health', async () => {
    // Act
    const health = await call(`${broker.url}/health`, { method: 'GET' });
    // Assess
    expect(broker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.output()).toContain(`logfire-broker listening on ${broker.url}`);
    expect(broker.output()).toContain(
      `mode: dev upstream (local write tokens; OTLP and /v1/info at ${broker.url})`,
    );
    // ... and no Node process warning (the AWS SDK's Node-version one is noise for users)
    expect(broker.output()).not.toMatch(/\(node:\d+\)/);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', mode: 'dev' } });
  });

  it('mints, heartbeats and refreshes; a spent client secret is refused and revokes the chain', async () => {
    // Act: mint
    const minted = await mint(broker);
    // Assess: the 201 body of DESIGN §3
    expect(minted.status).toBe(201);
    expect(minted.body).toEqual({
      tokenId: expect.stringMatching(/^tok_[A-Za-z0-9_-]{22}$/),
      writeToken: expect.stringMatching(/^dev_wt_/),
      clientSecret: expect.stringMatching(/^lfb_cs_/),
      expiresAt: expect.any(String),
      refreshAfter: expect.any(String),
      heartbeatIntervalSeconds: 21_600,
      ingest: { baseUrl: broker.url },
      settings: { telemetry: 'on', sampleRate: 1 },
    });
    const expiresIn = Date.parse(minted.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(14 * 86_400_000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(14 * 86_400_000);
    expect(Date.parse(minted.body.refreshAfter)).toBeLessThan(Date.parse(minted.body.expiresAt));
    const first = minted.body;

    // Act: heartbeat
    const beat = await heartbeat(broker, first.tokenId, first.clientSecret);
    // Assess
    expect(beat).toMatchObject({
      status: 200,
      body: { status: 'active', heartbeatIntervalSeconds: 21_600, expiresAt: first.expiresAt },
    });

    // Act: refresh
    const refreshed = await refresh(broker, first.tokenId, first.clientSecret);
    // Assess: a new token and a new secret; the old secret no longer works
    expect(refreshed.status).toBe(200);
    const second = refreshed.body;
    expect(second.tokenId).not.toBe(first.tokenId);
    expect(second.clientSecret).not.toBe(first.clientSecret);
    expect(second.writeToken).not.toBe(first.writeToken);
    expect((await heartbeat(broker, first.tokenId, first.clientSecret)).status).toBe(401);
    expect((await heartbeat(broker, second.tokenId, second.clientSecret)).body).toMatchObject({
      status: 'active',
    });

    // Act: the spent secret comes back
    const reused = await refresh(broker, first.tokenId, first.clientSecret);
    // Assess
    expect(reused).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(await heartbeat(broker, second.tokenId, second.clientSecret)).toMatchObject({
      status: 200,
      body: { status: 'revoked' },
    });
    expect((await refresh(broker, second.tokenId, second.clientSecret)).status).toBe(401);
  });

  it('accepts OTLP with the write token at the dev upstream, prints a batch summary, and refuses it once the chain is revoked', async () => {
    // Prepare
    const { body: token } = await mint(broker);
    // Act
    const sent = await sendTraces(token.ingest.baseUrl, token.writeToken, 'e2e-otlp-check');
    // Assess
    expect(sent.status).toBe(200);
    await broker.waitForOutput('e2e-otlp-check');
    const summaries = logLines(broker.output()).filter((line) => line.serviceName === 'e2e-otlp-check');
    expect(summaries).toEqual([
      expect.objectContaining({ message: 'dev upstream received traces', signal: 'traces', spans: 1 }),
    ]);

    // Act: revoke the chain through reuse detection
    const { body: next } = await refresh(broker, token.tokenId, token.clientSecret);
    expect((await sendTraces(next.ingest.baseUrl, next.writeToken)).status).toBe(200);
    expect((await refresh(broker, token.tokenId, token.clientSecret)).status).toBe(401);
    // Assess: neither write token of the chain is accepted any more
    expect(await sendTraces(token.ingest.baseUrl, token.writeToken)).toMatchObject({ status: 401 });
    expect(await sendTraces(next.ingest.baseUrl, next.writeToken)).toMatchObject({ status: 401 });
  });

  it('answers a retried mint with the same Idempotency-Key with the same token', async () => {
    // Prepare
    const installId = randomUUID();
    const key = randomUUID();
    // Act
    const first = await mint(broker, { 'idempotency-key': key }, installId);
    const again = await mint(broker, { 'idempotency-key': key }, installId);
    // Assess
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await heartbeat(broker, again.body.tokenId, again.body.clientSecret)).body).toMatchObject({
      status: 'active',
    });
  });

  it('stops on SIGTERM with exit code 0, and a restart on the same data folder loses nothing', async () => {
    // Prepare
    const { body: live } = await mint(broker);
    const { body: revoked } = await mint(broker);
    await refresh(broker, revoked.tokenId, revoked.clientSecret);
    await refresh(broker, revoked.tokenId, revoked.clientSecret); // reuse: the chain is revoked
    // Act
    const exitCode = await broker.stop('SIGTERM');
    // Assess
    expect(exitCode).toBe(0);
    expect(broker.output()).toContain('SIGTERM received, stopping');

    // Act
    broker = await startLocalBroker({ dataDir, env: NO_REFRESH_GRACE });
    // Assess: the live token is still live, its write token still accepted (the port may differ)
    expect(await heartbeat(broker, live.tokenId, live.clientSecret)).toMatchObject({
      status: 200,
      body: { status: 'active', expiresAt: live.expiresAt },
    });
    expect((await sendTraces(broker.url, live.writeToken)).status).toBe(200);
    // ... and the revoked one is still revoked
    expect((await sendTraces(broker.url, revoked.writeToken)).status).toBe(401);
  });

  it('stops cleanly on SIGINT (Ctrl-C) with exit code 0', async () => {
    // Act
    const exitCode = await broker.stop('SIGINT');
    // Assess
    expect(broker.output()).toContain('SIGINT received, stopping');
    expect(exitCode).toBe(0);
  });
});

describe('npm start with an invalid setting', () => {
  it('exits non-zero on a misspelled BROKER_ variable, naming it and the setting it is closest to', async () => {
    // Act: a typo that would otherwise leave the token lifetime at its default, unnoticed
    const error = await startLocalBroker({ env: { BROKER_TOKEN_TTLL: '1h' } }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    // Assess
    expect(error).toBeInstanceOf(LocalBrokerExited);
    const exited = error as LocalBrokerExited;
    expect(exited.exitCode).toBe(1);
    expect(exited.output).toContain(
      'configuration error: BROKER_TOKEN_TTLL: is not a setting of the broker (did you mean BROKER_TOKEN_TTL?)',
    );
    expect(exited.output).not.toContain('listening on');
  });

  it('exits non-zero with a message naming the variable', async () => {
    // Act
    const started = startLocalBroker({ env: { BROKER_TOKEN_TTL: 'forever' } });
    // Assess
    const error = await started.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(LocalBrokerExited);
    const exited = error as LocalBrokerExited;
    expect(exited.exitCode).not.toBe(0);
    expect(exited.exitCode).not.toBeNull();
    expect(exited.output).toContain('BROKER_TOKEN_TTL');
    expect(exited.output).toContain('forever');
    expect(exited.output).not.toContain('listening on');
  });
});

describe('npm start with a Logfire API key (against the fake Logfire)', () => {
  let logfire: FakeLogfire;
  let broker: LocalBroker;

  beforeAll(async () => {
    logfire = await startFakeLogfire({ apiKey: E2E_API_KEY });
    broker = await startLocalBroker({
      env: {
        ...apiKeyEnv(logfire, E2E_API_KEY),
        ...NO_REFRESH_GRACE,
      },
    });
  });
  afterAll(async () => {
    await stopAllLocalBrokers();
    await logfire?.close();
  });

  it('reports API-key mode at start', async () => {
    expect(broker.output()).toContain(`mode: Logfire upstream (api-key, ${logfire.baseUrl})`);
    expect(await call(`${broker.url}/health`, { method: 'GET' })).toMatchObject({
      status: 200,
      body: { status: 'ok', mode: 'api-key' },
    });
  });

  it('creates exactly one Logfire write token per mint, with the API key and an expiry', async () => {
    // Prepare
    const before = logfire.requests.length;
    // Act
    const minted = await mint(broker);
    // Assess
    expect(minted.status).toBe(201);
    const calls = logfire.requests.slice(before);
    expect(calls).toHaveLength(1);
    const [create] = calls;
    expect(create).toMatchObject({
      method: 'POST',
      path: `/api/v1/projects/${logfire.projectId}/write-tokens/`,
      status: 201,
      headers: expect.objectContaining({
        authorization: `Bearer ${E2E_API_KEY}`,
        'content-type': expect.stringMatching(/^application\/json/),
      }),
    });
    // Logfire's public create takes expires_at only, and names every such token "Created by Public API".
    expect(JSON.parse(create!.body)).toEqual({ expires_at: minted.body.expiresAt });
    const issued = logfire.issued.find((token) => token.token === minted.body.writeToken);
    expect(issued).toMatchObject({
      createdWith: 'api-key',
      expiresAt: minted.body.expiresAt,
      description: PUBLIC_API_DESCRIPTION,
    });
    expect(minted.body.ingest).toEqual({ baseUrl: logfire.baseUrl });
    expect((await sendTraces(minted.body.ingest.baseUrl, minted.body.writeToken)).status).toBe(200);
  });

  it('deletes the Logfire write tokens of a chain revoked by reuse detection', async () => {
    // Prepare
    const { body: first } = await mint(broker);
    const { body: second } = await refresh(broker, first.tokenId, first.clientSecret);
    const ids = [first.writeToken, second.writeToken].map(
      (token) => logfire.issued.find((issued) => issued.token === token)!.id,
    );
    expect(logfire.tokens.map((token) => token.id)).toEqual(expect.arrayContaining(ids));
    const before = logfire.requests.length;
    // Act
    const reused = await refresh(broker, first.tokenId, first.clientSecret);
    // Assess
    expect(reused.status).toBe(401);
    const deletes = logfire.requests.slice(before).filter((request) => request.method === 'DELETE');
    expect(deletes.map((request) => request.path).sort()).toEqual(
      ids.map((id) => `/api/v1/projects/${logfire.projectId}/write-tokens/${id}/`).sort(),
    );
    expect(deletes.every((request) => request.headers.authorization === `Bearer ${E2E_API_KEY}`)).toBe(true);
    expect(logfire.tokens.map((token) => token.id)).not.toEqual(expect.arrayContaining([ids[0]]));
    expect(logfire.tokens.map((token) => token.id)).not.toEqual(expect.arrayContaining([ids[1]]));
    expect((await sendTraces(logfire.baseUrl, second.writeToken)).status).toBe(401);
    expect((await heartbeat(broker, second.tokenId, second.clientSecret)).body).toMatchObject({
      status: 'revoked',
    });
  });

  it('serves no dev ingest: a JSON 404 at the root and at the former /dev-logfire path', async () => {
    // Prepare
    const { body: token } = await mint(broker);
    // Act
    const replies = await Promise.all([
      sendTraces(broker.url, token.writeToken),
      sendTraces(`${broker.url}/dev-logfire`, token.writeToken),
      call(`${broker.url}/v1/info`, { method: 'GET', headers: { authorization: token.writeToken } }),
    ]);
    // Assess
    for (const reply of replies) {
      expect(reply).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    }
  });

  // Last in this describe: when it fails, the process it shares is gone.
  it('keeps serving after a request for "//" (a JSON 4xx, not a crash)', async () => {
    // Act: `curl http://127.0.0.1:8787//` sends exactly this request line
    const odd = await call(`${broker.url}//`, { method: 'GET' }).catch((error: unknown) => ({
      status: 0,
      body: `no reply: ${String(error)}`,
    }));
    // Assess: the broker is still up, and it answered with a 4xx JSON error
    const running = await Promise.race([
      broker.exited.then((code) => `exited with code ${String(code)}`),
      new Promise((resolve) => setTimeout(() => resolve('running'), 300)),
    ]);
    expect(running).toBe('running');
    expect([400, 404]).toContain(odd.status);
    expect(odd.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    const health = await call(`${broker.url}/health`, { method: 'GET' }).catch(() => ({ status: 0 }));
    expect(health.status).toBe(200);
  });
});

describe('npm start with second-long lifecycle settings', () => {
  let broker: LocalBroker;
  beforeAll(async () => {
    broker = await startLocalBroker({
      env: { BROKER_SCHEDULE_INTERVAL: '1s', BROKER_ROTATE_AFTER: '2s', BROKER_ROTATION_GRACE: '1s' },
    });
  });
  afterAll(() => broker.stop());

  const waitFor = async (what: () => Promise<boolean>, ms = 10_000) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline;) {
      if (await what()) return true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return false;
  };

  it('rotates a token, then deletes its old write token once the grace has passed, all within seconds', async () => {
    // Prepare
    const first = (await mint(broker)).body;
    expect((await heartbeat(broker, first.tokenId, first.clientSecret)).body.status).toBe('active');
    // Act: the rotation job marks it due; the client refreshes as the heartbeat says
    expect(
      await waitFor(
        async () => (await heartbeat(broker, first.tokenId, first.clientSecret)).body.status === 'rotate',
      ),
    ).toBe(true);
    const second = (await refresh(broker, first.tokenId, first.clientSecret)).body;
    // Assess: the old write token works during the grace period, and is refused after the sweep
    expect((await sendTraces(first.ingest.baseUrl, first.writeToken)).status).toBe(200);
    expect(
      await waitFor(async () => (await sendTraces(first.ingest.baseUrl, first.writeToken)).status === 401),
    ).toBe(true);
    expect((await sendTraces(second.ingest.baseUrl, second.writeToken)).status).toBe(200);
    expect(broker.output()).toContain('jobs: rotation and sweep every 1s');
  });
});
