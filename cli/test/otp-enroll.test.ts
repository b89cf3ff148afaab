/**
 * `otp enroll` as a child process: where the seed goes (the data folder file the local server reads, or the
 * seed secret on AWS through the real SDK against a Secrets Manager on 127.0.0.1), and where it never goes.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URI } from 'otpauth';
import { startFakeSecretsManager, type FakeSecretsManager } from '../../test/fakes/fakeSecretsManager';
import { runCli } from './runCli';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:broker/admin-totp-AbCdEf';

const seedOf = (stdout: string) =>
  URI.parse((JSON.parse(stdout) as { otpauthUri: string }).otpauthUri).secret.base32;

describe('otp enroll, locally', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'enroll-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const seedFile = () => join(dataDir, 'admin-totp-seed');

  it('refuses to print the seed anywhere but a terminal without --show-secret, and stores nothing', async () => {
    const run = await runCli(['otp', 'enroll', '--data-dir', dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--show-secret/);
    expect(run.stdout).toBe('');
    expect(existsSync(seedFile())).toBe(false);
  });

  it('refuses a data folder that does not exist before it shows any seed', async () => {
    const missing = join(dataDir, 'missing');
    const run = await runCli(['otp', 'enroll', '--data-dir', missing, '--show-secret']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${missing} is not a data folder`);
    expect(run.stdout).toBe('');
  });

  it('stores the seed it shows in the data folder, readable by its owner only, with a QR code and the URI', async () => {
    const run = await runCli(['otp', 'enroll', '--data-dir', dataDir, '--show-secret']);
    expect(run.code).toBe(0);
    const uri = /^otpauth:\/\/totp\/\S+$/m.exec(run.stdout)![0];
    const totp = URI.parse(uri);
    expect(totp).toMatchObject({ issuer: 'logfire-broker', algorithm: 'SHA1', digits: 6, period: 30 });
    expect(readFileSync(seedFile(), 'utf8').trim()).toBe(totp.secret.base32);
    expect(statSync(seedFile()).mode & 0o777).toBe(0o600);
    // The terminal QR code is drawn with block characters.
    expect(run.stdout).toMatch(/[▀▄█]/);
    // The seed is on stdout, for the operator; never in the notes on stderr.
    expect(run.stderr).not.toContain(totp.secret.base32);
  });

  it('refuses to replace an enrolled seed without --force, and replaces it with --force', async () => {
    const first = await runCli(['otp', 'enroll', '--data-dir', dataDir, '--show-secret', '--json']);
    const seed = seedOf(first.stdout);
    const again = await runCli(['otp', 'enroll', '--data-dir', dataDir, '--show-secret', '--json']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already enrolled.*--force/);
    expect(readFileSync(seedFile(), 'utf8').trim()).toBe(seed);

    const forced = await runCli([
      'otp',
      'enroll',
      '--data-dir',
      dataDir,
      '--show-secret',
      '--json',
      '--force',
    ]);
    expect(forced.code).toBe(0);
    expect(readFileSync(seedFile(), 'utf8').trim()).toBe(seedOf(forced.stdout));
    expect(seedOf(forced.stdout)).not.toBe(seed);
  });
});

describe('otp enroll, on AWS', () => {
  let sm: FakeSecretsManager;
  beforeEach(async () => {
    sm = await startFakeSecretsManager();
  });
  afterEach(() => sm.close());
  const awsEnv = () => ({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'an-operator-secret-key',
  });

  it('puts the seed into the seed secret (PutSecretValue), in the region of its ARN', async () => {
    const run = await runCli(
      ['otp', 'enroll', '--secret-id', SECRET_ARN, '--show-secret', '--json'],
      awsEnv(),
    );
    expect(run.code).toBe(0);
    const put = sm.requests.find((request) => request.target === 'secretsmanager.PutSecretValue');
    // No AWS_REGION and no config file here: the SDK could only sign for the ARN's region.
    expect(put?.body).toMatchObject({ SecretId: SECRET_ARN, SecretString: seedOf(run.stdout) });
    expect(run.stderr).toContain(`stored in ${SECRET_ARN}`);
  });

  it('refuses to replace a seed the secret already holds without --force', async () => {
    sm.setSecret('broker/admin-totp', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    const run = await runCli(
      ['otp', 'enroll', '--secret-id', SECRET_ARN, '--show-secret', '--json'],
      awsEnv(),
    );
    expect(run.code).toBe(2);
    expect(sm.requests.map((request) => request.target)).not.toContain('secretsmanager.PutSecretValue');
  });

  it('asks for --secret-id when there is no Pulumi CLI to read the stack output from', async () => {
    const run = await runCli(['otp', 'enroll', '--show-secret'], { ...awsEnv(), PATH: '/nonexistent' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Pulumi CLI is not installed: pass --secret-id <arn>/);
  });
});
