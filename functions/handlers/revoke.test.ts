/**
 * `POST /v1/tokens/{tokenId}/revoke` (self-revoke) through the real handler, on dynalite and the fake
 * Logfire: the caller's whole chain is revoked and its Logfire tokens deleted; a wrong secret changes nothing.
 */
import type { ErrorReply, HeartbeatReply, IssuedToken } from '../core/contract';
import { LIVE_STATUSES } from '../core/model';
import { SELF_REVOKE_REASON } from '../core/selfRevoke';
import { heartbeatEvent, mintEvent, refreshEvent, revokeEvent } from '../../test/support/events';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { keepBusy } from '../../test/support/busy';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let installs = 0;
const body = () => ({
  installId: `revoke-install-${++installs}-0001`,
  app: { name: 'cli', version: '1.0.0' },
});

describe('POST /v1/tokens/{tokenId}/revoke', () => {
  let broker: TestBroker;
  const parse = <T>(reply: { statusCode: number; body: string }) => ({
    status: reply.statusCode,
    body: JSON.parse(reply.body) as T,
  });
  const mint = async () => parse<IssuedToken>(await broker.handlers.mint(mintEvent(body()))).body;
  const refresh = async (token: IssuedToken) =>
    parse<IssuedToken & ErrorReply>(
      await broker.handlers.refresh(refreshEvent(token.tokenId, token.clientSecret)),
    );
  const revoke = async (tokenId: string, secret: string) =>
    parse<{ status: string } & ErrorReply>(
      await broker.handlers.revoke(revokeEvent(tokenId, secret, '198.51.100.7')),
    );
  const beat = async (token: IssuedToken) =>
    parse<HeartbeatReply>(await broker.handlers.heartbeat(heartbeatEvent(token.tokenId, token.clientSecret)));
  const chain = async (token: IssuedToken) => (await broker.store.listByChain(token.tokenId)).items;

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker.close());

  it('revokes the whole chain, deletes its Logfire tokens, and audits it as the client from its address', async () => {
    // Prepare: a chain of three (two refreshes)
    const first = await mint();
    const second = (await refresh(first)).body;
    const third = (await refresh(second)).body;
    const upstreamIds = (await chain(first)).map((record) => record.upstreamId);
    // Act
    const reply = await revoke(third.tokenId, third.clientSecret);
    // Assess
    expect(reply).toEqual({ status: 200, body: { status: 'revoked' } });
    expect((await chain(first)).map((record) => record.status)).toEqual(['revoked', 'revoked', 'revoked']);
    expect(await beat(third)).toMatchObject({ status: 200, body: { status: 'revoked' } });
    const alive = new Set(broker.logfire.tokens.map((token) => token.id));
    expect(upstreamIds.filter((id) => alive.has(id!))).toEqual([]);
    const { entries } = await broker.audit.byToken(third.tokenId);
    expect(entries.filter((entry) => entry.action === 'token.revoked')).toEqual([
      expect.objectContaining({ actor: 'client', reason: SELF_REVOKE_REASON, sourceIp: '198.51.100.7' }),
    ]);
    expect(entries.some((entry) => entry.action === 'token.reuse_detected')).toBe(false);
  });

  it('answers 200 again to a second call with the same secret, and to the spent secret of the chain', async () => {
    const first = await mint();
    const second = (await refresh(first)).body;
    expect((await revoke(second.tokenId, second.clientSecret)).status).toBe(200);
    const deletes = broker.logfire.requests.filter((r) => r.method === 'DELETE').length;
    expect(await revoke(second.tokenId, second.clientSecret)).toEqual({
      status: 200,
      body: { status: 'revoked' },
    });
    expect((await revoke(first.tokenId, first.clientSecret)).status).toBe(200);
    expect(broker.logfire.requests.filter((r) => r.method === 'DELETE')).toHaveLength(deletes);
  });

  it('refuses a wrong secret, an unknown token and a malformed id with one 401, and changes nothing', async () => {
    // Prepare
    const token = await mint();
    const before = await broker.store.getToken(token.tokenId);
    const requests = broker.logfire.requests.length;
    // Act
    const replies = [
      await revoke(token.tokenId, 'lfb_cs_wrong'),
      await revoke('tok_AAAAAAAAAAAAAAAAAAAAAA', token.clientSecret),
      await revoke('../../etc/passwd', token.clientSecret),
      parse<ErrorReply>(await broker.handlers.revoke(revokeEvent(token.tokenId, undefined))),
    ];
    // Assess
    for (const reply of replies) {
      expect(reply).toEqual({
        status: 401,
        body: {
          error: { code: 'unauthorized', message: 'The credential is missing, unknown or no longer valid.' },
        },
      });
    }
    expect(await broker.store.getToken(token.tokenId)).toEqual(before);
    expect(broker.logfire.requests).toHaveLength(requests);
    expect((await broker.audit.byToken(token.tokenId)).entries.map((entry) => entry.action)).toEqual([
      'token.minted',
    ]);
    expect(await beat(token)).toMatchObject({ status: 200, body: { status: 'active' } });
  });

  it('leaves the chain revoked when self-revokes and refreshes of it race, on a busy machine', async () => {
    const busy = await keepBusy(45_000);
    let won = 0;
    try {
      // How long one refresh takes on this busy machine (measured again every round: the load varies).
      let started = performance.now();
      await refresh(await mint());
      let refreshMs = performance.now() - started;
      for (let round = 0; round < 8; round++) {
        // Prepare
        const token = await mint();
        // Act: refreshes and self-revokes with the same secret, overlapping. One revoke starts at a random
        // moment: in even rounds within one refresh's time (mid-refresh, or not), in odd rounds after the
        // first refresh has answered, so those rounds always hand out a successor to race. The others start
        // as soon as the first refresh has answered, while the duplicate refreshes are still in flight.
        started = performance.now();
        const refreshes = Array.from({ length: 7 }, () => refresh(token));
        const firstAnswer = Promise.race(refreshes);
        const revokeWhen = (start: Promise<unknown>) =>
          start.then(() => revoke(token.tokenId, token.clientSecret));
        const delayMs = Math.random() * refreshMs;
        const revokes = [
          revokeWhen(round % 2 === 0 ? sleep(delayMs) : firstAnswer.then(() => sleep(delayMs))),
          revokeWhen(firstAnswer),
          revokeWhen(firstAnswer),
        ];
        void firstAnswer.then(() => (refreshMs = performance.now() - started));
        const results = await Promise.all([...refreshes, ...revokes]);
        // A refresh that won handed out a successor: the revokes must have reached it too.
        const successors = results
          .filter((r) => r.status === 200 && 'tokenId' in r.body)
          .map((r) => r.body as IssuedToken);
        won += successors.length;
        // Assess: every revoke answered 200, every refresh 200 or 401 (never a 5xx), nothing of the chain lives
        results.forEach((result, i) => {
          if (i >= refreshes.length) expect(result.status).toBe(200);
          else expect([200, 401, 409]).toContain(result.status);
        });
        const members = await chain(token);
        expect(members.filter((record) => [...LIVE_STATUSES, 'refreshing'].includes(record.status))).toEqual(
          [],
        );
        for (const successor of successors) expect((await beat(successor)).body.status).toBe('revoked');
        const alive = new Set(broker.logfire.tokens.map((t) => t.id));
        expect(members.filter((record) => record.upstreamId && alive.has(record.upstreamId))).toEqual([]);
      }
      // The race was real: refreshes got successors out before the revokes reached the chain.
      expect(won).toBeGreaterThan(0);
    } finally {
      await busy.stop();
    }
  });
});
