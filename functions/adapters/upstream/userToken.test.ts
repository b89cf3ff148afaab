import { startFakeLogfire, type FakeLogfire } from '../../../test/fakes/fakeLogfire';
import { silentLog } from '../../../test/support/log';
import { UpstreamRejected } from './errors';
import { createLogfireHttp } from './http';
import { LogfireAccess } from './region';
import { UserTokenUpstream } from './userToken';

const USER_TOKEN = 'pylf_v1_us_FakeUserTokenForTestsOnlyNotRealAtAll000';
const WRONG_TOKEN = 'pylf_v1_us_WrongApiKeyForTestsOnlyNotARealKey000000';

describe('UserTokenUpstream', () => {
  let logfire: FakeLogfire;
  const request = { expiresAt: new Date(Date.now() + 86_400_000) };

  beforeEach(async () => {
    logfire = await startFakeLogfire({ userToken: USER_TOKEN, organization: 'acme', project: 'my-cli' });
  });
  afterEach(() => logfire.close());

  function makeUpstream(credential = USER_TOKEN) {
    const http = createLogfireHttp({ timeoutMs: 2000, retries: 2, log: silentLog, sleep: async () => {} });
    const access = new LogfireAccess(async () => credential, logfire.baseUrl);
    return new UserTokenUpstream({ access, organization: 'acme', project: 'my-cli', http, log: silentLog });
  }

  it('creates a token with the raw user token, no Bearer, and no body (so no expiry)', async () => {
    const issued = await makeUpstream().createWriteToken(request);

    expect(logfire.requests).toHaveLength(1);
    const [sent] = logfire.requests;
    expect(sent).toMatchObject({
      method: 'POST',
      path: '/v1/organizations/acme/projects/my-cli/write-tokens/',
      body: '',
    });
    expect(sent!.headers.authorization).toBe(USER_TOKEN);
    expect(sent!.headers['content-type']).toBeUndefined();
    const { token } = logfire.tokens[0]!;
    expect(issued).toEqual({ token, tokenPrefix: token.slice(0, 'pylf_v1_us_'.length + 5) });
    expect(logfire.tokens[0]!.expiresAt).toBeNull();
  });

  it('cannot revoke: delete resolves without calling Logfire', async () => {
    const upstream = makeUpstream();
    await upstream.createWriteToken(request);

    await expect(upstream.deleteWriteToken('anything')).resolves.toBeUndefined();

    expect(upstream.canRevoke).toBe(false);
    expect(upstream.kind).toBe('user-token');
    expect(logfire.requests).toHaveLength(1);
    expect(logfire.tokens).toHaveLength(1);
  });

  it('rejects a token Logfire refuses, without retrying or repeating the token', async () => {
    const error = (await makeUpstream(WRONG_TOKEN)
      .createWriteToken(request)
      .catch((e: unknown) => e)) as UpstreamRejected;

    expect(error).toBeInstanceOf(UpstreamRejected);
    expect(error.upstreamStatus).toBe(401);
    expect(logfire.requests).toHaveLength(1);
    expect(`${error.message} ${error.detail}`).not.toContain(WRONG_TOKEN);
  });

  it('sends OTLP to the same base as the management API', () => {
    expect(makeUpstream().ingestBaseUrl).toBe(logfire.baseUrl);
  });
});
