/**
 * The admin API against the real local server (`npm start` as a child process, dynalite inside): SigV4 is
 * checked on every /v1/admin/* request, routes or not, and the second factor guards the sensitive ones.
 * Each refusal is checked for what a user would notice: the reply, the token's state and the audit trail.
 */
import { currentOtp } from '../functions/core/otp';
import {
  ADMIN_BROKER_ENV,
  ADMIN_CREDENTIALS,
  adminFetch,
  send,
  signAdminCall,
  TEST_TOTP_SEED,
} from './support/adminSigning';
import { mintAt, startLocalBroker, stopAllLocalBrokers, type LocalBroker } from './support/localBroker';

jest.setTimeout(60_000);

let broker: LocalBroker;

beforeAll(async () => {
  broker = await startLocalBroker({ env: ADMIN_BROKER_ENV });
});
afterAll(() => stopAllLocalBrokers());

let installs = 0;
async function mint(app = 'hello', version = '1.2.0'): Promise<{ tokenId: string; clientSecret: string }> {
  installs += 1;
  return mintAt(broker.url, `admin-test-install-${installs}`, { name: app, version });
}

const admin = (call: Parameters<typeof adminFetch>[2]) => adminFetch(broker.url, ADMIN_CREDENTIALS, call);

async function statusOf(tokenId: string): Promise<string> {
  const reply = await admin({ method: 'GET', path: `/v1/admin/tokens/${tokenId}` });
  expect(reply.status).toBe(200);
  return (reply.body.token as { status: string }).status;
}

async function auditActions(tokenId: string): Promise<string[]> {
  const reply = await admin({ method: 'GET', path: '/v1/admin/audit', query: { tokenId } });
  return (reply.body.entries as Array<{ action: string }>).map((entry) => entry.action);
}

describe('SigV4 on /v1/admin/* (local mode)', () => {
  const pause = (tokenId: string) => ({
    method: 'POST' as const,
    path: `/v1/admin/tokens/${tokenId}/pause`,
    body: { reason: 'test' },
  });

  it('refuses an unsigned call with 403, on an existing route and on one that does not exist', async () => {
    const { tokenId } = await mint();
    for (const path of [`/v1/admin/tokens/${tokenId}/pause`, '/v1/admin/no-such-route', '/v1/admin']) {
      const reply = await fetch(`${broker.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'test' }),
      });
      expect(reply.status).toBe(403);
      expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect(await statusOf(tokenId)).toBe('active');
    expect(await auditActions(tokenId)).not.toContain('token.paused');
  });

  it('refuses a call signed with the wrong secret key, or another access key, with 403', async () => {
    const { tokenId } = await mint();
    for (const credentials of [
      { ...ADMIN_CREDENTIALS, secretAccessKey: `${ADMIN_CREDENTIALS.secretAccessKey}x` },
      { ...ADMIN_CREDENTIALS, accessKeyId: 'LFBLSOMEONEELSE00001' },
    ]) {
      for (const call of [pause(tokenId), { ...pause(tokenId), path: '/v1/admin/nothing/here' }]) {
        const reply = await adminFetch(broker.url, credentials, call);
        expect(reply.status).toBe(403);
      }
    }
    expect(await statusOf(tokenId)).toBe('active');
  });

  it('refuses a signature dated more than 5 minutes off with 403', async () => {
    const { tokenId } = await mint();
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const reply = await admin({ ...pause(tokenId), signingDate: new Date(Date.now() + offset) });
      expect(reply.status).toBe(403);
    }
    expect(await statusOf(tokenId)).toBe('active');
  });

  it('refuses a replayed signature with 403 and changes nothing the second time', async () => {
    const { tokenId } = await mint();
    const signed = await signAdminCall(broker.url, ADMIN_CREDENTIALS, pause(tokenId));
    expect((await send(signed)).status).toBe(200);
    const resumed = await admin({
      method: 'POST',
      path: `/v1/admin/tokens/${tokenId}/resume`,
      body: { reason: 'back' },
    });
    expect(resumed.status).toBe(200);
    const replay = await send(signed);
    expect(replay.status).toBe(403);
    expect(await statusOf(tokenId)).not.toBe('paused');
    expect((await auditActions(tokenId)).filter((action) => action === 'token.paused')).toHaveLength(1);
  });

  it('refuses a signed request whose body was swapped (403), and whose query was changed', async () => {
    const { tokenId } = await mint();
    const signed = await signAdminCall(broker.url, ADMIN_CREDENTIALS, pause(tokenId));
    const swapped = { ...signed, init: { ...signed.init, body: JSON.stringify({ reason: 'other' }) } };
    expect((await send(swapped)).status).toBe(403);
    const list = await signAdminCall(broker.url, ADMIN_CREDENTIALS, {
      method: 'GET',
      path: '/v1/admin/tokens',
      query: { app: 'hello' },
    });
    expect((await send({ ...list, url: list.url.replace('app=hello', 'app=other') })).status).toBe(403);
    expect(await statusOf(tokenId)).toBe('active');
  });

  it('answers a signed call to a route that does not exist with 404', async () => {
    const reply = await admin({ method: 'GET', path: '/v1/admin/nothing' });
    expect(reply.status).toBe(404);
  });
});

describe('Admin routes (local mode)', () => {
  it('lists, shows, pauses, resumes and revokes, and a paused token heartbeats paused', async () => {
    const { tokenId, clientSecret } = await mint('lister', '3.1.0');
    const listed = await admin({ method: 'GET', path: '/v1/admin/tokens', query: { app: 'lister' } });
    expect(listed.status).toBe(200);
    expect((listed.body.tokens as Array<{ tokenId: string }>).map((t) => t.tokenId)).toEqual([tokenId]);
    expect(JSON.stringify(listed.body)).not.toContain(clientSecret);

    const paused = await admin({
      method: 'POST',
      path: `/v1/admin/tokens/${tokenId}/pause`,
      body: { reason: 'abuse' },
    });
    expect(paused.body).toMatchObject({ outcome: 'changed', status: 'paused' });
    const beat = await fetch(`${broker.url}/v1/tokens/${tokenId}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clientSecret}` },
    });
    expect(((await beat.json()) as { status: string }).status).toBe('paused');

    await admin({ method: 'POST', path: `/v1/admin/tokens/${tokenId}/resume`, body: { reason: 'cleared' } });
    await admin({ method: 'POST', path: `/v1/admin/tokens/${tokenId}/revoke`, body: { reason: 'gone' } });
    const shown = await admin({ method: 'GET', path: `/v1/admin/tokens/${tokenId}` });
    expect((shown.body.token as { status: string }).status).toBe('revoked');
    const actions = (shown.body.audit as Array<{ action: string; actor: string }>).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['token.minted', 'token.paused', 'token.resumed', 'token.revoked']),
    );
    const actors = (shown.body.audit as Array<{ action: string; actor: string }>)
      .filter((e) => e.action === 'token.paused')
      .map((e) => e.actor);
    expect(actors).toEqual([`admin:local:${ADMIN_CREDENTIALS.accessKeyId}`]);
  });

  it('bulk-revokes by app version after a dry run, with the second factor', async () => {
    const old = [await mint('bulky', '1.0.0'), await mint('bulky', '1.1.9')];
    const kept = await mint('bulky', '2.0.0');
    const filter = { app: 'bulky', version: '<2.0.0' };
    const dry = await admin({
      method: 'POST',
      path: '/v1/admin/bulk',
      body: { action: 'revoke', filter, reason: 'old builds', dryRun: true },
    });
    expect(dry.body).toEqual({ matched: 2 });
    const created = await admin({
      method: 'POST',
      path: '/v1/admin/bulk',
      body: { action: 'revoke', filter, reason: 'old builds' },
      otp: await freshCode(),
    });
    if (created.status !== 201) throw new Error(broker.output());
    expect(created.status).toBe(201);
    let job = created.body.job as { jobId: string; done: boolean; changed: number };
    while (!job.done) {
      const ran = await admin({ method: 'POST', path: `/v1/admin/bulk/${job.jobId}/run` });
      job = ran.body.job as typeof job;
    }
    expect(job.changed).toBe(2);
    for (const { tokenId } of old) expect(await statusOf(tokenId)).toBe('revoked');
    expect(await statusOf(kept.tokenId)).toBe('active');
  });
});

/** A code of a step no earlier test used: waits for the next 30 s step when this one is spent. */
let lastStep = 0;
async function freshCode(): Promise<string> {
  let step = Math.floor(Date.now() / 30_000);
  if (step <= lastStep) {
    await new Promise((resolve) => setTimeout(resolve, (lastStep + 1) * 30_000 - Date.now() + 50));
    step = Math.floor(Date.now() / 30_000);
  }
  lastStep = step;
  return currentOtp(TEST_TOTP_SEED, Date.now());
}

describe('The second factor (X-Broker-OTP)', () => {
  const putQuota = (otp?: string) =>
    admin({ method: 'PUT', path: '/v1/admin/quotas', body: { mintsPerIpPerHour: 7 }, otp });

  async function quotaAudit(): Promise<Array<{ action: string; details?: Record<string, unknown> }>> {
    const reply = await admin({ method: 'GET', path: '/v1/admin/audit', query: { limit: '500' } });
    return reply.body.entries as Array<{ action: string; details?: Record<string, unknown> }>;
  }

  it('refuses a missing, wrong or replayed code with 401 and changes nothing; every attempt is audited', async () => {
    const before = (await admin({ method: 'GET', path: '/v1/admin/quotas' })).body;
    const missing = await putQuota();
    expect(missing.status).toBe(401);
    expect((missing.body.error as { code: string }).code).toBe('otp_required');
    const wrongCode = currentOtp(TEST_TOTP_SEED, Date.now() - 10 * 60_000);
    const wrong = await putQuota(wrongCode);
    expect(wrong.status).toBe(401);
    expect((wrong.body.error as { code: string }).code).toBe('otp_invalid');
    expect((await admin({ method: 'GET', path: '/v1/admin/quotas' })).body).toEqual(before);

    const code = await freshCode();
    expect((await putQuota(code)).status).toBe(200);
    const replayed = await admin({
      method: 'PUT',
      path: '/v1/admin/quotas',
      body: { mintsPerIpPerHour: 9 },
      otp: code,
    });
    expect(replayed.status).toBe(401);
    const after = (await admin({ method: 'GET', path: '/v1/admin/quotas' })).body;
    expect((after.overrides as Record<string, number>).mintsPerIpPerHour).toBe(7);

    const entries = await quotaAudit();
    const outcomes = entries
      .filter((entry) => entry.action === 'otp_refused' || entry.action === 'otp_accepted')
      .map((entry) => `${entry.action}:${String(entry.details?.outcome)}`);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        'otp_refused:missing',
        'otp_refused:wrong_code',
        'otp_accepted:valid',
        'otp_refused:already_used',
      ]),
    );
    expect(entries.filter((entry) => entry.action === 'admin.quotas_changed')).toHaveLength(1);
    expect(JSON.stringify(entries)).not.toContain(code);
    expect(broker.output()).not.toContain(code);
    expect(broker.output()).not.toContain(TEST_TOTP_SEED);
    expect(broker.output()).not.toContain(ADMIN_CREDENTIALS.secretAccessKey);
  });
});
