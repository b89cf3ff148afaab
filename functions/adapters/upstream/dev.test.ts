import { captureLog } from '../../../test/support/log';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Clock } from '../../core/ports';
import { DEV_TOKENS_FILE, DevUpstream, MAX_OTLP_BYTES, type OtlpPost } from './dev';

const INGEST = 'http://127.0.0.1:8787';
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

  /** A post whose body is `body`; `reads()` says whether the upstream asked for it. */
  const post = (authorization: string | undefined, overrides: Partial<OtlpPost> & { body?: Buffer } = {}) => {
    let reads = 0;
    const { body = TRACES, ...rest } = overrides;
    const request: OtlpPost = {
      signal: 'traces',
      authorization,
      contentType: 'application/json',
      readBody: async () => {
        reads++;
        return body;
      },
      ...rest,
    };
    return Object.assign(request, { reads: () => reads });
  };
  const statusOf = (answer: Promise<unknown>) =>
    answer.then(
      () => 200,
      (error: { status?: number }) => error.status ?? 500,
    );
  const newUpstream = (options: { log?: ReturnType<typeof captureLog>['log']; dataDir?: string } = {}) =>
    new DevUpstream({ log: options.log ?? captureLog().log, ingestBaseUrl: INGEST, clock, ...options });
  const mint = (dev: DevUpstream, ms = DAY) => dev.createWriteToken({ expiresAt: new Date(now + ms) });

  it('issues local write tokens with their own ids and prefixes, and reports the ingest URL it was given', async () => {
    const dev = new DevUpstream({ log: captureLog().log, ingestBaseUrl: `${INGEST}/`, clock });

    const issued = await mint(dev);

    expect(issued.token).toMatch(/^dev_wt_[A-Za-z0-9_-]{43}$/);
    expect(issued.upstreamId).toMatch(/^dev_[A-Za-z0-9_-]+$/);
    expect(issued.tokenPrefix).toBe(issued.token.slice(0, 15));
    expect(dev.ingestBaseUrl).toBe(INGEST);
    expect(dev.kind).toBe('dev');
    expect(dev.canRevoke).toBe(true);
  });

  it('lists its live tokens as Logfire lists write tokens', async () => {
    const dev = newUpstream();
    const kept = await mint(dev);
    const deleted = await mint(dev);
    await mint(dev, 1000);
    await dev.deleteWriteToken(deleted.upstreamId!);
    const createdAt = new Date(now).toISOString();
    now += 1000;

    expect(await dev.listWriteTokens()).toEqual([
      {
        upstreamId: kept.upstreamId,
        description: 'Created by Public API',
        createdAt,
        expiresAt: new Date(Date.parse(createdAt) + DAY).toISOString(),
        tokenPrefix: kept.tokenPrefix,
      },
    ]);
  });

  it('accepts OTLP/JSON with a live token, answers {} in JSON, and logs one summary line without the token', async () => {
    const { log, lines } = captureLog();
    const dev = newUpstream({ log });
    const { token, upstreamId } = await mint(dev);

    const answer = await dev.receiveOtlp(post(token, { contentType: 'application/json; charset=utf-8' }));

    expect(answer).toEqual({ contentType: 'application/json', body: '{}' });
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

  it('decodes a gzip body (as the Python SDK sends) to count its items', async () => {
    const { log, lines } = captureLog();
    const dev = newUpstream({ log });
    const { token } = await mint(dev);
    const zipped = gzipSync(TRACES);

    await dev.receiveOtlp(post(token, { body: zipped, contentEncoding: 'gzip' }));

    expect(lines[0]!.attributes).toMatchObject({
      bytes: zipped.length,
      encoding: 'gzip',
      decodedBytes: TRACES.length,
      spans: 3,
      serviceName: 'mycli',
    });
  });

  it('answers a protobuf export with an empty protobuf message', async () => {
    const { log, lines } = captureLog();
    const dev = newUpstream({ log });
    const { token } = await mint(dev);

    // An ExportLogsServiceRequest with one ResourceLogs holding no scopes: field 1, length 0.
    const answer = await dev.receiveOtlp(
      post(token, { signal: 'logs', contentType: 'application/x-protobuf', body: Buffer.from([0x0a, 0x00]) }),
    );

    expect(answer).toEqual({ contentType: 'application/x-protobuf', body: '' });
    expect(lines[0]!.attributes).toMatchObject({ signal: 'logs', bytes: 2, logRecords: 0 });
  });

  it('answers 401 like Logfire for a missing, unknown, deleted or expired token, without reading the body', async () => {
    const dev = newUpstream();
    const deleted = await mint(dev);
    const expiring = await mint(dev, 1000);
    await dev.deleteWriteToken(deleted.upstreamId!);
    now += 1000;

    for (const authorization of [undefined, '', 'dev_wt_unknown', deleted.token, expiring.token]) {
      const request = post(authorization);
      expect(await statusOf(dev.receiveOtlp(request))).toBe(401);
      expect(request.reads()).toBe(0);
      expect(() => dev.projectInfo(authorization)).toThrow(expect.objectContaining({ status: 401 }));
    }
  });

  it('answers GET /v1/info for a live token with the project name and URL, as Logfire does', async () => {
    const dev = newUpstream();
    const { token } = await mint(dev);

    expect(dev.projectInfo(token)).toEqual({ project_name: 'dev-upstream', project_url: INGEST });
  });

  it('refuses content types and encodings OTLP/HTTP does not use (unread), and bodies that do not decode', async () => {
    const dev = newUpstream();
    const { token } = await mint(dev);
    const protobuf = { contentType: 'application/x-protobuf' };

    const textPlain = post(token, { contentType: 'text/plain' });
    expect(await statusOf(dev.receiveOtlp(textPlain))).toBe(415);
    const brotli = post(token, { contentEncoding: 'br' });
    expect(await statusOf(dev.receiveOtlp(brotli))).toBe(415);
    expect(textPlain.reads() + brotli.reads()).toBe(0);
    expect(await statusOf(dev.receiveOtlp(post(token, { body: Buffer.from('{nope') })))).toBe(400);
    const notGzip = post(token, { body: TRACES, contentEncoding: 'gzip' });
    expect(await statusOf(dev.receiveOtlp(notGzip))).toBe(400);
    // A length-delimited field 1 that claims 16 bytes but has 1.
    const truncated = post(token, { ...protobuf, body: Buffer.from([0x0a, 0x10, 0x01]) });
    expect(await statusOf(dev.receiveOtlp(truncated))).toBe(400);
  });

  it('refuses with 413 a small gzip body that inflates past the size limit', async () => {
    const dev = newUpstream();
    const { token } = await mint(dev);
    const bomb = gzipSync(Buffer.alloc(MAX_OTLP_BYTES + 1, 0x20));

    expect(bomb.length).toBeLessThan(100_000);
    expect(await statusOf(dev.receiveOtlp(post(token, { body: bomb, contentEncoding: 'gzip' })))).toBe(413);
  });

  it('counts deleting an unknown id as done', async () => {
    await expect(newUpstream().deleteWriteToken('dev_unknown')).resolves.toBeUndefined();
  });

  it('keeps live tokens across a restart, in a 0600 file that holds no token', async () => {
    const first = newUpstream({ dataDir });
    const kept = await mint(first);
    const gone = await mint(first);
    await first.deleteWriteToken(gone.upstreamId!);

    const second = newUpstream({ dataDir });

    expect(await statusOf(second.receiveOtlp(post(kept.token)))).toBe(200);
    expect(await statusOf(second.receiveOtlp(post(gone.token)))).toBe(401);
    expect(second.liveTokenCount).toBe(1);
    expect((await second.listWriteTokens())[0]).toMatchObject({ tokenPrefix: kept.tokenPrefix });
    const file = join(dataDir, DEV_TOKENS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(kept.token);
  });

  it('ends with the latest state when writes overlap', async () => {
    const dev = newUpstream({ dataDir });

    const issued = await Promise.all(Array.from({ length: 10 }, () => mint(dev)));

    const reopened = newUpstream({ dataDir });
    expect(reopened.liveTokenCount).toBe(10);
    const statuses = await Promise.all(
      issued.map(({ token }) => statusOf(reopened.receiveOtlp(post(token)))),
    );
    expect(statuses).toEqual(Array(10).fill(200));
  });

  it('starts empty, with a warning, when the token file is unreadable', () => {
    writeFileSync(join(dataDir, DEV_TOKENS_FILE), '{broken');
    const { log, lines } = captureLog();

    const dev = newUpstream({ log, dataDir });

    expect(dev.liveTokenCount).toBe(0);
    expect(lines[0]).toMatchObject({ level: 'warn' });
  });

  it('removes at start the temp file a crashed write left, but not one of a process still running', () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const crashed = join(dataDir, `${DEV_TOKENS_FILE}.${deadPid}.0badc0de.tmp`);
    const running = join(dataDir, `${DEV_TOKENS_FILE}.${process.ppid}.0badc0de.tmp`);
    const unrelated = join(dataDir, 'notes.tmp');
    for (const file of [crashed, running, unrelated]) writeFileSync(file, '{}');

    newUpstream({ dataDir });

    expect(existsSync(crashed)).toBe(false);
    expect(existsSync(running)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
  });
});
