/**
 * `GET/PUT /v1/admin/settings` (docs/admin-api.md): the remote client settings through the admin function,
 * behind the second factor, on dynalite. A refused change stores nothing and leaves the clients' replies as
 * they were; an accepted one reaches the next heartbeat and is audited with its admin.
 */
import type { HeartbeatReply, IssuedToken } from '../core/contract';
import { forgetClientSettings } from '../core/clientSettings';
import { currentOtp } from '../core/otp';
import { TEST_TOTP_SEED } from '../../test/support/adminSigning';
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { adminEvent, heartbeatEvent, mintEvent } from '../../test/support/events';

const ADMIN_ARN = 'arn:aws:iam::123456789012:user/ops';
const KILL_SWITCH = { rules: [{ app: 'mycli', versions: '<2.0.0', telemetry: 'off' }] };

describe('remote client settings through the admin API', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker.close());

  const put = (body: unknown, otp?: string) =>
    broker.handlers.admin(
      adminEvent('PUT', '/v1/admin/settings', {
        body,
        headers: otp ? { 'x-broker-otp': otp } : {},
        userArn: ADMIN_ARN,
      }),
    );
  const get = async () =>
    JSON.parse((await broker.handlers.admin(adminEvent('GET', '/v1/admin/settings'))).body) as {
      rules: unknown[];
    };
  const freshCode = () => {
    broker.clock.advance(30_000); // codes are single-use: each change gets the next time step's
    return currentOtp(TEST_TOTP_SEED, broker.clock.now());
  };
  const beat = async (token: IssuedToken) => {
    forgetClientSettings(broker.store); // the next read is this process's 30 s cache expiring
    const reply = await broker.handlers.heartbeat(heartbeatEvent(token.tokenId, token.clientSecret));
    return JSON.parse(reply.body) as HeartbeatReply;
  };

  it('refuses a change without a valid code (401) and stores nothing; clients keep sending', async () => {
    const token = JSON.parse(
      (
        await broker.handlers.mint(
          mintEvent({ installId: 'settings-route-1', app: { name: 'mycli', version: '1.0.0' } }),
        )
      ).body,
    ) as IssuedToken;
    const missing = await put(KILL_SWITCH);
    expect(missing.statusCode).toBe(401);
    expect(JSON.parse(missing.body).error.code).toBe('otp_required');
    const wrong = await put(KILL_SWITCH, currentOtp(TEST_TOTP_SEED, broker.clock.now() - 600_000));
    expect(wrong.statusCode).toBe(401);
    expect((await get()).rules).toEqual([]);
    expect((await beat(token)).settings).toEqual({ telemetry: 'on', sampleRate: 1 });
  });

  it('refuses a bad rule with 400 before the code is spent', async () => {
    const code = freshCode();
    const bad = await put({ rules: [{ app: 'mycli', sampleRate: 2 }] }, code);
    expect(bad.statusCode).toBe(400);
    expect((await get()).rules).toEqual([]);
    // The code was not used up by the refused body.
    expect((await put({ rules: [] }, code)).statusCode).toBe(200);
  });

  it('applies a kill switch with a valid code: the next heartbeat says telemetry off, and it is audited', async () => {
    const token = JSON.parse(
      (
        await broker.handlers.mint(
          mintEvent({ installId: 'settings-route-2', app: { name: 'mycli', version: '1.5.0' } }),
        )
      ).body,
    ) as IssuedToken;
    const accepted = await put(KILL_SWITCH, freshCode());
    expect(accepted.statusCode).toBe(200);
    expect(JSON.parse(accepted.body).rules).toEqual([
      expect.objectContaining({ app: 'mycli', telemetry: 'off' }),
    ]);
    expect((await get()).rules).toHaveLength(1);
    expect((await beat(token)).settings).toMatchObject({ telemetry: 'off', reason: 'kill_switch' });
    const { entries } = await broker.audit.byTime({ from: 0, to: broker.clock.now() + 1 });
    // Two accepted changes in this file (the empty rules above, then this one), none of the refused ones.
    const changes = entries.filter((e) => e.action === 'admin.settings_changed');
    expect(changes).toHaveLength(2);
    const killSwitch = changes.find((e) => String(e.details?.rules).includes('off'));
    expect(killSwitch).toMatchObject({ actor: `admin:${ADMIN_ARN}`, details: { previousRules: '[]' } });
    expect(JSON.parse(String(killSwitch!.details!.rules))).toEqual(KILL_SWITCH.rules);
  });
});
