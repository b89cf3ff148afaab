/**
 * The second factor's lockout under a race: many wrong codes at once, from many requests, while the machine
 * is kept busy. However the requests interleave, at most 5 codes are ever checked (each attempt first takes
 * one of the window's 5 attempts in one conditional write), then the lock refuses even the right code, and
 * nothing changes.
 */
import { currentOtp } from '../functions/core/otp';
import { ADMIN_BROKER_ENV, ADMIN_CREDENTIALS, adminFetch, TEST_TOTP_SEED } from './support/adminSigning';
import { keepBusy } from './support/busy';
import { startLocalBroker, stopAllLocalBrokers, type LocalBroker } from './support/localBroker';

jest.setTimeout(90_000);

let broker: LocalBroker;
beforeAll(async () => {
  broker = await startLocalBroker({ env: ADMIN_BROKER_ENV });
});
afterAll(() => stopAllLocalBrokers());

const admin = (call: Parameters<typeof adminFetch>[2]) => adminFetch(broker.url, ADMIN_CREDENTIALS, call);

it('checks at most 5 of 40 concurrent wrong codes, then refuses the right one with 429, while busy', async () => {
  const busy = await keepBusy(60_000, 3);
  try {
    const now = Date.now();
    const right = currentOtp(TEST_TOTP_SEED, now);
    // Codes of other steps (never the current one, nor its neighbours): all wrong.
    const wrong = Array.from({ length: 40 }, (_, i) => currentOtp(TEST_TOTP_SEED, now - (10 + i) * 30_000));
    const replies = await Promise.all(
      wrong.map((otp, i) =>
        admin({ method: 'PUT', path: '/v1/admin/quotas', body: { mintsPerDay: 100 + i }, otp }),
      ),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(35);
    const locked = replies.find((reply) => reply.status === 429)!;
    expect((locked.body.error as { code: string }).code).toBe('otp_locked');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

    const withRightCode = await admin({
      method: 'PUT',
      path: '/v1/admin/quotas',
      body: { mintsPerDay: 1 },
      otp: right,
    });
    expect(withRightCode.status).toBe(429);

    const quotas = await admin({ method: 'GET', path: '/v1/admin/quotas' });
    expect(quotas.body.overrides).toEqual({});
    const audit = await admin({ method: 'GET', path: '/v1/admin/audit', query: { limit: '500' } });
    const entries = audit.body.entries as Array<{ action: string; details?: { outcome?: string } }>;
    expect(entries.filter((e) => e.action === 'otp_refused')).toHaveLength(41);
    expect(entries.filter((e) => e.action === 'otp_accepted')).toHaveLength(0);
    expect(entries.filter((e) => e.action === 'admin.quotas_changed')).toHaveLength(0);
    expect(entries.filter((e) => e.details?.outcome === 'wrong_code').length).toBeLessThanOrEqual(5);
  } finally {
    await busy.stop();
  }
});
