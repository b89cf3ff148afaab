import type { IssuedToken } from '../core/contract';
import { heartbeatEvent, mintEvent, refreshEvent } from '../../test/support/events';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { keepBusy } from '../../test/support/busy';

describe('POST /v1/tokens/{tokenId}/refresh', () => {
  let broker: TestBroker;
  let token: IssuedToken;
  const refresh = async (t: IssuedToken, sourceIp?: string) => {
    const result = await broker.handlers.refresh(refreshEvent(t.tokenId, t.clientSecret, sourceIp));
    return { status: result.statusCode, body: JSON.parse(result.body) as IssuedToken };
  };
  const heartbeatStatus = async (t: IssuedToken) => {
    const result = await broker.handlers.heartbeat(heartbeatEvent(t.tokenId, t.clientSecret));
    return result.statusCode === 200
      ? (JSON.parse(result.body) as { status: string }).status
      : result.statusCode;
  };

  beforeEach(async () => {
    broker = await startTestBroker();
    const minted = await broker.handlers.mint(
      mintEvent({
        installId: 'install-0001',
        app: { name: 'cli', version: '1.0.0' },
        metadata: { team: 'a' },
      }),
    );
    token = JSON.parse(minted.body) as IssuedToken;
  });
  afterEach(() => broker.close());

  it('issues a new write token and client secret, and the old secret stops working', async () => {
    const { status, body: next } = await refresh(token, '192.0.2.9');
    expect(status).toBe(200);
    expect(next.tokenId).not.toBe(token.tokenId);
    expect(next.clientSecret).not.toBe(token.clientSecret);
    expect(next.writeToken).not.toBe(token.writeToken);
    expect(await heartbeatStatus(next)).toBe('active');
    expect(await heartbeatStatus(token)).toBe(401);
    const [old, successor] = await Promise.all([
      broker.store.getToken(token.tokenId),
      broker.store.getToken(next.tokenId),
    ]);
    expect(old).toMatchObject({ status: 'refreshed', successorId: next.tokenId });
    // The successor keeps the identity and the chain, and records where the refresh came from.
    expect(successor).toMatchObject({
      chainId: token.tokenId,
      parentId: token.tokenId,
      installId: 'install-0001',
      metadata: { team: 'a' },
      sourceIp: '192.0.2.9',
    });
  });

  it('revokes the whole chain when a spent secret is presented again', async () => {
    const { body: second } = await refresh(token);
    const { body: third } = await refresh(second);
    const replay = await refresh(token);
    expect(replay.status).toBe(401);
    expect(await heartbeatStatus(third)).toBe('revoked');
    // Every upstream token of the chain is deleted at Logfire.
    expect(broker.logfire.tokens).toHaveLength(0);
    expect(broker.logs.some((l) => l.message.includes('spent client secret presented again'))).toBe(true);
    // The audit trail says what happened to whom, and from where the spent secret came.
    expect((await broker.audit.byToken(token.tokenId)).entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['token.reuse_detected', 'token.revoked', 'token.minted']),
    );
    const thirdEntries = (await broker.audit.byToken(third.tokenId)).entries;
    expect(thirdEntries.map((e) => e.action)).toEqual([
      'upstream.deleted',
      'token.revoked',
      'token.refreshed',
    ]);
    expect(thirdEntries[1]).toMatchObject({
      actor: 'system:reuse-detection',
      details: { upstreamStillValid: false },
    });
  });

  it('refuses to refresh a paused token with 403', async () => {
    await broker.store.pauseToken(token.tokenId, 'hold', broker.clock.now());
    const { status, body } = await refresh(token);
    expect(status).toBe(403);
    expect(body).toMatchObject({ error: { code: 'forbidden' } });
    expect(broker.logfire.issued).toHaveLength(1);
  });

  it('refuses a wrong secret without touching the chain', async () => {
    const { status } = await refresh({ ...token, clientSecret: 'lfb_cs_guess' });
    expect(status).toBe(401);
    expect(await heartbeatStatus(token)).toBe('active');
  });

  it('refuses a body with 400 before it looks at the secret, so the secret is not spent', async () => {
    // Act
    const refused = await broker.handlers.refresh({
      ...refreshEvent(token.tokenId, token.clientSecret),
      body: '{"installId":"install-0001"}',
    });
    // Assess
    expect(refused.statusCode).toBe(400);
    expect(broker.logfire.issued).toHaveLength(1);
    expect(await heartbeatStatus(token)).toBe('active');
    expect((await refresh(token)).status).toBe(200);
  });

  it('lets refused requests racing a real refresh neither spend the secret nor count as reuse, on a busy machine', async () => {
    // Prepare: the machine is kept busy for the whole race
    const busy = await keepBusy(20_000, 2);
    try {
      // Act: 30 refreshes with a body ({} or whitespace) race one without
      const withBody = Array.from({ length: 30 }, (_, i) =>
        broker.handlers.refresh({
          ...refreshEvent(token.tokenId, token.clientSecret),
          body: i % 2 ? '{}' : ' ',
        }),
      );
      const [refused, real] = await Promise.all([Promise.all(withBody), refresh(token)]);
      // Assess: only the real one counted; the chain was not revoked as a reuse
      expect(refused.map((reply) => reply.statusCode)).toEqual(Array(30).fill(400));
      expect(real.status).toBe(200);
      expect(await heartbeatStatus(real.body)).toBe('active');
      expect(broker.logfire.issued).toHaveLength(2);
    } finally {
      busy.stop();
    }
  });

  it('keeps the token usable when Logfire fails during the refresh', async () => {
    broker.logfire.failNext(3, 500);
    expect((await refresh(token)).status).toBe(503);
    expect(await heartbeatStatus(token)).toBe('active');
    expect((await refresh(token)).status).toBe(200);
  });

  it('gives every one of 10 concurrent refreshes with one secret the same successor, minted once', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(token)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const successors = new Set(results.map((r) => JSON.stringify(r.body)));
    expect(successors.size).toBe(1);
    const successor = results[0]!.body;
    expect(await heartbeatStatus(successor)).toBe('active');
    // One upstream token for the successor; the old one lives on for the rotation grace.
    expect(broker.logfire.issued).toHaveLength(2);
    expect((await broker.store.listByChain(token.tokenId, 10)).items.map((r) => r.status).sort()).toEqual([
      'active',
      'refreshed',
    ]);
  });

  it('answers a refresh whose reply was lost with the same successor, within the grace only', async () => {
    const { body: first } = await refresh(token);
    broker.clock.advance(29_000); // BROKER_REFRESH_GRACE is 30s
    const { status, body: again } = await refresh(token);
    expect(status).toBe(200);
    expect(again).toEqual(first);
    expect(await heartbeatStatus(first)).toBe('active');
    // After the grace the same secret is reuse: the chain is revoked.
    broker.clock.advance(2_000);
    expect((await refresh(token)).status).toBe(401);
    expect(await heartbeatStatus(first)).toBe('revoked');
  });

  it('keeps the successor sealed: the stored record reveals neither its write token nor its secret', async () => {
    const { body: next } = await refresh(token);
    const raw = JSON.stringify(await broker.store.getToken(token.tokenId));
    expect(raw).toContain('sealedSuccessor');
    for (const secret of [next.writeToken, next.clientSecret, next.clientSecret.slice(7)]) {
      expect(raw).not.toContain(secret);
    }
  });

  it('finishes a refresh that died holding its claim, instead of taking the retry for theft', async () => {
    // Prepare: a refresh claims the token and stores its successor, then its process dies before replying.
    const record = (await broker.store.getToken(token.tokenId))!;
    const abandonedId = 'tok_AbandonedSuccessor00000';
    await broker.store.claimForRefresh(token.tokenId, record.secretHash, broker.clock.now(), {
      successorId: abandonedId,
      leaseMs: 30_000,
    });
    const { issueToken } = await import('../core/issue');
    const abandoned = await issueToken(
      broker.deps,
      { installId: record.installId, appName: record.appName, appVersion: record.appVersion },
      { sourceIp: '192.0.2.1' },
      { chainId: record.chainId, parentId: token.tokenId, tokenId: abandonedId },
    );
    // Act: the client retries once the dead attempt's lease is over.
    broker.clock.advance(31_000);
    const { status, body: next } = await refresh(token);
    // Assess: a new successor, the abandoned one withdrawn (nobody holds its secret), no chain revocation.
    expect(status).toBe(200);
    expect(next.tokenId).not.toBe(abandonedId);
    expect(await heartbeatStatus(next)).toBe('active');
    expect(await broker.store.getToken(abandonedId)).toMatchObject({ status: 'revoked' });
    expect(broker.logfire.tokens.map((t) => t.token)).not.toContain(abandoned.reply.writeToken);
    expect(await broker.store.getToken(token.tokenId)).toMatchObject({
      status: 'refreshed',
      successorId: next.tokenId,
    });
  });

  it('lets a client retry a refresh that crashed before it stored anything', async () => {
    const record = (await broker.store.getToken(token.tokenId))!;
    await broker.store.claimForRefresh(token.tokenId, record.secretHash, broker.clock.now(), {
      successorId: 'tok_NeverStored000000000000',
      leaseMs: 30_000,
    });
    broker.clock.advance(31_000);
    const { status, body: next } = await refresh(token);
    expect(status).toBe(200);
    expect(await heartbeatStatus(next)).toBe('active');
    expect(
      broker.logs.some((l) => l.message.includes('reusing') || l.message.includes('revoking its chain')),
    ).toBe(false);
  });
});
