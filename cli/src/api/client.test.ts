import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, CliError, EXIT } from '../errors';
import { createAdminClient, queryString } from './client';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1 that records each request and answers what the test says. */
async function startServer(
  answer: (seen: Seen) => { status: number; body: string; headers?: Record<string, string> },
) {
  const seen: Seen[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const entry = { method: request.method!, url: request.url!, headers: request.headers, body };
      seen.push(entry);
      const reply = answer(entry);
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(reply.body);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/stage`);
  return { url, seen, close: () => new Promise<void>((done) => server.close(() => done())) };
}

const credentials = () =>
  Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'a-secret-key-0123456789' });

describe('Function: createAdminClient', () => {
  it('signs with SigV4 for execute-api in the region, under the endpoint path, with the OTP header signed', async () => {
    const server = await startServer(() => ({ status: 200, body: '{"ok":true}' }));
    try {
      const client = createAdminClient({ endpoint: server.url, region: 'eu-west-1', credentials });
      const reply = await client.request('PUT', 'quotas', { body: { mintsPerDay: 5 }, otp: '123456' });
      expect(reply).toEqual({ ok: true });
      const [request] = server.seen;
      expect(request!.method).toBe('PUT');
      expect(request!.url).toBe('/stage/v1/admin/quotas');
      expect(request!.body).toBe('{"mintsPerDay":5}');
      expect(request!.headers['x-broker-otp']).toBe('123456');
      expect(request!.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-broker-otp;x-broker-request-id, Signature=[0-9a-f]{64}$/,
      );
      expect(request!.headers['x-broker-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      // The secret key never travels.
      expect(JSON.stringify(request)).not.toContain('a-secret-key');
    } finally {
      await server.close();
    }
  });

  it('sends the query encoded as SigV4 canonicalizes it (a space is %20)', async () => {
    const server = await startServer(() => ({ status: 200, body: '{"tokens":[]}' }));
    try {
      const client = createAdminClient({ endpoint: server.url, region: 'us-east-1', credentials });
      await client.request('GET', 'tokens', {
        query: { version: '>=1.2.0 <1.4.0', app: undefined, limit: 5 },
      });
      expect(server.seen[0]!.url).toBe('/stage/v1/admin/tokens?version=%3E%3D1.2.0%20%3C1.4.0&limit=5');
    } finally {
      await server.close();
    }
  });

  it.each([
    [400, 'invalid_request', EXIT.usage],
    [401, 'otp_invalid', EXIT.refused],
    [403, 'forbidden', EXIT.refused],
    [429, 'otp_locked', EXIT.refused],
    [503, 'otp_not_configured', EXIT.refused],
    [404, 'not_found', EXIT.failed],
    [500, 'internal_error', EXIT.failed],
  ])(
    'turns a %i %s reply into an ApiError with exit code %i and its message',
    async (status, code, exitCode) => {
      const server = await startServer(() => ({
        status,
        body: JSON.stringify({ error: { code, message: 'the broker says no' } }),
        headers: { 'retry-after': '60' },
      }));
      try {
        const client = createAdminClient({ endpoint: server.url, region: 'us-east-1', credentials });
        const failure = await client.request('GET', 'stats').catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(ApiError);
        expect(failure).toMatchObject({ status, code, exitCode });
        expect((failure as Error).message).toBe(`the broker says no (try again in 60 s) [${status} ${code}]`);
      } finally {
        await server.close();
      }
    },
  );

  it("reads API Gateway's own refusals ({message})", async () => {
    const server = await startServer(() => ({
      status: 403,
      body: '{"message":"Missing Authentication Token"}',
    }));
    try {
      const client = createAdminClient({ endpoint: server.url, region: 'us-east-1', credentials });
      await expect(client.request('GET', 'stats')).rejects.toMatchObject({
        exitCode: EXIT.refused,
        message: 'Missing Authentication Token [403 http_403]',
      });
    } finally {
      await server.close();
    }
  });

  it('fails with exit code 1 and the address when the broker cannot be reached', async () => {
    const server = await startServer(() => ({ status: 200, body: '{}' }));
    await server.close();
    const client = createAdminClient({ endpoint: server.url, region: 'us-east-1', credentials });
    const failure = await client.request('GET', 'stats').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CliError);
    expect(failure).toMatchObject({ exitCode: EXIT.failed });
    expect((failure as Error).message).toMatch(
      /Cannot reach the broker at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
  });
});

describe('Function: queryString', () => {
  it("escapes RFC 3986's reserved characters", () => {
    expect(queryString({ a: "x y!'()*", b: 'c/d' })).toBe('?a=x%20y%21%27%28%29%2A&b=c%2Fd');
  });
});
