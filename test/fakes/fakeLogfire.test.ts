import { startFakeLogfire, type FakeLogfire } from './fakeLogfire';

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
    it('creates a token for a well-formed request', async () => {
      const reply = await create({ expires_at: future(), description: 'd' });

      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({
        project_id: logfire.projectId,
        description: 'd',
        token: logfire.tokens[0]!.token,
      });
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
      ['a date without a timezone', { expires_at: '2031-01-01T00:00:00' }, {}],
      ['a date in the past', { expires_at: '2001-01-01T00:00:00Z' }, {}],
      ['a description that is not a string', { description: 5 }, {}],
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

      expect(listed.body).toEqual([expect.objectContaining({ id })]);
      expect(listed.body).toEqual([expect.not.objectContaining({ token: expect.anything() })]);
      expect(deleted.status).toBe(204);
      expect(again.status).toBe(404);
    });

    it('lists the project with GET /api/v1/projects/ and refuses other methods', async () => {
      const auth = { authorization: `Bearer ${API_KEY}` };

      const listed = await call('/api/v1/projects/', { headers: auth });
      const posted = await call('/api/v1/projects/', { method: 'POST', headers: auth });

      expect(listed.body).toEqual([expect.objectContaining({ id: logfire.projectId, project_name: 'cli' })]);
      expect(posted.status).toBe(405);
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
  });

  describe('faults', () => {
    it('answers queued faults in order, then behaves normally', async () => {
      logfire.failNext(1, 429, { 'Retry-After': '3' });
      logfire.fault({ status: 503 });

      const first = await call('/api/v1/projects/', { headers: { authorization: `Bearer ${API_KEY}` } });
      const second = await call('/api/v1/projects/', { headers: { authorization: `Bearer ${API_KEY}` } });
      const third = await call('/api/v1/projects/', { headers: { authorization: `Bearer ${API_KEY}` } });

      expect([first.status, second.status, third.status]).toEqual([429, 503, 200]);
      expect(first.headers.get('retry-after')).toBe('3');
    });
  });
});
