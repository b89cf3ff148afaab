import { UpstreamUnavailable } from '../../core/errors';
import type { Log } from '../../core/ports';
import { captureLog, silentLog } from '../../../test/support/log';
import { PUBLIC_API_DESCRIPTION, startFakeLogfire, type FakeLogfire } from '../../../test/fakes/fakeLogfire';
import { ApiKeyUpstream } from './apiKey';
import { UpstreamRejected } from './errors';
import { createLogfireHttp } from './http';
import { LogfireAccess } from './region';

const API_KEY = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';

describe('ApiKeyUpstream', () => {
  let logfire: FakeLogfire;
  // Milliseconds included: the broker's reconciliation matches tokens by their exact expires_at.
  const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 14 * 86_400_000 + 123);

  beforeEach(async () => {
    logfire = await startFakeLogfire({ apiKey: API_KEY });
  });
  afterEach(() => logfire.close());

  function makeUpstream(projectId = logfire.projectId, log: Log = silentLog) {
    const http = createLogfireHttp({ timeoutMs: 2000, retries: 2, log, sleep: async () => {} });
    const access = new LogfireAccess(async () => API_KEY, logfire.baseUrl);
    return new ApiKeyUpstream({ access, projectId, http, log });
  }

  describe('Method: createWriteToken', () => {
    it('sends only expires_at, as Logfire takes, and returns its id, token and token_prefix', async () => {
      const upstream = makeUpstream();

      const issued = await upstream.createWriteToken({ expiresAt });

      expect(logfire.requests).toHaveLength(1);
      const [request] = logfire.requests;
      expect(request).toMatchObject({
        method: 'POST',
        path: `/api/v1/projects/${logfire.projectId}/write-tokens/`,
        status: 201,
      });
      expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request!.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request!.body)).toEqual({ expires_at: expiresAt.toISOString() });
      const [live] = logfire.tokens;
      expect(issued).toEqual({ upstreamId: live!.id, token: live!.token, tokenPrefix: live!.tokenPrefix });
      expect(live!.expiresAt).toBe(expiresAt.toISOString());
      expect(live!.description).toBe(PUBLIC_API_DESCRIPTION);
    });

    it("logs Logfire's token_prefix at DEBUG, for an operator to match, and never the token", async () => {
      const { log, lines } = captureLog();

      const { token, tokenPrefix } = await makeUpstream(logfire.projectId, log).createWriteToken({
        expiresAt,
      });

      expect(lines).toEqual([
        {
          level: 'debug',
          message: 'Logfire write token created',
          attributes: {
            upstreamId: logfire.tokens[0]!.id,
            tokenPrefix,
            expiresAt: expiresAt.toISOString(),
          },
        },
      ]);
      expect(JSON.stringify(lines)).not.toContain(token);
    });

    it("takes the token's start as its prefix when Logfire sends no token_prefix", async () => {
      const token = 'pylf_v1_us_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd';
      logfire.fault({ status: 201, body: { id: 'a1', token, description: PUBLIC_API_DESCRIPTION } });

      const issued = await makeUpstream().createWriteToken({ expiresAt });

      expect(issued).toEqual({ upstreamId: 'a1', token, tokenPrefix: 'pylf_v1_us_AbCdE' });
    });

    it('rejects a project Logfire does not know, without retrying', async () => {
      const upstream = makeUpstream('00000000-0000-4000-8000-00000000dead');

      const error = (await upstream
        .createWriteToken({ expiresAt })
        .catch((e: unknown) => e)) as UpstreamRejected;

      expect(error).toBeInstanceOf(UpstreamRejected);
      expect(error.upstreamStatus).toBe(404);
      expect(logfire.requests).toHaveLength(1);
    });

    it('answers UpstreamUnavailable for a 2xx reply without a token', async () => {
      const upstream = makeUpstream();
      logfire.fault({ status: 201, body: { id: 'abc' } });

      const error = await upstream.createWriteToken({ expiresAt }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(UpstreamUnavailable);
      expect(error).not.toBeInstanceOf(UpstreamRejected);
      expect((error as Error).message).toContain('does not understand');
    });
  });

  describe('Method: deleteWriteToken', () => {
    it('deletes the token by id with DELETE and a trailing slash', async () => {
      const upstream = makeUpstream();
      const { upstreamId } = await upstream.createWriteToken({ expiresAt });

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
      const { upstreamId } = await upstream.createWriteToken({ expiresAt });
      logfire.failNext(1, 503);

      await upstream.deleteWriteToken(upstreamId!);

      expect(logfire.requests.map((r) => r.status)).toEqual([201, 503, 204]);
    });
  });

  describe('Method: listWriteTokens', () => {
    it("lists every live token of the project, the operator's too, with expires_at as sent", async () => {
      const upstream = makeUpstream();
      const { upstreamId, token, tokenPrefix } = await upstream.createWriteToken({ expiresAt });
      const byHand = logfire.seedToken({ description: 'CI runner' });

      const listed = await upstream.listWriteTokens();

      expect(listed).toEqual([
        {
          upstreamId,
          description: PUBLIC_API_DESCRIPTION,
          createdAt: logfire.tokens[0]!.createdAt,
          expiresAt: expiresAt.toISOString(),
          tokenPrefix,
        },
        {
          upstreamId: byHand.id,
          description: 'CI runner',
          createdAt: byHand.createdAt,
          expiresAt: undefined,
          tokenPrefix: byHand.tokenPrefix,
        },
      ]);
      expect(JSON.stringify(listed)).not.toContain(token);
    });

    it('reads times Logfire writes the Python way (+00:00, microseconds) as toISOString() does', async () => {
      logfire.fault({
        status: 200,
        body: [
          {
            id: 'a1',
            created_at: '2030-01-01T00:00:00.000001+00:00',
            expires_at: '2030-01-15T10:20:30.123000+00:00',
            token_prefix: 'pylf_v1_us_AbCdEf',
          },
        ],
      });

      const [listed] = await makeUpstream().listWriteTokens();

      expect(listed).toMatchObject({
        createdAt: '2030-01-01T00:00:00.000Z',
        expiresAt: '2030-01-15T10:20:30.123Z',
      });
    });
  });

  it('needs no more than project:write_token: create, list and delete never ask for project:read', async () => {
    const upstream = makeUpstream();

    const { upstreamId } = await upstream.createWriteToken({ expiresAt });
    await upstream.listWriteTokens();
    await upstream.deleteWriteToken(upstreamId!);

    expect(logfire.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 201],
      ['GET', 200],
      ['DELETE', 204],
    ]);
  });

  it('reports the management base as the OTLP ingest base, and can revoke', () => {
    const upstream = makeUpstream();

    expect(upstream.ingestBaseUrl).toBe(logfire.baseUrl);
    expect(upstream.kind).toBe('api-key');
    expect(upstream.canRevoke).toBe(true);
  });
});
