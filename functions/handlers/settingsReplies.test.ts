/**
 * The remote client settings as clients receive them: in the mint, refresh and heartbeat replies, through the
 * real handlers on dynalite, and at no extra DynamoDB request per call (the rules are read at most every 30 s
 * per process, beside the request's own write).
 */
import type { HeartbeatReply, IssuedToken } from '../core/contract';
import { forgetClientSettings, replaceClientSettings } from '../core/clientSettings';
import { heartbeatEvent, mintEvent, refreshEvent } from '../../test/support/events';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { countRequests } from '../../test/support/requestCounter';

const ADMIN = { actor: 'admin:arn:aws:iam::123456789012:user/ops' } as const;
const mintBody = (version: string, client?: { name: string; version: string }) => ({
  installId: `settings-install-${version}`,
  app: { name: 'mycli', version },
  ...(client ? { client } : {}),
});
const CLIENT = { name: 'logfire-broker-client', version: '0.2.0' };

describe('Remote client settings in the replies', () => {
  let broker: TestBroker;
  const mint = async (body: unknown) => {
    const result = await broker.handlers.mint(mintEvent(body));
    return { status: result.statusCode, body: JSON.parse(result.body) as IssuedToken };
  };
  const beat = async (token: IssuedToken) =>
    JSON.parse(
      (await broker.handlers.heartbeat(heartbeatEvent(token.tokenId, token.clientSecret))).body,
    ) as HeartbeatReply;

  beforeAll(async () => {
    broker = await startTestBroker();
    await replaceClientSettings(
      broker.deps,
      {
        rules: [
          { app: 'mycli', versions: '<1.0.0', telemetry: 'off' },
          { app: 'mycli', sampleRate: 0.25, minClientVersion: '0.2.0' },
        ],
      },
      ADMIN,
    );
  });
  afterAll(() => broker.close());

  it('tells a mint of a killed version that telemetry is off, and a current one its sample rate', async () => {
    expect((await mint(mintBody('0.9.0', CLIENT))).body.settings).toEqual({
      telemetry: 'off',
      sampleRate: 0,
      reason: 'kill_switch',
    });
    expect((await mint(mintBody('1.0.0', CLIENT))).body.settings).toEqual({
      telemetry: 'on',
      sampleRate: 0.25,
    });
  });

  it('judges minClientVersion at heartbeat and refresh from the client the mint named, without a body', async () => {
    // Prepare
    const old = (await mint(mintBody('1.1.0', { ...CLIENT, version: '0.1.9' }))).body;
    const current = (await mint(mintBody('1.2.0', CLIENT))).body;
    // Act
    const [oldBeat, currentBeat] = [await beat(old), await beat(current)];
    const refreshed = JSON.parse(
      (await broker.handlers.refresh(refreshEvent(old.tokenId, old.clientSecret))).body,
    ) as IssuedToken;
    // Assess
    const outdated = {
      telemetry: 'off',
      sampleRate: 0,
      reason: 'client_outdated',
      minClientVersion: '0.2.0',
    };
    expect(old.settings).toEqual(outdated);
    expect(oldBeat.settings).toEqual(outdated);
    expect(refreshed.settings).toEqual(outdated);
    expect(await beat(refreshed)).toMatchObject({ status: 'active', settings: outdated });
    expect(currentBeat.settings).toEqual({ telemetry: 'on', sampleRate: 0.25 });
    expect(await broker.store.getToken(current.tokenId)).toMatchObject({
      clientName: 'logfire-broker-client',
      clientVersion: '0.2.0',
    });
  });

  it('refuses a malformed client with a 400 that names the field, and mints nothing', async () => {
    const before = broker.logfire.tokens.length;
    const reply = await mint(mintBody('1.0.0', { name: 'logfire-broker-client', version: '0.1.0 beta' }));
    expect(reply).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(JSON.stringify(reply.body)).toContain('client.version');
    expect(broker.logfire.tokens).toHaveLength(before);
  });

  it('adds no DynamoDB request to mint or heartbeat: one read of the rules per process and 30 s', async () => {
    // Prepare: a warm process, as the mint and heartbeat tests count it
    const token = (await mint(mintBody('1.3.0', CLIENT))).body;
    const requests = countRequests(broker.db.client);
    // Act / Assess: warm, the calls cost what they cost before the settings existed
    await beat(token);
    expect(requests.counts).toEqual({ UpdateItem: 1 });
    requests.reset();
    await mint(mintBody('1.3.1', CLIENT));
    expect(requests.counts).toEqual({ PutItem: 1, BatchWriteItem: 1 });
    // A cold process reads the rules once (beside the write), then never again within 30 s.
    forgetClientSettings(broker.store);
    requests.reset();
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await beat(token));
    expect(requests.counts).toEqual({ UpdateItem: 5, GetItem: 1 });
    expect(replies.every((reply) => reply.settings?.sampleRate === 0.25)).toBe(true);
  });
});
