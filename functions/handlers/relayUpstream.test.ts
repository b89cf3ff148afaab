/**
 * The ingest relay when Logfire is not the happy path, and with identity stamping: through the real local
 * server, the real handlers, dynalite and the fake Logfire.
 */
import { InvalidOtlp } from '../relay/stampIdentity';
import { startRelayBroker, type RelayBroker } from '../../test/support/relayBroker';

const MINUTE = 60_000;
/** Noon UTC, so no test crosses a minute by accident. */
const NOON = Date.parse('2031-06-15T12:00:00.000Z');

const errorOf = async (reply: Response) => ((await reply.json()) as { error: { code: string } }).error.code;

describe('Handler: relay, when Logfire refuses a pool token', () => {
  let broker: RelayBroker;
  beforeEach(async () => {
    broker = await startRelayBroker();
    broker.clock.time = NOON;
  });
  afterEach(() => broker?.close());

  it('sends the batch with the previous token, and replaces the refused current one', async () => {
    const { writeToken } = await broker.mint();
    const pool = broker.deps.relay!.pool;
    const rotated = await pool.rotate(await pool.open());
    await broker.deps.upstream.deleteWriteToken(rotated.current.upstreamId!); // e.g. deleted in Logfire's UI
    broker.clock.advance(5 * MINUTE);

    const reply = await broker.post('traces', writeToken, 'spans');
    const next = await broker.post('traces', writeToken, 'more spans');

    expect([reply.status, next.status]).toEqual([200, 200]);
    const [first, second] = broker.logfire.batches.slice(-2);
    expect(first!.token).toBe(rotated.previous!.token);
    const repaired = await pool.open();
    expect(repaired.version).toBe(rotated.version + 1);
    expect(second!.token).toBe(repaired.current.token);
  });

  it('answers 503 and repairs nothing when Logfire refuses a token made a moment ago (not active there yet)', async () => {
    const { writeToken } = await broker.mint();
    const pool = await broker.deps.relay!.pool.open();
    await broker.deps.upstream.deleteWriteToken(pool.current.upstreamId!);
    const created = broker.logfire.issued.length;

    const reply = await broker.post('traces', writeToken, 'spans');

    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('2');
    expect(broker.logfire.issued.length).toBe(created);
  });
});

describe('Handler: relay, when Logfire is slow', () => {
  let broker: RelayBroker;
  beforeAll(async () => {
    broker = await startRelayBroker({ env: { BROKER_UPSTREAM_TIMEOUT: '300ms' } });
  });
  afterAll(() => broker?.close());

  it('gives up after one attempt with 503 and Retry-After, never resending a batch Logfire may have taken', async () => {
    const { writeToken } = await broker.mint();
    await broker.post('traces', writeToken, 'warm');
    const before = broker.logfire.requests.length;
    broker.logfire.fault({ replyDelayMs: 1000 }); // Logfire ingests, but answers too late

    const started = performance.now();
    const reply = await broker.post('traces', writeToken, 'spans');

    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('2');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(broker.logfire.requests.length - before).toBe(1);
    expect(broker.logs.some((line) => line.attributes?.problem === 'no reply within 300 ms')).toBe(true);
  });
});

describe('Handler: relay, with identity stamping (BROKER_RELAY_STAMP_IDENTITY=1)', () => {
  let broker: RelayBroker;
  const calls: unknown[][] = [];
  beforeAll(async () => {
    broker = await startRelayBroker({ env: { BROKER_RELAY_STAMP_IDENTITY: '1' } });
    // A stand-in for functions/relay/stampIdentity.ts that shows what it was given (the real one runs in
    // test/relay-e2e.test.ts); it refuses as the real one does, with InvalidOtlp.
    broker.deps.relay!.stamp = (signal, body, identity) => {
      calls.push([signal, body, identity]);
      if (body.bytes.toString() === 'not otlp') {
        throw new InvalidOtlp('no resource in the batch');
      }
      return Buffer.concat([Buffer.from('stamped:'), body.bytes]);
    };
  });
  afterAll(() => broker?.close());

  it('forwards what the stamping made of the body, given the token identity', async () => {
    const { writeToken } = await broker.mint('stamped-install-0001');

    const reply = await broker.post('logs', writeToken, 'spans', { 'content-encoding': 'gzip' });

    expect(reply.status).toBe(200);
    expect(broker.logfire.batches.at(-1)!.body.toString()).toBe('stamped:spans');
    expect(calls.at(-1)).toEqual([
      'logs',
      { bytes: Buffer.from('spans'), contentType: 'application/x-protobuf', contentEncoding: 'gzip' },
      { installId: 'stamped-install-0001', serviceName: 'relay-cli', serviceVersion: '2.0.0' },
    ]);
  });

  it('answers 400 for a batch the stamping cannot read, forwarding nothing', async () => {
    const { writeToken } = await broker.mint();
    const sent = broker.logfire.batches.length;

    const reply = await broker.post('traces', writeToken, 'not otlp');

    expect(reply.status).toBe(400);
    expect(await errorOf(reply)).toBe('invalid_request');
    expect(broker.logfire.batches.length).toBe(sent);
  });
});
