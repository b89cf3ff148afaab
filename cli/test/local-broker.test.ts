/**
 * The admin CLI as a child process against the real local broker (npm start's command, dynalite, the dev
 * upstream), signing with the local admin credentials: what an operator does, end to end.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOTP, URI } from 'otpauth';
import { keepBusy } from '../../test/support/busy';
import {
  heartbeatAt,
  mintAt,
  startLocalBroker,
  stopAllLocalBrokers,
  type LocalBroker,
} from '../../test/support/localBroker';
import { createAdminClient } from '../src/api/client';
import { credentialProvider } from '../src/api/credentials';
import type { BulkJob } from '../src/api/types';
import { runCli, type CliRun } from './runCli';

jest.setTimeout(120_000);

interface Minted {
  tokenId: string;
  clientSecret: string;
}

let broker: LocalBroker;
let totp: TOTP;
/** The last time step whose code was used: a code is single-use, and a later step's code must come next. */
let lastStep = -1;

/** The CLI against this broker, signed with its admin pair from the data folder. */
const cli = (...args: string[]): Promise<CliRun> =>
  runCli(['--endpoint', broker.url, '--data-dir', broker.dataDir, ...args]);

const json = <T>(run: CliRun): T => {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  return JSON.parse(run.stdout) as T;
};

/** A code the broker has not seen: this step's, or the next one's (±1 step is accepted) once this one is used. */
async function nextCode(): Promise<string> {
  const period = totp.period * 1000;
  let step = Math.max(Math.floor(Date.now() / period), lastStep + 1);
  while (step > Math.floor(Date.now() / period) + 1) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    step = Math.max(Math.floor(Date.now() / period), lastStep + 1);
  }
  lastStep = step;
  return totp.generate({ timestamp: step * period });
}

const mint = (app: string, version: string): Promise<Minted> =>
  mintAt(broker.url, `install-${app}-${version}-${Math.random()}`, { name: app, version });
const heartbeat = (token: Minted): Promise<string> => heartbeatAt(broker.url, token);

interface Listed {
  tokens: Array<{ tokenId: string; status: string; app: { name: string; version: string } }>;
}

const statuses = async (...filters: string[]) =>
  Object.fromEntries(
    json<Listed>(
      await cli('tokens', 'ls', '--json', '--all', ...filters.flatMap((f) => ['--filter', f])),
    ).tokens.map((t) => [t.tokenId, t.status]),
  );

beforeAll(async () => {
  broker = await startLocalBroker();
  const enrolled = await cli('otp', 'enroll', '--show-secret', '--json');
  const { otpauthUri, storedIn } = json<{ otpauthUri: string; storedIn: string }>(enrolled);
  totp = URI.parse(otpauthUri) as TOTP;
  // What the broker reads is what was shown.
  expect(readFileSync(storedIn, 'utf8').trim()).toBe(totp.secret.base32);
});

afterAll(() => stopAllLocalBrokers());

describe('logfire-broker against npm start', () => {
  it('lists tokens as a table and as JSON that parses, filtered by repeated --filter flags AND-ed', async () => {
    const [a, b, c] = [
      await mint('lister', '1.0.0'),
      await mint('lister', '1.5.0'),
      await mint('lister', '2.0.0'),
    ];
    const other = await mint('someone-else', '1.0.0');

    expect(Object.keys(await statuses('app=lister')).sort()).toEqual(
      [a.tokenId, b.tokenId, c.tokenId].sort(),
    );
    expect(Object.keys(await statuses('app=lister', 'version=<2.0.0')).sort()).toEqual(
      [a.tokenId, b.tokenId].sort(),
    );
    expect(await statuses('app=lister', 'version=>=1.1.0', 'version=<2.0.0')).toEqual({
      [b.tokenId]: 'active',
    });

    const table = await cli('tokens', 'ls', '--filter', 'app=lister');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TOKEN +STATUS +APP +VERSION +INSTALL +NETWORK +CREATED +LAST SEEN$/);
    expect(lines).toHaveLength(4);
    expect(table.stdout).toContain(c.tokenId);
    expect(table.stdout).not.toContain(other.tokenId);
  });

  it('shows one token with the audit history of its chain', async () => {
    const token = await mint('shower', '1.0.0');
    const shown = json<{ token: { tokenId: string; status: string }; audit: Array<{ action: string }> }>(
      await cli('tokens', 'show', token.tokenId, '--json'),
    );
    expect(shown.token).toMatchObject({ tokenId: token.tokenId, status: 'active' });
    expect(shown.audit.map((entry) => entry.action)).toContain('token.minted');

    const human = await cli('tokens', 'show', token.tokenId);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^token +${token.tokenId}$`, 'm'));
    expect(human.stdout).toContain('token.minted');
  });

  it('pauses a token (its heartbeat answers paused), resumes it, then revokes it', async () => {
    const token = await mint('lifecycle', '1.0.0');

    const paused = await cli('tokens', 'pause', token.tokenId, '--reason', 'abuse report #12');
    expect(paused).toMatchObject({ code: 0, stdout: expect.stringContaining(`${token.tokenId} paused`) });
    expect(await heartbeat(token)).toBe('paused');
    expect(await statuses('status=paused', 'app=lifecycle')).toEqual({ [token.tokenId]: 'paused' });

    const again = await cli('tokens', 'pause', token.tokenId, '--reason', 'twice');
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('already paused') });

    expect((await cli('tokens', 'resume', token.tokenId, '--reason', 'cleared')).code).toBe(0);
    expect(['active', 'rotate']).toContain(await heartbeat(token));

    const revoked = json<{ outcome: string; status: string }>(
      await cli('tokens', 'revoke', token.tokenId, '--reason', 'leaked', '--json'),
    );
    expect(revoked).toMatchObject({ outcome: 'changed', status: 'revoked' });
    expect(['revoked', '401']).toContain(await heartbeat(token));
  });

  it('exits 1 for a token that does not exist', async () => {
    const run = await cli('tokens', 'pause', 'tok_doesnotexist', '--reason', 'x');
    expect(run.code).toBe(1);
  });

  it('bulk-revokes by filter: the dry run counts and changes nothing, the job with a code revokes them all', async () => {
    const old = [await mint('bulky', '1.0.0'), await mint('bulky', '1.9.9'), await mint('bulky', '1.2.3')];
    const current = await mint('bulky', '2.0.0');
    const filters = ['--filter', 'app=bulky', '--filter', 'version=<2.0.0'];

    const dry = await cli('revoke', ...filters, '--reason', 'CVE-2026-0001', '--dry-run');
    expect(dry).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('3 tokens match app=bulky version=<2.0.0'),
    });
    expect(
      json<{ matched: number }>(await cli('revoke', ...filters, '--reason', 'x', '--dry-run', '--json')),
    ).toEqual({
      matched: 3,
    });
    expect(Object.values(await statuses('app=bulky'))).toEqual(['active', 'active', 'active', 'active']);

    const { job } = json<{ job: { done: boolean; matched: number; changed: number } }>(
      await cli('revoke', ...filters, '--reason', 'CVE-2026-0001', '--otp', await nextCode(), '--json'),
    );
    expect(job).toMatchObject({ done: true, matched: 3, changed: 3 });
    // Revoked tokens leave the list of live ones; each one shows as revoked.
    expect(await statuses('app=bulky')).toEqual({ [current.tokenId]: 'active' });
    for (const token of old) {
      const shown = json<{ token: { status: string } }>(await cli('tokens', 'show', token.tokenId, '--json'));
      expect(shown.token.status).toBe('revoked');
    }
    expect(await heartbeat(current)).toBe('active');
  });

  it('continues a bulk job that was created but not finished (--job)', async () => {
    const tokens = [await mint('resumable', '1.0.0'), await mint('resumable', '1.0.1')];
    // A job as an interrupted CLI leaves it: created with its code, no page run yet.
    const client = createAdminClient({
      endpoint: new URL(broker.url),
      region: 'us-east-1',
      credentials: credentialProvider({ dataDir: broker.dataDir }),
    });
    const { job } = await client.request<{ job: BulkJob }>('POST', 'bulk', {
      body: { action: 'pause', filter: { app: 'resumable' }, reason: 'incident 7' },
      otp: await nextCode(),
    });
    expect(job.done).toBe(false);

    const wrongAction = await cli('tokens', 'revoke', '--job', job.jobId);
    expect(wrongAction.code).toBe(2);
    expect(wrongAction.stderr).toMatch(/is a bulk pause/);

    const run = await cli('tokens', 'pause', '--job', job.jobId);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining(`paused 2 of 2 matching tokens`) });
    expect(await Promise.all(tokens.map(heartbeat))).toEqual(['paused', 'paused']);
  });

  it('lets one of two concurrent CLIs with the same code through, and refuses the other with exit 3', async () => {
    const busy = await keepBusy(60_000, 2);
    try {
      const code = await nextCode();
      const runs = await Promise.all(
        [11, 12].map((n) => cli('quotas', 'set', `mintsPerNetworkPerHour=${n}`, '--otp', code, '--json')),
      );
      expect(runs.map((run) => run.code).sort()).toEqual([0, 3]);
      const winner = runs.find((run) => run.code === 0)!;
      const { overrides } = json<{ overrides: Record<string, number> }>(await cli('quotas', 'get', '--json'));
      expect(overrides.mintsPerNetworkPerHour).toBe(
        json<{ overrides: Record<string, number> }>(winner).overrides.mintsPerNetworkPerHour,
      );
    } finally {
      await busy.stop();
    }
  });

  it('changes a quota with a one-time code, and refuses a wrong code with exit 3, changing nothing', async () => {
    const set = json<{ overrides: Record<string, number>; effective: Record<string, number> }>(
      await cli('quotas', 'set', 'mintsPerIpPerHour=777', '--otp', await nextCode(), '--json'),
    );
    expect(set.overrides.mintsPerIpPerHour).toBe(777);
    expect(set.effective.mintsPerIpPerHour).toBe(777);

    const valid = totp.generate();
    const wrong = valid === '000000' ? '111111' : '000000';
    const refused = await cli('quotas', 'set', 'mintsPerIpPerHour=5', '--otp', wrong);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/otp_invalid/);

    const table = await cli('quotas', 'get');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^mintsPerIpPerHour +\S+ +777 +777$/m);
  });

  it('replaces the remote client settings from a file with a code: the next heartbeat carries them', async () => {
    const token = await mint('settingscli', '1.4.0');
    const file = join(broker.dataDir, 'settings-rules.json');
    writeFileSync(
      file,
      JSON.stringify({ rules: [{ app: 'settingscli', versions: '<2.0.0', telemetry: 'off' }] }),
    );
    const set = json<{ rules: Array<{ app: string }> }>(
      await cli('settings', 'set', '--file', file, '--otp', await nextCode(), '--json'),
    );
    expect(set.rules).toEqual([expect.objectContaining({ app: 'settingscli', telemetry: 'off' })]);
    expect(json<{ rules: unknown[] }>(await cli('settings', 'get', '--json')).rules).toEqual(set.rules);
    const beat = await fetch(`${broker.url}/v1/tokens/${token.tokenId}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.clientSecret}` },
    });
    expect(((await beat.json()) as { settings: unknown }).settings).toMatchObject({
      telemetry: 'off',
      reason: 'kill_switch',
    });
    // Without a code nothing changes (exit 2 off a terminal: the code cannot be asked for).
    writeFileSync(file, JSON.stringify({ rules: [] }));
    const refused = await cli('settings', 'set', '--file', file);
    expect(refused.code).not.toBe(0);
    expect(json<{ rules: unknown[] }>(await cli('settings', 'get', '--json')).rules).toEqual(set.rules);
  });

  it('exits 2 for usage errors, before anything is sent', async () => {
    const token = await mint('usage', '1.0.0');
    const runs = await Promise.all([
      cli('tokens', 'ls', '--filter', 'colour=red'),
      cli('tokens', 'pause', token.tokenId),
      cli('tokens', 'frobnicate'),
      cli('quotas', 'set', 'mintsPerDay=lots', '--otp', '123456'),
      // A bulk job needs a code, and a script cannot be prompted for one.
      cli('revoke', '--filter', 'app=usage', '--reason', 'x'),
      cli('tokens', 'revoke', token.tokenId, '--filter', 'app=usage', '--reason', 'x'),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(runs[0]!.stderr).toMatch(/key among status, app/);
    expect(runs[4]!.stderr).toMatch(/pass --otp/);
    expect(await statuses('app=usage')).toEqual({ [token.tokenId]: 'active' });
  });

  it('signs with the local pair given as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and exits 3 on a wrong key', async () => {
    const file = readFileSync(join(broker.dataDir, 'admin-credentials'), 'utf8');
    const key = (name: string) => new RegExp(`^${name}\\s*=\\s*(\\S+)`, 'm').exec(file)![1]!;
    const env = {
      AWS_ACCESS_KEY_ID: key('aws_access_key_id'),
      AWS_SECRET_ACCESS_KEY: key('aws_secret_access_key'),
    };

    const stats = await runCli(['stats', '--json'], { ...env, LOGFIRE_BROKER_ENDPOINT: broker.url });
    expect(json<{ tokensByStatus: Record<string, number> }>(stats).tokensByStatus.active).toBeGreaterThan(0);

    const wrong = await runCli(['stats'], {
      ...env,
      AWS_SECRET_ACCESS_KEY: 'not-the-secret-key-at-all',
      LOGFIRE_BROKER_ENDPOINT: broker.url,
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/403/);
    expect(wrong.stderr).not.toContain(env.AWS_SECRET_ACCESS_KEY);
  });
});
