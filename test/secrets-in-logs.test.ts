/**
 * The broker's promise that no credential reaches a log line (README, "Security model"), checked on the
 * real local broker: a child process in API-key mode against the fake Logfire, every log level on, driven
 * through a full life (mint, replay, heartbeat, refresh, reuse detection, bad credentials) and through
 * Logfire failures, with all of its stdout and stderr kept. Run once with v1 credentials
 * (`pylf_v1_us_<secret>`) and once with v2 (`pylf_v2_us_<org-uuid>_<secret>`), key and write tokens alike.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IssuedToken } from '../functions/core/contract';
import { apiKeyEnv, startFakeLogfire, type FakeLogfire } from './fakes/fakeLogfire';
import { logLines, startLocalBroker, stopAllLocalBrokers, type LocalBroker } from './support/localBroker';

jest.setTimeout(30_000);

const ORG = '9d2e4f6a-1b3c-4d5e-8f7a-0b1c2d3e4f5a';

/** Shaped like real Logfire API keys (a public part and 40 characters); only the fake Logfire knows them. */
const API_KEYS = {
  v1: 'pylf_v1_us_' + 'SecretsTestApiKeyThatMustNeverBeLogged01',
  v2: `pylf_v2_us_${ORG}_` + 'SecretsTestV2KeyThatMustNeverBeLogged001',
} as const;

interface Exchange {
  what: string;
  status: number;
  text: string;
}

/**
 * Where any 12-character piece of a secret's random part shows up in `text`: catches a secret logged
 * whole, cut short, or inside a longer string, while a short public prefix (`pylf_v1_us_`, `lfb_cs_`) does not
 * count.
 */
function leaks(text: string, secret: string): string[] {
  const body = secret.replace(/^(pylf_v\d+_[a-z]+_([0-9a-f-]{36}_)?|lfb_cs_|dev_wt_)/, '');
  const found: string[] = [];
  for (let at = 0; at + 12 <= body.length; at++) {
    const piece = body.slice(at, at + 12);
    if (text.includes(piece)) found.push(piece);
  }
  return found;
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe.each(['v1', 'v2'] as const)("secrets in the local broker's output (%s credentials)", (format) => {
  const API_KEY = API_KEYS[format];
  let dataDir: string;
  let logfire: FakeLogfire;
  let broker: LocalBroker;
  let output = '';
  const exchanges: Exchange[] = [];
  const clientSecrets: string[] = [];
  const writeTokens: string[] = [];
  const idempotencyKeys: string[] = [];
  const tokenIds: string[] = [];

  async function call(what: string, path: string, headers: Record<string, string>, body?: unknown) {
    const response = await fetch(`${broker.url}${path}`, {
      method: 'POST',
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const exchange = { what, status: response.status, text: await response.text() };
    exchanges.push(exchange);
    return exchange;
  }

  const mintBody = {
    installId: randomUUID(),
    app: { name: 'secret-cli', version: '3.0.0' },
    platform: 'linux-x64',
  };
  const mint = async (what: string, key: string) => {
    idempotencyKeys.push(key);
    return call(what, '/v1/tokens', { 'idempotency-key': key, 'user-agent': 'secret-cli/3.0.0' }, mintBody);
  };
  const keep = (exchange: Exchange): IssuedToken => {
    expect(exchange.status).toBeLessThan(300);
    const token = JSON.parse(exchange.text) as IssuedToken;
    clientSecrets.push(token.clientSecret);
    writeTokens.push(token.writeToken);
    tokenIds.push(token.tokenId);
    return token;
  };
  const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

  beforeAll(async () => {
    // Prepare
    dataDir = mkdtempSync(join(tmpdir(), 'logfire-broker-secrets-'));
    logfire = await startFakeLogfire({ apiKey: API_KEY, writeTokenFormat: format });
    broker = await startLocalBroker({
      dataDir,
      env: {
        ...apiKeyEnv(logfire, API_KEY),
        BROKER_LOG_LEVEL: 'DEBUG',
        BROKER_UPSTREAM_RETRIES: '1',
        BROKER_UPSTREAM_TIMEOUT: '2s',
      },
    });

    // Act: a token's whole life
    const first = keep(await mint('mint', randomUUID()));
    expect((await mint('mint replayed', idempotencyKeys[0]!)).status).toBe(201);
    expect(
      (await call('heartbeat', `/v1/tokens/${first.tokenId}/heartbeat`, bearer(first.clientSecret))).status,
    ).toBe(200);
    const second = keep(
      await call('refresh', `/v1/tokens/${first.tokenId}/refresh`, bearer(first.clientSecret)),
    );
    // The same refresh again (its reply lost): the sealed successor is served, within the grace.
    expect(
      keep(await call('refresh retried', `/v1/tokens/${first.tokenId}/refresh`, bearer(first.clientSecret)))
        .tokenId,
    ).toBe(second.tokenId);
    const third = keep(
      await call('refresh again', `/v1/tokens/${second.tokenId}/refresh`, bearer(second.clientSecret)),
    );
    expect(
      (
        await call(
          'spent secret heartbeat',
          `/v1/tokens/${first.tokenId}/heartbeat`,
          bearer(first.clientSecret),
        )
      ).status,
    ).toBe(401);
    // Logfire refuses the first delete of the chain revocation, echoing the key it was sent.
    logfire.fault({ status: 401, body: { detail: `Invalid API key: ${API_KEY}` } });
    expect(
      (await call('reuse', `/v1/tokens/${first.tokenId}/refresh`, bearer(first.clientSecret))).status,
    ).toBe(401);
    expect(
      JSON.parse(
        (await call('revoked heartbeat', `/v1/tokens/${third.tokenId}/heartbeat`, bearer(third.clientSecret)))
          .text,
      ),
    ).toMatchObject({ status: 'revoked' });

    // Act: bad credentials
    expect(
      (
        await call(
          'junk secret',
          `/v1/tokens/${second.tokenId}/heartbeat`,
          bearer(`lfb_cs_${'x'.repeat(43)}`),
        )
      ).status,
    ).toBe(401);
    expect((await call('no secret', `/v1/tokens/${second.tokenId}/refresh`, {})).status).toBe(401);
    expect(
      (
        await call(
          'secret of another token',
          `/v1/tokens/${first.tokenId}/heartbeat`,
          bearer(second.clientSecret),
        )
      ).status,
    ).toBe(401);

    // Act: Logfire failing: 5xx until the broker gives up, then a refusal that echoes the key and the header
    logfire.failNext(2, 500);
    expect((await mint('mint, Logfire down', randomUUID())).status).toBe(503);
    logfire.fault({
      status: 401,
      body: { detail: `Invalid API key ${API_KEY}`, received: `Bearer ${API_KEY}` },
    });
    expect((await mint('mint, key refused', randomUUID())).status).toBe(503);
    logfire.fault({ status: 422, body: `unexpected input near "${API_KEY}"` });
    expect((await mint('mint, request refused', randomUUID())).status).toBe(503);
    // A token the broker does not hold as a secret of the call: only the shape-based redaction can catch it.
    logfire.fault({ status: 409, body: { detail: `token ${writeTokens[0]} is already in use` } });
    expect((await mint('mint, Logfire echoes a write token', randomUUID())).status).toBe(503);

    // A last good mint, so the broker is known to have recovered and logged after the failures.
    keep(await mint('mint after failures', randomUUID()));
    expect(await broker.stop('SIGTERM')).toBe(0);
    output = broker.output();
  });

  afterAll(async () => {
    await stopAllLocalBrokers();
    await logfire?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('logged the whole run, at every level (so silence cannot pass for safety)', () => {
    const messages = logLines(output).map((line) => line.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'token minted',
        'mint replayed',
        'token refreshed',
        'spent client secret presented again: revoking its chain',
        'token chain revoked',
        'Logfire write token created', // DEBUG
        'Logfire request failed; retrying', // WARN
        'Logfire unavailable; giving up',
        'Logfire refused a request', // ERROR
        'upstream delete failed; queued for retry',
      ]),
    );
    // The identifiers a reader needs are there: only the credentials are not.
    for (const tokenId of tokenIds) expect(output).toContain(tokenId);
    expect(output).toContain(mintBody.installId);
  });

  it('finds a secret planted in the output (so the checks below can fail)', () => {
    expect(leaks(`${output}\n{"detail":"${API_KEY.slice(-30, -14)}"}`, API_KEY)).not.toEqual([]);
    expect(leaks(`${output}${clientSecrets[1]!.slice(0, 20)}`, clientSecrets[1]!)).not.toEqual([]);
  });

  it('never logs the Logfire API key, even when Logfire echoes it back', () => {
    expect(leaks(output, API_KEY)).toEqual([]);
  });

  it('never logs a write token, including those only Logfire saw', () => {
    const all = new Set([...writeTokens, ...logfire.issued.map((token) => token.token)]);
    expect(all.size).toBeGreaterThanOrEqual(3);
    for (const token of all) expect({ token, leaked: leaks(output, token) }).toEqual({ token, leaked: [] });
  });

  it("names each write token by Logfire's token_prefix, for an operator to find it at Logfire", () => {
    for (const token of writeTokens) {
      const atLogfire = logfire.issued.find((issued) => issued.token === token)!;
      expect(output).toContain(`"tokenPrefix":"${atLogfire.tokenPrefix}"`);
    }
  });

  it('never logs a client secret, the spent one or the new one', () => {
    expect(clientSecrets.length).toBe(5);
    for (const secret of clientSecrets)
      expect({ secret, leaked: leaks(output, secret) }).toEqual({ secret, leaked: [] });
  });

  it('never logs an Idempotency-Key', () => {
    expect(idempotencyKeys.length).toBe(7);
    for (const key of idempotencyKeys)
      expect({ key, leaked: leaks(output, key) }).toEqual({ key, leaked: [] });
  });

  it('never sends the API key to a client, in an error reply or any other', () => {
    const errors = exchanges.filter((exchange) => exchange.status >= 400);
    expect(errors.map((exchange) => exchange.status)).toEqual(expect.arrayContaining([401, 503]));
    for (const exchange of exchanges) {
      expect({ what: exchange.what, leaked: leaks(exchange.text, API_KEY) }).toEqual({
        what: exchange.what,
        leaked: [],
      });
    }
    // The 503s still say what happened, for the operator to act on.
    const refused = exchanges.find((exchange) => exchange.what === 'mint, key refused')!;
    expect(JSON.parse(refused.text)).toMatchObject({
      error: { code: 'upstream_unavailable', message: expect.stringContaining('401') },
    });
  });

  it('keeps no write token, client secret or API key in its data folder either', () => {
    const files = filesUnder(dataDir);
    expect(files.length).toBeGreaterThan(0);
    const stored = files.map((file) => readFileSync(file).toString('latin1')).join('\n');
    expect(stored).toContain(tokenIds[0]); // the records are there, readable
    for (const secret of [API_KEY, ...writeTokens, ...clientSecrets]) {
      expect({ secret, leaked: leaks(stored, secret) }).toEqual({ secret, leaked: [] });
    }
  });
});
