import { UpstreamUnavailable } from '../../core/errors';
import type { Log } from '../../core/ports';
import { startFakeLogfire, type FakeLogfire } from '../../../test/fakes/fakeLogfire';
import { ApiKeyUpstream } from './apiKey';
import { UpstreamRejected } from './errors';
import { createLogfireHttp } from './http';
import { LogfireAccess } from './region';

const API_KEY = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';
const quietLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('ApiKeyUpstream', () => {
  let logfire: FakeLogfire;
  const expiresAt = new Date(Date.now() + 14 * 86_400_000);

  beforeEach(async () => {
    logfire = await startFakeLogfire({ apiKey: API_KEY });
  });
  afterEach(() => logfire.close());

  function makeUpstream(projectId = logfire.projectId) {
    const http = createLogfireHttp({ timeoutMs: 2000, retries: 2, log: quietLog, sleep: async () => {} });
    const access = new LogfireAccess(async () => API_KEY, logfire.baseUrl);
    return new ApiKeyUpstream({ access, projectId, http, log: quietLog });
  }

  describe('Method: createWriteToken', () => {
    it('sends exactly the request Logfire expects and returns its id and token', async () => {
      const upstream = makeUpstream();

      const issued = await upstream.createWriteToken({ description: 'install abc (mycli 1.2.0)', expiresAt });

      expect(logfire.requests).toHaveLength(1);
      const [request] = logfire.requests;
      expect(request).toMatchObject({
        method: 'POST',
        path: `/api/v1/projects/${logfire.projectId}/write-tokens/`,
        status: 201,
      });
      expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request!.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request!.body)).toEqual({
        expires_at: expiresAt.toISOString(),
        description: 'install abc (mycli 1.2.0)',
      });
      const [live] = logfire.tokens;
      expect(issued).toEqual({ upstreamId: live!.id, token: live!.token });
      expect(live!.expiresAt).toBe(expiresAt.toISOString());
    });

    it('rejects a project Logfire does not know, without retrying', async () => {
      const upstream = makeUpstream('00000000-0000-4000-8000-00000000dead');

      const error = (await upstream
        .createWriteToken({ description: 'x', expiresAt })
        .catch((e: unknown) => e)) as UpstreamRejected;

      expect(error).toBeInstanceOf(UpstreamRejected);
      expect(error.upstreamStatus).toBe(404);
      expect(logfire.requests).toHaveLength(1);
    });

    it('answers UpstreamUnavailable for a 2xx reply without a token', async () => {
      const upstream = makeUpstream();
      logfire.fault({ status: 201, body: { id: 'abc' } });

      const error = await upstream.createWriteToken({ description: 'x', expiresAt }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(UpstreamUnavailable);
      expect(error).not.toBeInstanceOf(UpstreamRejected);
      expect((error as Error).message).toContain('does not understand');
    });
  });

  describe('Method: deleteWriteToken', () => {
    it('deletes the token by id with DELETE and a trailing slash', async () => {
      const upstream = makeUpstream();
      const { upstreamId } = await upstream.createWriteToken({ description: 'x', expiresAt });

      await upstream.deleteWriteToken(upstreamId!);

      const request = logfire.requests[1]!;
      expect(request.method).toBe('DELETE');
      expect(request.path).toBe(`/api/v1/projects/${logfire.projectId}/write-tokens/${upstreamId}/`);
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request.body).toBe('');
      expect(request.status).toBe(204);
      expect(logfire.tokens).toEqual([]);
    });

    it('counts a token Logfire no longer knows (404) as deleted', async () => {
      const upstream = makeUpstream();

      await expect(
        upstream.deleteWriteToken('5d6c1b0a-0000-4000-8000-000000000000'),
      ).resolves.toBeUndefined();

      expect(logfire.requests.map((r) => r.status)).toEqual([404]);
    });

    it('retries a delete that met a 503', async () => {
      const upstream = makeUpstream();
      const { upstreamId } = await upstream.createWriteToken({ description: 'x', expiresAt });
      logfire.failNext(1, 503);

      await upstream.deleteWriteToken(upstreamId!);

      expect(logfire.requests.map((r) => r.status)).toEqual([201, 503, 204]);
    });
  });

  describe('Method: listWriteTokens', () => {
    it('lists the project tokens without their secret', async () => {
      const upstream = makeUpstream();
      const { upstreamId, token } = await upstream.createWriteToken({ description: 'listed', expiresAt });

      const listed = await upstream.listWriteTokens();

      expect(listed).toEqual([expect.objectContaining({ upstreamId, description: 'listed' })]);
      expect(JSON.stringify(listed)).not.toContain(token);
    });
  });

  describe('Method: verify', () => {
    it('finds the configured project with GET /api/v1/projects/', async () => {
      const result = await makeUpstream().verify();

      expect(result).toEqual({ projectName: 'fake-project', organizationName: 'fake-org' });
      expect(logfire.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/projects/' });
    });

    it('fails when the key cannot see the configured project', async () => {
      await expect(makeUpstream('not-my-project').verify()).rejects.toThrow(/LOGFIRE_PROJECT_ID/);
    });
  });

  it('reports the management base as the OTLP ingest base, and can revoke', () => {
    const upstream = makeUpstream();

    expect(upstream.ingestBaseUrl).toBe(logfire.baseUrl);
    expect(upstream.kind).toBe('api-key');
    expect(upstream.canRevoke).toBe(true);
  });
});
