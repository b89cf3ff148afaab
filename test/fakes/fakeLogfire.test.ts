import { PUBLIC_API_DESCRIPTION, startFakeLogfire, type FakeLogfire } from './fakeLogfire';

const API_KEY = 'pylf_v1_us_FakeApiKeyForTestsOnlyNotARealKey0000000';
const USER_TOKEN = 'pylf_v1_us_FakeUserTokenForTestsOnlyNotRealAtAll000';

describe('fake Logfire', () => {
  let logfire: FakeLogfire;
  const future = () => new Date(Date.now() + 86_400_000).toISOString();

  beforeEach(async () => {
    logfire = await startFakeLogfire({
      apiKey: API_KEY,
      userToken: USER_TOKEN,
      organization: 'acme',
      project: 'cli',
    });
  });
  afterEach(() => logfire.close());

  const tokensPath = () => `/api/v1/projects/${logfire.projectId}/write-tokens/`;
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${logfire.baseUrl}${path}`, init);
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as unknown) : undefined,
      headers: response.headers,
    };
  };
  const create = (body: unknown, headers: Record<string, string> = {}) =>
    call(tokensPath(), {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  describe('API-key routes', () => {
    it('creates a token as Logfire does: fixed description, token_prefix, expires_at as sent', async () => {
      const expiresAt = '2031-02-03T04:05:06.789Z';

      const reply = await create({ expires_at: expiresAt });

      expect(reply.status).toBe(201);
      const [live] = logfire.tokens;
      expect(reply.body).toEqual({
        id: live!.id,
        project_id: logfire.projectId,
        created_at: live!.createdAt,
        expires_at: expiresAt,
        description: PUBLIC_API_DESCRIPTION,
        token: live!.token,
        token_prefix: live!.token.slice(0, 'pylf_v1_us_'.length + 6),
        project_name: 'cli',
        created_by_name: null,
      });
    });

    it('creates a token that never expires when expires_at is left out', async () => {
      const reply = await create({});

      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({ expires_at: null, description: PUBLIC_API_DESCRIPTION });
    });

    it('issues v2 tokens with the organization id in them, and a prefix that stops past it', async () => {
      const v2 = await startFakeLogfire({ apiKey: API_KEY, writeTokenFormat: 'v2', region: 'eu' });
      try {
        const response = await fetch(`${v2.baseUrl}/api/v1/projects/${v2.projectId}/write-tokens/`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          body: '{}',
        });
        const body = (await response.json()) as { token: string; token_prefix: string };

        expect(body.token).toMatch(/^pylf_v2_eu_[0-9a-f-]{36}_[A-Za-z0-9]{40}$/);
        expect(body.token_prefix).toBe(body.token.slice(0, body.token.lastIndexOf('_') + 7));
      } finally {
        await v2.close();
      }
    });

    it('answers 401 without "Bearer" or with another key', async () => {
      expect((await create({}, { authorization: API_KEY })).status).toBe(401);
      expect((await create({}, { authorization: 'Bearer nope' })).status).toBe(401);
    });

    it('answers 404 without the trailing slash or for another project', async () => {
      const noSlash = await call(tokensPath().slice(0, -1), {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      const otherProject = await call('/api/v1/projects/other/write-tokens/', {
        headers: { authorization: `Bearer ${API_KEY}` },
      });

      expect(noSlash.status).toBe(404);
      expect(otherProject.status).toBe(404);
    });

    it.each([
      ['a body that is not JSON-typed', { expires_at: future() }, { 'content-type': 'text/plain' }],
      ['an unknown field', { expires_at: future(), name: 'x' }, {}],
      ['a description, which the public API does not take', { expires_at: future(), description: 'd' }, {}],
      ['a date without a timezone', { expires_at: '2031-01-01T00:00:00' }, {}],
      ['a date in the past', { expires_at: '2001-01-01T00:00:00Z' }, {}],
      ['a JSON array', '[]', {}],
    ])('answers 422 for %s', async (_case, body, headers) => {
      const reply = await create(body, headers as Record<string, string>);

      expect(reply.status).toBe(422);
      expect(logfire.tokens).toEqual([]);
    });

    it('lists, deletes (204) and then 404s a token', async () => {
      const { body } = await create({ expires_at: future() });
      const id = (body as { id: string }).id;
      const auth = { authorization: `Bearer ${API_KEY}` };

      const listed = await call(tokensPath(), { headers: auth });
      const deleted = await call(`${tokensPath()}${id}/`, { method: 'DELETE', headers: auth });
      const again = await call(`${tokensPath()}${id}/`, { method: 'DELETE', headers: auth });

      expect(listed.body).toEqual([expect.objectContaining({ id, description: PUBLIC_API_DESCRIPTION })]);
      expect(listed.body).toEqual([expect.not.objectContaining({ token: expect.anything() })]);
      expect(deleted.status).toBe(204);
      expect(again.status).toBe(404);
    });

    it('lists tokens an operator made in the UI next to API-made ones, as a plain array', async () => {
      const { body } = await create({ expires_at: '2031-01-01T00:00:00.001Z' });
      const seeded = logfire.seedToken({ description: 'laptop', createdByName: 'Ada' });

      const listed = await call(tokensPath(), { headers: { authorization: `Bearer ${API_KEY}` } });

      expect(listed.body).toEqual([
        {
          id: (body as { id: string }).id,
          project_id: logfire.projectId,
          created_at: expect.any(String),
          expires_at: '2031-01-01T00:00:00.001Z',
          description: PUBLIC_API_DESCRIPTION,
          token_prefix: expect.stringMatching(/^pylf_v1_us_[A-Za-z0-9]{6}$/),
          project_name: 'cli',
          created_by_name: null,
        },
        expect.objectContaining({
          id: seeded.id,
          expires_at: null,
          description: 'laptop',
          created_by_name: 'Ada',
          token_prefix: seeded.tokenPrefix,
        }),
      ]);
    });

    it('answers 403 on GET /api/v1/projects/ unless the key has project:read', async () => {
      const auth = { authorization: `Bearer ${API_KEY}` };
      const reader = await startFakeLogfire({
        apiKey: API_KEY,
        apiKeyScopes: ['project:write_token', 'project:read'],
      });
      try {
        const refused = await call('/api/v1/projects/', { headers: auth });
        const listed = await fetch(`${reader.baseUrl}/api/v1/projects/`, { headers: auth });
        const posted = await fetch(`${reader.baseUrl}/api/v1/projects/`, { method: 'POST', headers: auth });

        expect(refused.status).toBe(403);
        expect(await listed.json()).toEqual([expect.objectContaining({ id: reader.projectId })]);
        expect(posted.status).toBe(405);
      } finally {
        await reader.close();
      }
    });

    it('answers 403 for write-token routes when the key lacks project:write_token', async () => {
      const narrow = await startFakeLogfire({ apiKey: API_KEY, apiKeyScopes: ['project:read'] });
      try {
        const response = await fetch(`${narrow.baseUrl}/api/v1/projects/${narrow.projectId}/write-tokens/`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });

        expect(response.status).toBe(403);
      } finally {
        await narrow.close();
      }
    });
  });

  describe('user-token route', () => {
    const path = '/v1/organizations/acme/projects/cli/write-tokens/';

    it('creates a token with the raw user token and no body', async () => {
      const reply = await call(path, { method: 'POST', headers: { authorization: USER_TOKEN } });

      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ token: logfire.tokens[0]!.token, project_name: 'cli' });
    });

    it('answers 401 for "Bearer", 404 for another project and 422 for a body', async () => {
      const bearer = await call(path, { method: 'POST', headers: { authorization: `Bearer ${USER_TOKEN}` } });
      const other = await call('/v1/organizations/acme/projects/x/write-tokens/', {
        method: 'POST',
        headers: { authorization: USER_TOKEN },
      });
      const withBody = await call(path, {
        method: 'POST',
        headers: { authorization: USER_TOKEN },
        body: '{}',
      });

      expect([bearer.status, other.status, withBody.status]).toEqual([401, 404, 422]);
    });
  });

  describe('OTLP ingest', () => {
    it('accepts only live write tokens, sent raw, and records the batch', async () => {
      const { body } = await create({ expires_at: future() });
      const { id, token } = body as { id: string; token: string };
      const send = (authorization: string, contentType = 'application/x-protobuf') =>
        call('/v1/traces', {
          method: 'POST',
          headers: { authorization, 'content-type': contentType },
          body: 'abc',
        });

      expect((await send(token)).status).toBe(200);
      expect((await send(`Bearer ${token}`)).status).toBe(401);
      expect((await send(token, 'text/plain')).status).toBe(415);
      await call(`${tokensPath()}${id}/`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect((await send(token)).status).toBe(401);

      expect(logfire.batches).toHaveLength(1);
      expect(logfire.batches[0]).toMatchObject({
        signal: 'traces',
        token,
        contentType: 'application/x-protobuf',
      });
    });

    it('answers an export as OTLP/HTTP does: an empty protobuf message, or {} for JSON', async () => {
      const { body } = await create({ expires_at: future() });
      const { token } = body as { token: string };
      const send = (contentType: string) =>
        call('/v1/logs', { method: 'POST', headers: { authorization: token, 'content-type': contentType } });

      const protobuf = await send('application/x-protobuf');
      const json = await send('application/json');

      expect(protobuf.headers.get('content-type')).toBe('application/x-protobuf');
      expect(protobuf.body).toBeUndefined();
      expect(json.body).toEqual({});
    });
  });

  describe('faults', () => {
    it('answers queued faults in order, then behaves normally', async () => {
      logfire.failNext(1, 429, { 'Retry-After': '3' });
      logfire.fault({ status: 503 });

      const list = () => call(tokensPath(), { headers: { authorization: `Bearer ${API_KEY}` } });
      const first = await list();
      const second = await list();
      const third = await list();

      expect([first.status, second.status, third.status]).toEqual([429, 503, 200]);
      expect(first.headers.get('retry-after')).toBe('3');
    });
  });
});
