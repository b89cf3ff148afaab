/**
 * The ingest relay through the real local server, the real handlers, dynalite and the fake Logfire: what an
 * OTLP exporter sees for each case of issue #9 point 3.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { RELAY_MAX_BODY_BYTES } from '../core/relay';
import { countRequests } from '../../test/support/requestCounter';
import { startRelayBroker, type RelayBroker } from '../../test/support/relayBroker';
import { refreshEvent } from '../../test/support/events';
import type { IssuedToken } from '../core/contract';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Noon UTC: a day's window ends in 12 hours, a minute's in exactly 60 s. */
const NOON = Date.parse('2031-06-15T12:00:00.000Z');

const errorOf = async (reply: Response) => ((await reply.json()) as { error: { code: string } }).error.code;

describe('Handler: relay', () => {
  let broker: RelayBroker;
  beforeAll(async () => {
    broker = await startRelayBroker({
      env: { BROKER_RELAY_REQUESTS_PER_MINUTE: '3', BROKER_RELAY_BYTES_PER_DAY: '1000' },
    });
  });
  afterAll(() => broker?.close());
  beforeEach(() => {
    broker.clock.time = NOON;
    broker.logfire.clearFaults();
  });

  it('hands out a relay token and the broker as the ingest base, and makes no Logfire call to mint', async () => {
    const before = broker.logfire.requests.length;

    const token = await broker.mint();

    expect(token.writeToken).toMatch(new RegExp(`^lfb_rt_${token.tokenId}\\.[A-Za-z0-9_-]{43}$`));
    expect(token.ingest.baseUrl).toBe(broker.url);
    expect(broker.logfire.requests.length).toBe(before);
    expect(broker.logfire.issued.some((issued) => issued.token === token.writeToken)).toBe(false);
  });

  it('forwards the body byte for byte, with its type and encoding, under a pooled Logfire token', async () => {
    const { writeToken } = await broker.mint();
    const body = gzipSync(randomBytes(300));

    const reply = await broker.post('logs', writeToken, body, { 'content-encoding': 'gzip' });

    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/x-protobuf');
    expect(Buffer.from(await reply.arrayBuffer())).toHaveLength(0);
    const batch = broker.logfire.batches.at(-1)!;
    expect(batch).toMatchObject({
      signal: 'logs',
      contentType: 'application/x-protobuf',
      contentEncoding: 'gzip',
    });
    expect(batch.body.equals(body)).toBe(true);
    expect(batch.token).toMatch(/^pylf_v1_us_/);
    expect(batch.token).not.toBe(writeToken);
  });

  it('costs one DynamoDB request per relayed batch once the pool is known', async () => {
    await broker.post('traces', (await broker.mint()).writeToken, 'reads the pool');
    const { writeToken } = await broker.mint();
    const requests = countRequests(broker.db.client);

    const replies = [];
    for (let i = 0; i < 3; i++) {
      requests.reset();
      replies.push((await broker.post('traces', writeToken, `batch ${i}`)).status);
      expect(requests.counts).toEqual({ UpdateItem: 1 });
    }

    expect(replies).toEqual([200, 200, 200]);
  });

  it('answers 429 with Retry-After at the requests-per-minute quota, and relays again the next minute', async () => {
    const { writeToken } = await broker.mint();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await broker.post('traces', writeToken, 'x')).status);
    const refused = await broker.post('metrics', writeToken, 'x');

    broker.clock.advance(MINUTE);
    const nextMinute = await broker.post('traces', writeToken, 'x');

    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await errorOf(refused)).toBe('quota_exceeded');
    expect(nextMinute.status).toBe(200);
  });

  it('lets a batch through while the day is under its bytes, counting it whole, then answers 429 until midnight', async () => {
    const { writeToken } = await broker.mint();
    const first = await broker.post('traces', writeToken, Buffer.alloc(999));
    const crossing = await broker.post('traces', writeToken, Buffer.alloc(500));
    broker.clock.advance(MINUTE); // a new minute does not lift a day's quota
    const over = await broker.post('traces', writeToken, Buffer.alloc(1));

    broker.clock.time = NOON + DAY / 2;
    const tomorrow = await broker.post('traces', writeToken, Buffer.alloc(1));

    expect([first.status, crossing.status, over.status, tomorrow.status]).toEqual([200, 200, 429, 200]);
    expect(over.headers.get('retry-after')).toBe(String(DAY / 2 / 1000 - 60));
  });

  it('answers 401 for a missing, malformed, unknown or revoked token, the same way each time', async () => {
    const { tokenId, writeToken } = await broker.mint();
    const unknown = writeToken.replace(/\.[^.]+$/, `.${'A'.repeat(43)}`);
    await broker.store.revokeToken(tokenId, 'test', broker.clock.now());
    const sent = broker.logfire.batches.length;

    const replies = await Promise.all(
      [undefined, 'pylf_v1_us_not-ours', 'lfb_rt_nonsense', unknown, writeToken].map((token) =>
        broker.post('traces', token, 'x'),
      ),
    );

    expect(replies.map((reply) => reply.status)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(await Promise.all(replies.map((reply) => reply.text()))).size).toBe(1);
    expect(broker.logfire.batches.length).toBe(sent);
  });

  it('answers 403 for a paused token, and relays again once it is resumed', async () => {
    const { tokenId, writeToken } = await broker.mint();
    await broker.store.pauseToken(tokenId, 'looking into it', broker.clock.now());

    const paused = await broker.post('traces', writeToken, 'x');
    await broker.store.resumeToken(tokenId, broker.clock.now());
    const resumed = await broker.post('traces', writeToken, 'x');

    expect(paused.status).toBe(403);
    expect(await errorOf(paused)).toBe('forbidden');
    expect(resumed.status).toBe(200);
  });

  it('keeps an old relay token working for the rotation grace after a refresh, and not after', async () => {
    const first = await broker.mint();
    const refresh = await broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret));
    const second = JSON.parse(refresh.body) as IssuedToken;

    const withinGrace = await broker.post('traces', first.writeToken, 'x');
    const successor = await broker.post('traces', second.writeToken, 'x');
    broker.clock.advance(broker.deps.settings.rotationGraceMs);
    const afterGrace = await broker.post('traces', first.writeToken, 'x');

    expect(second.writeToken).toMatch(/^lfb_rt_/);
    expect(second.writeToken).not.toBe(first.writeToken);
    expect([withinGrace.status, successor.status, afterGrace.status]).toEqual([200, 200, 401]);
  });

  it('refuses a body over the relay limit with 413, before the token is even looked at', async () => {
    const requests = countRequests(broker.db.client);

    const reply = await broker.post('traces', 'lfb_rt_whatever', Buffer.alloc(RELAY_MAX_BODY_BYTES + 1));

    expect(reply.status).toBe(413);
    expect(await errorOf(reply)).toBe('payload_too_large');
    expect(requests.total()).toBe(0);
  });

  it('refuses a media type or encoding OTLP/HTTP does not use with 415, charging nothing', async () => {
    const { writeToken } = await broker.mint();
    const requests = countRequests(broker.db.client);

    const text = await broker.post('traces', writeToken, 'x', { 'content-type': 'text/plain' });
    const brotli = await broker.post('traces', writeToken, 'x', { 'content-encoding': 'br' });

    expect([text.status, brotli.status]).toEqual([415, 415]);
    expect(requests.total()).toBe(0);
  });

  it("answers 503 with Logfire's Retry-After when Logfire is down, and sends the batch once", async () => {
    const { writeToken } = await broker.mint();
    await broker.post('traces', writeToken, 'warm');
    const before = broker.logfire.requests.length;
    broker.logfire.failNext(1, 503, { 'Retry-After': '7' });

    const reply = await broker.post('traces', writeToken, 'x');

    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('7');
    expect(await errorOf(reply)).toBe('upstream_unavailable');
    expect(broker.logfire.requests.length - before).toBe(1);
  });

  it('never sends a batch twice after a timeout or a dropped connection: 503, and the exporter retries', async () => {
    const { writeToken } = await broker.mint();
    await broker.post('traces', writeToken, 'warm');
    const before = broker.logfire.requests.length;
    broker.logfire.fault({ dropConnection: true });

    const dropped = await broker.post('traces', writeToken, 'x');

    expect(dropped.status).toBe(503);
    expect(Number(dropped.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(broker.logfire.requests.length - before).toBe(1);
  });

  it('never puts a relay token or a pooled Logfire token in a log line or an error reply', async () => {
    const { writeToken } = await broker.mint();
    const replies = [
      await broker.post('traces', writeToken, 'x'),
      await broker.post('traces', `${writeToken.slice(0, -2)}AA`, 'x'),
      await broker.post('traces', writeToken, 'x', { 'content-type': 'text/plain' }),
    ];
    broker.logfire.failNext(1, 500);
    replies.push(await broker.post('traces', writeToken, 'x'));
    const { current } = await broker.deps.relay!.pool.open();

    const written = JSON.stringify(broker.logs) + (await Promise.all(replies.map((r) => r.text()))).join();
    for (const secret of [writeToken.split('.')[1]!, current.token.slice('pylf_v1_us_'.length)]) {
      expect(written).not.toContain(secret);
    }
  });

  it('is 404 on a route of another signal', async () => {
    const { writeToken } = await broker.mint();

    const reply = await broker.post('profiles', writeToken, 'x');

    expect(reply.status).toBe(404);
  });
});
