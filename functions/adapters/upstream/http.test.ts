import { captureLog } from '../../../test/support/log';
import { UpstreamUnavailable } from '../../core/errors';
import { startFakeLogfire, type FakeLogfire } from '../../../test/fakes/fakeLogfire';
import { keepBusy } from '../../../test/support/busy';
import { UpstreamRejected } from './errors';
import { createLogfireHttp, parseRetryAfter, type LogfireHttpOptions } from './http';

const API_KEY = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';
const WRONG_KEY = 'pylf_v1_us_WrongApiKeyForTestsOnlyNotARealKey000000';

describe('Logfire HTTP helper', () => {
  let logfire: FakeLogfire;

  beforeEach(async () => {
    logfire = await startFakeLogfire({ apiKey: API_KEY });
  });
  afterEach(() => logfire.close());

  function setup(overrides: Partial<LogfireHttpOptions> = {}, key = API_KEY) {
    const waits: number[] = [];
    const { log, lines } = captureLog();
    const call = createLogfireHttp({
      timeoutMs: 2000,
      retries: 3,
      log,
      sleep: async (ms) => void waits.push(ms),
      random: () => 0.5,
      ...overrides,
    });
    const listTokens = () =>
      call({
        operation: 'listing write tokens',
        method: 'GET',
        url: `${logfire.baseUrl}/api/v1/projects/${logfire.projectId}/write-tokens/`,
        authorization: `Bearer ${key}`,
      });
    return { waits, lines, call, listTokens };
  }

  it('retries a 429 after the seconds Retry-After asks for', async () => {
    const { waits, listTokens } = setup();
    logfire.failNext(2, 429, { 'Retry-After': '2' });

    const reply = await listTokens();

    expect(reply.status).toBe(200);
    expect(waits).toEqual([2000, 2000]);
    expect(logfire.requests.map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const { waits, listTokens } = setup({ now: () => now });
    logfire.failNext(1, 503, { 'Retry-After': new Date(now + 3000).toUTCString() });

    await listTokens();

    expect(waits).toEqual([3000]);
  });

  it('backs off exponentially with jitter on 5xx, then succeeds', async () => {
    const { waits, listTokens } = setup({ baseDelayMs: 200 });
    logfire.failNext(1, 500);
    logfire.failNext(1, 502);

    const reply = await listTokens();

    // random() = 0.5 puts each wait at three quarters of its step: 200 → 150, 400 → 300.
    expect(waits).toEqual([150, 300]);
    expect(reply.status).toBe(200);
  });

  it('gives up after the configured retries with UpstreamUnavailable and a default Retry-After', async () => {
    const { waits, listTokens } = setup({ retries: 2 });
    logfire.failNext(10, 503);

    const error = await listTokens().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error).not.toBeInstanceOf(UpstreamRejected);
    expect((error as UpstreamUnavailable).status).toBe(503);
    expect((error as UpstreamUnavailable).retryAfterSeconds).toBe(30);
    expect(logfire.requests).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  it("passes Logfire's Retry-After on to the caller when it gives up", async () => {
    const { listTokens } = setup({ retries: 3 });
    logfire.failNext(4, 429, { 'Retry-After': '4' });

    const error = (await listTokens().catch((e: unknown) => e)) as UpstreamUnavailable;

    expect(error.retryAfterSeconds).toBe(4);
    expect(logfire.requests).toHaveLength(4);
  });

  it('never calls back sooner than asked: a Retry-After above the cap ends the retries', async () => {
    const { waits, listTokens } = setup({ maxWaitMs: 10_000 });
    logfire.failNext(1, 429, { 'Retry-After': '120' });

    const error = (await listTokens().catch((e: unknown) => e)) as UpstreamUnavailable;

    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error.retryAfterSeconds).toBe(120);
    expect(waits).toEqual([]);
    expect(logfire.requests).toHaveLength(1);
  });

  it('caps the total time spent waiting', async () => {
    const { waits, listTokens } = setup({ retries: 10, maxTotalWaitMs: 5000 });
    logfire.failNext(10, 429, { 'Retry-After': '3' });

    await expect(listTokens()).rejects.toBeInstanceOf(UpstreamUnavailable);

    expect(waits).toEqual([3000]);
    expect(logfire.requests).toHaveLength(2);
  });

  it('starts no retry that could end after the time budget', async () => {
    const { listTokens } = setup({ timeoutMs: 100, budgetMs: 250, retries: 5 });
    logfire.fault({ delayMs: 2000 }, { delayMs: 2000 });

    await expect(listTokens()).rejects.toBeInstanceOf(UpstreamUnavailable);

    // 100 ms spent + 150 ms wait + another 100 ms attempt would pass 250 ms.
    expect(logfire.requests).toHaveLength(1);
  });

  it('cuts the first attempt short to fit the budget when the budget is below the timeout', async () => {
    const { listTokens } = setup({ timeoutMs: 5000, budgetMs: 300, retries: 3 });
    logfire.fault({ delayMs: 5000 });
    const started = performance.now();

    const error = (await listTokens().catch((e: unknown) => e)) as UpstreamUnavailable;

    expect(performance.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error.message).toContain('no reply within 300 ms');
    expect(error.retryAfterSeconds).toBe(30);
    expect(logfire.requests).toHaveLength(1);
  });

  it('keeps the budget for each of 20 concurrent requests to a stalled Logfire on a busy machine', async () => {
    const { listTokens } = setup({ timeoutMs: 5000, budgetMs: 400, retries: 3 });
    logfire.fault(...Array.from({ length: 20 }, () => ({ delayMs: 10_000 })));
    const busy = await keepBusy(5000);
    try {
      const started = performance.now();

      const results = await Promise.allSettled(Array.from({ length: 20 }, () => listTokens()));

      expect(performance.now() - started).toBeLessThan(2000);
      expect(results.map((r) => r.status === 'rejected' && r.reason instanceof UpstreamUnavailable)).toEqual(
        Array.from({ length: 20 }, () => true),
      );
      expect(logfire.requests).toHaveLength(20);
    } finally {
      busy.stop();
    }
  });

  it('spends the budget in wall time even when the injected clock stands still', async () => {
    const frozen = Date.parse('2030-01-01T00:00:00Z');
    const { listTokens } = setup({ timeoutMs: 100, budgetMs: 250, retries: 5, now: () => frozen });
    logfire.fault({ delayMs: 2000 }, { delayMs: 2000 }, { delayMs: 2000 });

    await expect(listTokens()).rejects.toBeInstanceOf(UpstreamUnavailable);

    expect(logfire.requests).toHaveLength(1);
  });

  it('retries a reply slower than the timeout, then answers 503', async () => {
    const { listTokens } = setup({ timeoutMs: 100, retries: 1 });
    logfire.fault({ delayMs: 2000 }, { delayMs: 2000 });

    const error = (await listTokens().catch((e: unknown) => e)) as UpstreamUnavailable;

    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error.message).toContain('no reply within 100 ms');
    expect(logfire.requests).toHaveLength(2);
  });

  it('succeeds when only the first reply was too slow', async () => {
    const { listTokens, lines } = setup({ timeoutMs: 100 });
    logfire.fault({ delayMs: 2000 });

    const reply = await listTokens();

    expect(reply.status).toBe(200);
    expect(logfire.requests).toHaveLength(2);
    expect(lines.some((line) => line.attributes?.problem === 'no reply within 100 ms')).toBe(true);
  });

  it('retries a dropped connection', async () => {
    const { listTokens, lines } = setup();
    logfire.fault({ dropConnection: true });

    const reply = await listTokens();

    expect(reply.status).toBe(200);
    expect(lines.some((line) => line.attributes?.problem === 'network error')).toBe(true);
  });

  it('does not retry a 401, and keeps the credential out of the error and the log', async () => {
    const { waits, lines, listTokens } = setup({}, WRONG_KEY);

    const error = (await listTokens().catch((e: unknown) => e)) as UpstreamRejected;

    expect(error).toBeInstanceOf(UpstreamRejected);
    expect(error).toBeInstanceOf(UpstreamUnavailable);
    expect(error.status).toBe(503);
    expect(error.code).toBe('upstream_unavailable');
    expect(error.upstreamStatus).toBe(401);
    expect(logfire.requests).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(JSON.stringify([error.message, error.detail, String(error), lines])).not.toContain(WRONG_KEY);
  });

  it('scrubs a credential that Logfire echoes back in its error body', async () => {
    const { lines, listTokens } = setup();
    logfire.fault({ status: 403, body: { detail: `key ${API_KEY} lacks scope project:write_token` } });

    const error = (await listTokens().catch((e: unknown) => e)) as UpstreamRejected;

    expect(error.upstreamStatus).toBe(403);
    expect(error.detail).toContain('[redacted] lacks scope');
    expect(JSON.stringify([error.message, error.detail, lines])).not.toContain(API_KEY);
  });

  it('does not follow a redirect, which would carry the credential elsewhere', async () => {
    const { listTokens } = setup();
    logfire.fault({ status: 307, headers: { Location: 'http://127.0.0.1:9/elsewhere' } });

    const error = (await listTokens().catch((e: unknown) => e)) as UpstreamRejected;

    expect(error).toBeInstanceOf(UpstreamRejected);
    expect(error.upstreamStatus).toBe(307);
    expect(logfire.requests).toHaveLength(1);
  });

  it('returns the statuses the caller said it handles', async () => {
    const { call } = setup();

    const reply = await call({
      operation: 'deleting a write token',
      method: 'DELETE',
      url: `${logfire.baseUrl}/api/v1/projects/${logfire.projectId}/write-tokens/no-such-id/`,
      authorization: `Bearer ${API_KEY}`,
      accept: [404],
    });

    expect(reply).toEqual({ status: 404, body: { detail: 'Write token not found' }, attempts: 1 });
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and ignores anything else', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
