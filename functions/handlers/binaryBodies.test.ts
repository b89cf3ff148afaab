/**
 * In relay mode every media type is binary on API Gateway (infra/api.ts), so every Lambda gets its body
 * base64-encoded (`isBase64Encoded: true`): each handler must decode it, and the relay's size bound applies
 * to the decoded bytes. Events shaped as API Gateway sends them, through the real handlers.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { RELAY_MAX_BODY_BYTES } from '../core/relay';
import { apiEvent, heartbeatEvent } from '../../test/support/events';
import { startRelayBroker, type RelayBroker } from '../../test/support/relayBroker';

/** The event API Gateway sends for a binary media type: the body in base64. */
function binary(event: APIGatewayProxyEvent, body: Buffer): APIGatewayProxyEvent {
  return { ...event, body: body.toString('base64'), isBase64Encoded: true };
}

const relayEvent = (token: string, headers: Record<string, string> = {}) =>
  apiEvent({
    path: '/v1/traces',
    headers: { authorization: token, 'content-type': 'application/x-protobuf', ...headers },
  });

describe('Handlers: base64-encoded bodies (binary media types)', () => {
  let broker: RelayBroker;
  beforeAll(async () => {
    broker = await startRelayBroker({ env: { BROKER_RELAY_BYTES_PER_DAY: '1GB' } });
  });
  afterAll(() => broker?.close());

  it('mints from a base64-encoded JSON body, as from a plain one', async () => {
    const body = Buffer.from(
      JSON.stringify({ installId: 'binary-install-0001', app: { name: 'a', version: '1' } }),
    );

    const reply = await broker.handlers.mint(binary(apiEvent({ path: '/v1/tokens' }), body));

    expect(reply.statusCode).toBe(201);
  });

  it('forwards a base64-encoded gzip body to Logfire as the bytes the client sent', async () => {
    const { writeToken } = await broker.mint();
    const sent = gzipSync(randomBytes(2048));

    const reply = await broker.handlers.relay(
      binary(relayEvent(writeToken, { 'content-encoding': 'gzip' }), sent),
    );

    expect(reply.statusCode).toBe(200);
    expect(reply.isBase64Encoded).toBe(true);
    expect(broker.logfire.batches.at(-1)!.body.equals(sent)).toBe(true);
  });

  it('relays for a client whose User-Agent holds characters no HTTP header may carry', async () => {
    const { writeToken } = await broker.mint();
    const event = relayEvent(writeToken, { 'user-agent': 'snow-cli/1.0 ☃\u0007' });

    const reply = await broker.handlers.relay(binary(event, Buffer.from('spans')));

    expect(reply.statusCode).toBe(200);
    expect(broker.logfire.requests.at(-1)!.headers['user-agent']).toBe('snow-cli/1.0 logfire-broker');
  });

  it('takes a body of exactly the relay limit, and refuses one byte more with 413', async () => {
    const { writeToken } = await broker.mint();

    const atLimit = await broker.handlers.relay(
      binary(relayEvent(writeToken), Buffer.alloc(RELAY_MAX_BODY_BYTES, 7)),
    );
    const over = await broker.handlers.relay(
      binary(relayEvent(writeToken), Buffer.alloc(RELAY_MAX_BODY_BYTES + 1)),
    );

    expect(atLimit.statusCode).toBe(200);
    expect(broker.logfire.batches.at(-1)!.body).toHaveLength(RELAY_MAX_BODY_BYTES);
    expect(over.statusCode).toBe(413);
  });

  it('keeps the 64 KiB bound of the token routes on the decoded body', async () => {
    const big = Buffer.from(JSON.stringify({ installId: 'x'.repeat(70 * 1024) }));

    const reply = await broker.handlers.mint(binary(apiEvent({ path: '/v1/tokens' }), big));

    expect(reply.statusCode).toBe(413);
  });

  it('answers a refused export in the JSON error shape, not base64', async () => {
    const reply = await broker.handlers.relay(binary(relayEvent('lfb_rt_nope'), Buffer.from('x')));

    expect(reply.statusCode).toBe(401);
    expect(reply.isBase64Encoded).toBeFalsy();
    expect(JSON.parse(reply.body)).toEqual({ error: expect.objectContaining({ code: 'unauthorized' }) });
  });

  it('takes an empty base64 body as no body on heartbeat, and refuses a non-empty one', async () => {
    const { tokenId, clientSecret } = await broker.mint();
    const event = heartbeatEvent(tokenId, clientSecret);

    const empty = await broker.handlers.heartbeat(binary(event, Buffer.alloc(0)));
    const withBody = await broker.handlers.heartbeat(binary(event, Buffer.from('{}')));

    expect([empty.statusCode, withBody.statusCode]).toEqual([200, 400]);
  });
});
