import type { ErrorReply, HeartbeatReply, IssuedToken } from '../core/contract';
import { heartbeatEvent, mintEvent } from '../../test/support/events';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { countRequests } from '../../test/support/requestCounter';

const DAY = 86_400_000;

describe('POST /v1/tokens/{tokenId}/heartbeat', () => {
  let broker: TestBroker;
  let token: IssuedToken;
  const beat = async (tokenId = token.tokenId, secret: string | null = token.clientSecret) => {
    const result = await broker.handlers.heartbeat(heartbeatEvent(tokenId, secret ?? undefined));
    return { status: result.statusCode, body: JSON.parse(result.body) as HeartbeatReply & ErrorReply };
  };

  beforeEach(async () => {
    broker = await startTestBroker();
    const minted = await broker.handlers.mint(
      mintEvent({ installId: 'install-0001', app: { name: 'cli', version: '1.0.0' } }),
    );
    token = JSON.parse(minted.body) as IssuedToken;
  });
  afterEach(() => broker.close());

  it('answers active with the interval and expiry, in exactly one DynamoDB request', async () => {
    const counter = countRequests(broker.db.client);
    const { status, body } = await beat();
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'active',
      heartbeatIntervalSeconds: 21_600,
      expiresAt: token.expiresAt,
      settings: { telemetry: 'on', sampleRate: 1 },
    });
    expect(counter.total()).toBe(1);
  });

  it('records when the client was last seen', async () => {
    broker.clock.advance(3_600_000);
    await beat();
    expect((await broker.store.getToken(token.tokenId))?.lastHeartbeatAt).toBe(broker.clock.now());
  });

  it('answers rotate once the token is older than BROKER_ROTATE_AFTER', async () => {
    broker.clock.advance(7 * DAY);
    expect((await beat()).body.status).toBe('rotate');
  });

  it('answers paused while an operator holds the token, and active again after resume', async () => {
    await broker.store.pauseToken(token.tokenId, 'investigating', broker.clock.now());
    expect((await beat()).body.status).toBe('paused');
    await broker.store.resumeToken(token.tokenId, broker.clock.now());
    expect((await beat()).body.status).not.toBe('paused');
  });

  it('tells the owner of a revoked token that it is revoked', async () => {
    await broker.store.revokeToken(token.tokenId, 'test', broker.clock.now());
    expect(await beat()).toMatchObject({ status: 200, body: { status: 'revoked' } });
  });

  it('refuses an expired token', async () => {
    broker.clock.advance(14 * DAY + 1);
    expect((await beat()).status).toBe(401);
  });

  it('gives one identical 401 for a wrong secret, an unknown token, a malformed id and no credential', async () => {
    const replies = [
      await beat(token.tokenId, 'lfb_cs_wrong'),
      await beat('tok_AAAAAAAAAAAAAAAAAAAAAA', token.clientSecret),
      await beat('../../etc/passwd', token.clientSecret),
      await beat(token.tokenId, null),
    ];
    for (const reply of replies) {
      expect(reply).toEqual({
        status: 401,
        body: {
          error: { code: 'unauthorized', message: 'The credential is missing, unknown or no longer valid.' },
        },
      });
    }
  });

  it.each([
    ['a JSON object', '{"status":"active"}'],
    ['an empty JSON object', '{}'],
    ['only whitespace', ' \r\n'],
    ['one byte', 'x'],
  ])('refuses %s as a body with 400, and records no heartbeat', async (_what, raw) => {
    // Act
    broker.clock.advance(DAY);
    const result = await broker.handlers.heartbeat({
      ...heartbeatEvent(token.tokenId, token.clientSecret),
      body: raw,
    });
    // Assess
    expect({ status: result.statusCode, body: JSON.parse(result.body) as unknown }).toEqual({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'body: this route takes no body; send the request without one',
        },
      },
    });
    expect((await broker.store.getToken(token.tokenId))?.lastHeartbeatAt).toBeUndefined();
  });

  it('accepts an empty body, whatever Content-Type comes with it', async () => {
    const event = heartbeatEvent(token.tokenId, token.clientSecret);
    const result = await broker.handlers.heartbeat({
      ...event,
      headers: { ...event.headers, 'content-type': 'text/plain' },
      body: '',
    });
    expect(result.statusCode).toBe(200);
  });

  it('does not let a wrong secret keep a token alive', async () => {
    broker.clock.advance(DAY);
    await beat(token.tokenId, 'lfb_cs_wrong');
    expect((await broker.store.getToken(token.tokenId))?.lastHeartbeatAt).toBeUndefined();
  });
});
