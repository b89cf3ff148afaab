import { captureLog } from '../../../test/support/log';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../core/ports';
import { DEV_TOKENS_FILE, DevUpstream, type OtlpPost } from './dev';

const INGEST = 'http://127.0.0.1:8787/dev-logfire';
const DAY = 86_400_000;

/** An OTLP/JSON trace export with 3 spans over two scopes. */
const TRACES = Buffer.from(
  JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'mycli' } }] },
        scopeSpans: [{ spans: [{ name: 'a' }, { name: 'b' }] }, { spans: [{ name: 'c' }] }],
      },
    ],
  }),
);

describe('DevUpstream', () => {
  let dataDir: string;
  let now: number;
  const clock: Clock = { now: () => now };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'dev-upstream-'));
    now = Date.parse('2030-01-01T00:00:00Z');
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const post = (authorization: string | undefined, overrides: Partial<OtlpPost> = {}): OtlpPost => ({
    signal: 'traces',
    authorization,
    contentType: 'application/json',
    body: TRACES,
    ...overrides,
  });

  it('issues local write tokens with their own ids, and reports the ingest URL it was given', async () => {
    const dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: `${INGEST}/`, clock });

    const issued = await dev.createWriteToken({ description: 'install a', expiresAt: new Date(now + DAY) });

    expect(issued.token).toMatch(/^dev_wt_[A-Za-z0-9_-]{43}$/);
    expect(issued.upstreamId).toMatch(/^dev_[A-Za-z0-9_-]+$/);
    expect(dev.ingestBaseUrl).toBe(INGEST);
    expect(dev.kind).toBe('dev');
    expect(dev.canRevoke).toBe(true);
  });

  it('accepts OTLP with a live token and logs one summary line without the token', async () => {
    const { log, lines } = captureLog();
    const dev = new DevUpstream({ log, ingestBaseUrl: INGEST, clock });
    const { token, upstreamId } = await dev.createWriteToken({
      description: 'a',
      expiresAt: new Date(now + DAY),
    });

    const answer = dev.receiveOtlp(post(token, { contentType: 'application/json; charset=utf-8' }));

    expect(answer).toEqual({ status: 200, body: {} });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.attributes).toEqual({
      signal: 'traces',
      bytes: TRACES.length,
      contentType: 'application/json',
      upstreamId,
      spans: 3,
      serviceName: 'mycli',
    });
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('summarizes protobuf batches by size only', async () => {
    const { log, lines } = captureLog();
    const dev = new DevUpstream({ log, ingestBaseUrl: INGEST, clock });
    const { token } = await dev.createWriteToken({ description: 'a', expiresAt: new Date(now + DAY) });

    const answer = dev.receiveOtlp(
      post(token, { signal: 'logs', contentType: 'application/x-protobuf', body: Buffer.from([1, 2, 3]) }),
    );

    expect(answer.status).toBe(200);
    expect(lines[0]!.attributes).toMatchObject({
      signal: 'logs',
      bytes: 3,
      contentType: 'application/x-protobuf',
    });
    expect(lines[0]!.attributes).not.toHaveProperty('logRecords');
  });

  it('answers 401 like Logfire for a missing, unknown, deleted or expired token', async () => {
    const dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: INGEST, clock });
    const deleted = await dev.createWriteToken({ description: 'a', expiresAt: new Date(now + DAY) });
    const expiring = await dev.createWriteToken({ description: 'b', expiresAt: new Date(now + 1000) });
    await dev.deleteWriteToken(deleted.upstreamId!);
    now += 1000;

    for (const authorization of [undefined, 'dev_wt_unknown', deleted.token, expiring.token]) {
      expect(dev.receiveOtlp(post(authorization)).status).toBe(401);
    }
  });

  it('refuses content types OTLP/HTTP does not use, and JSON that does not parse', async () => {
    const dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: INGEST, clock });
    const { token } = await dev.createWriteToken({ description: 'a', expiresAt: new Date(now + DAY) });

    expect(dev.receiveOtlp(post(token, { contentType: 'text/plain' })).status).toBe(415);
    expect(dev.receiveOtlp(post(token, { body: Buffer.from('{nope') })).status).toBe(400);
  });

  it('counts deleting an unknown id as done', async () => {
    const dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: INGEST, clock });

    await expect(dev.deleteWriteToken('dev_unknown')).resolves.toBeUndefined();
  });

  it('keeps live tokens across a restart, in a 0600 file that holds no token', async () => {
    const first = new DevUpstream({ log: captureLog().log, ingestBaseUrl: INGEST, dataDir, clock });
    const kept = await first.createWriteToken({ description: 'kept', expiresAt: new Date(now + DAY) });
    const gone = await first.createWriteToken({ description: 'gone', expiresAt: new Date(now + DAY) });
    await first.deleteWriteToken(gone.upstreamId!);

    const second = new DevUpstream({ log: captureLog().log, ingestBaseUrl: INGEST, dataDir, clock });

    expect(second.receiveOtlp(post(kept.token)).status).toBe(200);
    expect(second.receiveOtlp(post(gone.token)).status).toBe(401);
    expect(second.liveTokenCount).toBe(1);
    const file = join(dataDir, DEV_TOKENS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(kept.token);
  });

  it('ends with the latest state when writes overlap', async () => {
    const dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: INGEST, dataDir, clock });

    const issued = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        dev.createWriteToken({ description: `t${i}`, expiresAt: new Date(now + DAY) }),
      ),
    );

    const reopened = new DevUpstream({ log: captureLog().log, ingestBaseUrl: INGEST, dataDir, clock });
    expect(reopened.liveTokenCount).toBe(10);
    expect(issued.every(({ token }) => reopened.receiveOtlp(post(token)).status === 200)).toBe(true);
  });

  it('starts empty, with a warning, when the token file is unreadable', () => {
    writeFileSync(join(dataDir, DEV_TOKENS_FILE), '{broken');
    const { log, lines } = captureLog();

    const dev = new DevUpstream({ log, ingestBaseUrl: INGEST, dataDir, clock });

    expect(dev.liveTokenCount).toBe(0);
    expect(lines[0]).toMatchObject({ level: 'warn' });
  });
});
