import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, UsageError } from '../errors';
import { isLoopback, resolveEndpoint, resolveRegion } from './endpoint';

describe('Function: resolveEndpoint', () => {
  let bin: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'fake-pulumi-'));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  /** The Pulumi CLI cannot run here: a script on PATH stands in for `pulumi stack output --json`. */
  function fakePulumi(script: string): NodeJS.ProcessEnv {
    const file = join(bin, 'pulumi');
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    return { PATH: `${bin}:/usr/bin:/bin` };
  }

  it('takes --endpoint first, then LOGFIRE_BROKER_ENDPOINT, without a trailing slash', async () => {
    const env = { LOGFIRE_BROKER_ENDPOINT: 'https://env.example.com/prod/' };
    expect((await resolveEndpoint({ endpoint: 'http://127.0.0.1:8787/', env })).href).toBe(
      'http://127.0.0.1:8787/',
    );
    expect((await resolveEndpoint({ env })).href).toBe('https://env.example.com/prod');
  });

  it('reads the stack output apiUrl when neither is given, passing --stack to pulumi', async () => {
    const env = fakePulumi(
      'test "$*" = "stack output --json --stack prod" || exit 9\necho \'{"apiUrl":"https://abc.execute-api.eu-west-1.amazonaws.com/v1"}\'',
    );
    const url = await resolveEndpoint({ stack: 'prod', env });
    expect(url.href).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/v1');
  });

  it('says how else to give the endpoint when the Pulumi CLI is not installed', async () => {
    const failure = resolveEndpoint({ env: { PATH: bin } });
    await expect(failure).rejects.toBeInstanceOf(UsageError);
    await expect(failure).rejects.toThrow(
      /Pulumi CLI is not installed: pass --endpoint <url>, set LOGFIRE_BROKER_ENDPOINT/,
    );
  });

  it("passes on pulumi's own error when it fails (not logged in, no stack)", async () => {
    const env = fakePulumi('echo "error: no stack named prod found" >&2; exit 255');
    await expect(resolveEndpoint({ stack: 'prod', env })).rejects.toMatchObject({
      exitCode: EXIT.failed,
      message: 'pulumi stack output failed:\nerror: no stack named prod found',
    });
  });

  it.each([
    ['not a URL', 'broker.example.com'],
    ['another scheme', 'ftp://broker.example.com'],
    ['a query', 'https://broker.example.com/?x=1'],
  ])('refuses an endpoint that is %s', async (_what, endpoint) => {
    await expect(resolveEndpoint({ endpoint, env: {} })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('Function: resolveRegion', () => {
  const api = new URL('https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod');

  it('takes --region first, then the region an API Gateway host names, over AWS_REGION', async () => {
    expect(await resolveRegion(api, { region: 'us-west-2', env: {} })).toBe('us-west-2');
    expect(await resolveRegion(api, { env: { AWS_REGION: 'eu-west-1' } })).toBe('ap-southeast-2');
  });

  it('falls back to AWS_REGION, then AWS_DEFAULT_REGION, for a custom domain', async () => {
    const custom = new URL('https://broker.example.com');
    expect(await resolveRegion(custom, { env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'x' } })).toBe(
      'eu-west-1',
    );
    expect(await resolveRegion(custom, { env: { AWS_DEFAULT_REGION: 'eu-central-1' } })).toBe('eu-central-1');
  });

  it('signs for us-east-1 for a broker on this machine', async () => {
    expect(await resolveRegion(new URL('http://127.0.0.1:8787'), { env: {} })).toBe('us-east-1');
  });
});

describe('Function: isLoopback', () => {
  it.each([
    ['http://127.0.0.1:8787', true],
    ['http://localhost:8787', true],
    ['http://[::1]:8787', true],
    ['https://broker.example.com', false],
    ['http://10.0.0.1', false],
  ])('%s → %s', (url, expected) => {
    expect(isLoopback(new URL(url))).toBe(expected);
  });
});
