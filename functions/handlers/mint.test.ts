import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { countRequests } from '../../test/support/requestCounter';
import type { ErrorReply, IssuedToken } from '../core/contract';
import { mintEvent, refreshEvent } from '../../test/support/events';
import { startTestBroker, type TestBroker } from '../../test/support/broker';

const INSTALL = '3f0c9a62-6f7e-4f55-9d8e-1b1e0c1f2a3b';
const body = (installId = INSTALL) => ({
  installId,
  app: { name: '@acme/cli', version: '2.1.0' },
  platform: 'linux-x64',
});

describe('POST /v1/tokens', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startTestBroker();
  });
  afterEach(() => broker.close());

  it('mints a Logfire write token that expires with the broker token', async () => {
    // Act
    const result = await broker.handlers.mint(mintEvent(body()));
    // Assess
    expect(result.statusCode).toBe(201);
    const reply = JSON.parse(result.body) as IssuedToken;
    expect(reply).toEqual({
      tokenId: expect.stringMatching(/^tok_/),
      writeToken: broker.logfire.tokens[0]!.token,
      clientSecret: expect.stringMatching(/^lfb_cs_/),
      expiresAt: new Date(broker.clock.now() + 14 * 86_400_000).toISOString(),
      refreshAfter: new Date(broker.clock.now() + 7 * 86_400_000).toISOString(),
      heartbeatIntervalSeconds: 21_600,
      ingest: { baseUrl: broker.logfire.baseUrl },
      // No rule is stored: what every reply says then (functions/core/clientSettings.ts).
      settings: { telemetry: 'on', sampleRate: 1 },
    });
    const creates = broker.logfire.requests.filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(1);
    expect(JSON.parse(creates[0]!.body)).toMatchObject({ expires_at: reply.expiresAt });
    expect(result.headers?.['cache-control']).toBe('no-store');
  });

  it('records who got the token, from where, and never the token or the secret', async () => {
    const event = mintEvent(
      { ...body(), metadata: { ci: 'github' } },
      { 'user-agent': 'acme-cli/2.1.0 node/20' },
      '198.51.100.4',
    );
    const reply = JSON.parse((await broker.handlers.mint(event)).body) as IssuedToken;
    const { Item } = await broker.db.doc.send(
      new GetCommand({ TableName: broker.db.tableName, Key: { pk: `token#${reply.tokenId}`, sk: 'token' } }),
    );
    expect(Item).toMatchObject({
      installId: INSTALL,
      appName: '@acme/cli',
      appVersion: '2.1.0',
      platform: 'linux-x64',
      metadata: { ci: 'github' },
      sourceIp: '198.51.100.4',
      userAgent: 'acme-cli/2.1.0 node/20',
      status: 'active',
      upstreamId: broker.logfire.tokens[0]!.id,
    });
    const stored = JSON.stringify(Item);
    expect(stored).not.toContain(reply.writeToken);
    expect(stored).not.toContain(reply.clientSecret);
    expect(stored).not.toContain(reply.clientSecret.slice(7));
  });

  it('writes who got which token, when and from where to the audit trail, in the same request', async () => {
    await broker.handlers.mint(mintEvent(body('warm-up-install-0001'))); // reads the quota overrides (cached 30 s)
    const counter = countRequests(broker.db.client);
    const reply = JSON.parse(
      (await broker.handlers.mint(mintEvent(body(), {}, '198.51.100.4'))).body,
    ) as IssuedToken;
    // PutItem: the mint intent, before Logfire is called; BatchWriteItem: the record, its audit entry and
    // the intent's removal, together. (Quotas are off here; with them, four UpdateItems run beside the
    // intent: test/quotas.test.ts.)
    expect(counter.counts).toEqual({ PutItem: 1, BatchWriteItem: 1 });
    const { entries } = await broker.audit.byToken(reply.tokenId);
    expect(entries).toEqual([
      {
        at: broker.clock.now(),
        action: 'token.minted',
        actor: 'client',
        tokenId: reply.tokenId,
        installId: INSTALL,
        chainId: reply.tokenId,
        sourceIp: '198.51.100.4',
        details: {
          app: '@acme/cli@2.1.0',
          upstream: 'api-key',
          upstreamId: broker.logfire.tokens[1]!.id,
          // What Logfire's UI shows of the token: how an operator finds this install's token there.
          tokenPrefix: broker.logfire.tokens[1]!.tokenPrefix,
        },
      },
    ]);
    const { Items } = await broker.db.doc.send(new ScanCommand({ TableName: broker.db.auditTableName }));
    expect(JSON.stringify(Items)).not.toContain(reply.writeToken);
    expect(JSON.stringify(Items)).not.toContain(reply.clientSecret);
    expect(broker.logfire.tokens[1]!.token).toBe(reply.writeToken);
  });

  it('returns the same token for a retry with the same Idempotency-Key, calling Logfire once', async () => {
    const headers = { 'idempotency-key': '6b1c2f0e-8a4d-4c3b-9f1e-2d3c4b5a6978' };
    const first = await broker.handlers.mint(mintEvent(body(), headers));
    const second = await broker.handlers.mint(mintEvent(body(), headers));
    expect(second.statusCode).toBe(201);
    expect(JSON.parse(second.body)).toEqual(JSON.parse(first.body));
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(broker.logfire.issued).toHaveLength(1);
  });

  it('makes one upstream call for concurrent identical requests, and all get the same token', async () => {
    const headers = { 'idempotency-key': 'concurrent-0123456789abcdef' };
    const results = await Promise.all(
      Array.from({ length: 12 }, () => broker.handlers.mint(mintEvent(body(), headers))),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(12).fill(201));
    expect(new Set(results.map((r) => (JSON.parse(r.body) as IssuedToken).tokenId)).size).toBe(1);
    expect(broker.logfire.issued).toHaveLength(1);
  });

  it('mints anew once the idempotency window has passed, and for another install with the same key', async () => {
    const headers = { 'idempotency-key': 'window-0123456789abcdef' };
    const first = JSON.parse((await broker.handlers.mint(mintEvent(body(), headers))).body) as IssuedToken;
    const other = JSON.parse(
      (await broker.handlers.mint(mintEvent(body('another-install-1'), headers))).body,
    );
    broker.clock.advance(10 * 60_000 + 1);
    const later = JSON.parse((await broker.handlers.mint(mintEvent(body(), headers))).body) as IssuedToken;
    expect(other.tokenId).not.toBe(first.tokenId);
    expect(later.tokenId).not.toBe(first.tokenId);
    expect(broker.logfire.issued).toHaveLength(3);
  });

  it('answers 503 with Retry-After when Logfire stays unavailable, stores nothing, and lets a retry succeed', async () => {
    const headers = { 'idempotency-key': 'outage-0123456789abcdef' };
    broker.logfire.failNext(3, 503);
    const failed = await broker.handlers.mint(mintEvent(body(), headers));
    expect(failed.statusCode).toBe(503);
    expect(Number(failed.headers?.['retry-after'])).toBeGreaterThan(0);
    expect((JSON.parse(failed.body) as ErrorReply).error.code).toBe('upstream_unavailable');
    expect((await broker.store.listByInstall(INSTALL)).items).toHaveLength(0);

    const retried = await broker.handlers.mint(mintEvent(body(), headers));
    expect(retried.statusCode).toBe(201);
    expect((await broker.store.listByInstall(INSTALL)).items).toHaveLength(1);
  });

  it('deletes the upstream token again when its record cannot be stored, so no untracked token exists', async () => {
    broker.deps.store.createToken = () => Promise.reject(new Error('DynamoDB is down'));
    const result = await broker.handlers.mint(mintEvent(body()));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side.' },
    });
    expect(broker.logfire.issued).toHaveLength(1);
    expect(broker.logfire.tokens).toHaveLength(0);
    expect(broker.logfire.requests.map((r) => r.method)).toEqual(['POST', 'DELETE']);
  });

  it('refuses invalid input with a 400 that names the field, without calling Logfire', async () => {
    const result = await broker.handlers.mint(
      mintEvent({ installId: INSTALL, app: { name: 'cli', version: 3 } }),
    );
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'invalid_request', message: 'app.version: expected string' },
    });
    expect(broker.logfire.requests).toHaveLength(0);
  });
});

describe('POST /v1/tokens: the Content-Type it takes', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startTestBroker();
  });
  afterEach(() => broker.close());

  /** A valid mint whose Content-Type header is `type`, or absent when `type` is undefined. */
  const mintAs = (type: string | undefined, raw?: string) => {
    const event = { ...mintEvent(body()), ...(raw === undefined ? {} : { body: raw }) };
    const { 'content-type': _json, ...headers } = event.headers;
    return broker.handlers.mint({
      ...event,
      headers: type === undefined ? headers : { ...headers, 'content-type': type },
    });
  };

  it.each([
    ['text/plain, what a web page may POST anywhere without asking first', 'text/plain'],
    ['text/plain with a charset', 'text/plain;charset=UTF-8'],
    ['a form post', 'application/x-www-form-urlencoded'],
    ['a multipart form', 'multipart/form-data; boundary=----x'],
    ['no Content-Type', undefined],
    ['an empty Content-Type', ''],
    ['a vendor JSON type', 'application/vnd.api+json'],
    ['a lookalike', 'application/json5'],
    ['two types in one header', 'application/json, text/plain'],
    ['JSON declared in another charset', 'application/json; charset=iso-8859-1'],
  ])('answers 415 to %s, calling Logfire zero times and storing nothing', async (_what, type) => {
    // Act
    const result = await mintAs(type);
    // Assess
    expect({ status: result.statusCode, body: JSON.parse(result.body) as unknown }).toEqual({
      status: 415,
      body: {
        error: {
          code: 'unsupported_media_type',
          message: 'Send the body as JSON, with Content-Type: application/json.',
        },
      },
    });
    expect(broker.logfire.requests).toHaveLength(0);
    expect((await broker.store.listByInstall(INSTALL)).items).toHaveLength(0);
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON; Charset="UTF-8"',
    'application/json;charset=UTF-8',
    'application/json; charset=utf8',
    'application/json ; charset=utf-8 ',
    'application/json; foo=bar',
  ])('mints for Content-Type %j', async (type) => {
    expect((await mintAs(type)).statusCode).toBe(201);
  });

  it('reads the header whatever the case of its name', async () => {
    const { 'content-type': _json, ...headers } = mintEvent(body()).headers;
    const result = await broker.handlers.mint({
      ...mintEvent(body()),
      headers: { ...headers, 'Content-Type': 'application/json' },
    });
    expect(result.statusCode).toBe(201);
  });

  it('refuses an oversized body with 413 before looking at its type', async () => {
    const result = await mintAs('text/plain', 'x'.repeat(64 * 1024 + 1));
    expect(result.statusCode).toBe(413);
  });

  it('records the User-Agent without escapes or direction overrides, and at most 256 characters of it', async () => {
    // Prepare: a C1 CSI (an 8-bit terminal escape), a right-to-left override, and more than 256 emoji
    const agent = `evil/1.0 \u009b31m\u202e${'🚀'.repeat(300)}`;
    // Act
    const result = await broker.handlers.mint(mintEvent(body(), { 'user-agent': agent }));
    // Assess
    const { tokenId } = JSON.parse(result.body) as IssuedToken;
    const cleaned = `evil/1.0 \ufffd31m\ufffd`;
    expect((await broker.store.getToken(tokenId))?.userAgent).toBe(
      cleaned + '🚀'.repeat(256 - cleaned.length),
    );
  });
});

describe('POST /v1/tokens in user-token mode', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ mode: 'user-token' });
  });
  afterAll(() => broker.close());

  it('mints through the organization/project route with the raw user token', async () => {
    const result = await broker.handlers.mint(mintEvent(body()));
    expect(result.statusCode).toBe(201);
    expect(broker.logfire.requests).toHaveLength(1);
    expect(broker.logfire.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/organizations/fake-org/projects/fake-project/write-tokens/',
    });
    expect((JSON.parse(result.body) as IssuedToken).writeToken).toBe(broker.logfire.tokens[0]!.token);
  });

  it('records in the audit trail that a revoked token still works at Logfire until it expires', async () => {
    const first = JSON.parse(
      (await broker.handlers.mint(mintEvent(body('user-token-install')))).body,
    ) as IssuedToken;
    const second = await broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret));
    expect(second.statusCode).toBe(200);
    broker.clock.advance(31_000); // past BROKER_REFRESH_GRACE: the spent secret is now reuse
    const before = broker.logfire.requests.length;
    expect((await broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret))).statusCode).toBe(
      401,
    );
    // No delete exists in this mode: the reuse revocation makes no call to Logfire.
    expect(broker.logfire.requests).toHaveLength(before);
    const successor = (JSON.parse(second.body) as IssuedToken).tokenId;
    const { entries } = await broker.audit.byToken(successor);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'token.revoked',
          details: { upstreamStillValid: true, note: expect.stringMatching(/lives until its own expiry/) },
        }),
        expect.objectContaining({
          action: 'upstream.not_revocable',
          reason: expect.stringMatching(/own expiry/),
        }),
      ]),
    );
  });
});
