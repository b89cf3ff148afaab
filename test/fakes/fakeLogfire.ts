/**
 * A strict local stand-in for Logfire (DESIGN §5): the management API for both credential kinds and OTLP
 * ingest, on 127.0.0.1 with a random port. It checks method, path (trailing slash included), headers,
 * scope and body the way Logfire does and answers 401/403/404/405/415/422 when they are wrong, so a test
 * that passes here sends what Logfire expects. It answers as Logfire does: API-created tokens have the
 * fixed description "Created by Public API" and a `token_prefix`; the list is a plain array of every live
 * token, including those an operator made in Logfire's UI (`seedToken`). Faults (429 with Retry-After,
 * 5xx, slow replies, dropped connections) are queued with `fault()` / `failNext()` and apply to the next
 * requests, whatever their route.
 *
 * Where the public sources are silent it takes the strict side: a create body with any field but
 * `expires_at` is refused (422), so a broker that passes here sends only what Logfire documents. The
 * exact shape of `token_prefix` is not documented ("Prefix of the generated write token"); here it is the
 * token's public part and 6 secret characters, one more than the broker's own fallback, so tests can tell
 * Logfire's prefix from the broker's. `expires_at` reads back exactly as it was sent.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLogfireOptions {
  /** The only API key accepted (`Authorization: Bearer <apiKey>`); unset: every API-key call gets 401. */
  apiKey?: string;
  /**
   * The API key's scopes. Default `['project:write_token']`, the one the broker documents: enough to
   * create, list and delete write tokens; `GET /api/v1/projects/` also needs `project:read`.
   */
  apiKeyScopes?: readonly string[];
  /** The only user token accepted (raw `Authorization: <userToken>`); unset: every such call gets 401. */
  userToken?: string;
  projectId?: string;
  organization?: string;
  project?: string;
  /** Region written into issued write tokens. */
  region?: string;
  /** Issued write tokens look like `pylf_v1_<region>_<secret>` (default) or `pylf_v2_<region>_<org-uuid>_<secret>`. */
  writeTokenFormat?: 'v1' | 'v2';
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
  /** The status the fake answered, or 0 when it dropped the connection. */
  status: number;
}

export interface FakeWriteToken {
  id: string;
  token: string;
  tokenPrefix: string;
  description: string | null;
  createdAt: string;
  /** Exactly as sent; null: never expires. */
  expiresAt: string | null;
  createdByName: string | null;
  createdWith: 'api-key' | 'user-token' | 'ui';
}

/** A token as an operator makes it in Logfire's web UI, not through the API. */
export interface SeededToken {
  description?: string | null;
  /** RFC 3339; default null (the UI's "never expires"). */
  expiresAt?: string | null;
  createdByName?: string | null;
}

export interface OtlpBatch {
  signal: 'traces' | 'logs' | 'metrics';
  token: string;
  contentType: string;
  /** The `Content-Encoding` header, when one was sent (the body is kept as sent, still encoded). */
  contentEncoding?: string;
  body: Buffer;
}

/** What to do with one request instead of (or before) handling it. */
export interface Fault {
  /** Wait this long first; a timeout test uses a value above the client's timeout. */
  delayMs?: number;
  /**
   * Handle the request at once, then hold the reply this long: Logfire has acted (a token exists) while
   * the caller still waits, as when a reply is lost or its reader dies.
   */
  replyDelayMs?: number;
  /** Answer this status instead of handling the request; without it the request is handled after the delay. */
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Close the socket without answering (a network error for the client). */
  dropConnection?: boolean;
}

export interface FakeLogfire {
  baseUrl: string;
  projectId: string;
  requests: RecordedRequest[];
  /** Write tokens Logfire would accept now. */
  readonly tokens: FakeWriteToken[];
  /** Every write token ever issued, deleted ones included. */
  issued: FakeWriteToken[];
  batches: OtlpBatch[];
  /** Adds a token the way an operator would in Logfire's UI; it shows in the list like any other. */
  seedToken(token?: SeededToken): FakeWriteToken;
  fault(...faults: Fault[]): void;
  /** The next `n` requests get `status` (e.g. 429 with `{ 'Retry-After': '2' }`). */
  failNext(n: number, status: number, headers?: Record<string, string>): void;
  /** Drops the faults still queued, so the next requests are handled normally. */
  clearFaults(): void;
  close(): Promise<void>;
}

/**
 * What points a broker at this fake with an API key (`npm start`'s environment, or readConfig's).
 * @example const broker = await startLocalBroker({ env: apiKeyEnv(logfire, API_KEY) });
 */
export function apiKeyEnv(logfire: FakeLogfire, apiKey: string): Record<string, string> {
  return {
    LOGFIRE_API_KEY: apiKey,
    LOGFIRE_PROJECT_ID: logfire.projectId,
    LOGFIRE_BASE_URL: logfire.baseUrl,
  };
}

const API_TOKENS = /^\/api\/v1\/projects\/([^/]+)\/write-tokens\/$/;
const API_TOKEN = /^\/api\/v1\/projects\/([^/]+)\/write-tokens\/([^/]+)\/$/;
const USER_TOKENS = /^\/v1\/organizations\/([^/]+)\/projects\/([^/]+)\/write-tokens\/$/;
const INGEST = /^\/v1\/(traces|logs|metrics)$/;

/** What Logfire writes as the description of every token made through its public API. */
export const PUBLIC_API_DESCRIPTION = 'Created by Public API';
const ORGANIZATION_ID = '3f6c2a1e-8b4d-4c7a-9e2f-5d1b0a9c8e7f';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * @example
 * const logfire = await startFakeLogfire({ apiKey, projectId: 'p1' });
 * logfire.failNext(1, 429, { 'Retry-After': '2' });
 * // ... point the adapter at logfire.baseUrl, then inspect logfire.requests
 * await logfire.close();
 */
export async function startFakeLogfire(options: FakeLogfireOptions = {}): Promise<FakeLogfire> {
  const projectId = options.projectId ?? '6c1f0d4e-2b7a-4c59-9e61-0a4d3b2c1f00';
  const organization = options.organization ?? 'fake-org';
  const scopes = options.apiKeyScopes ?? ['project:write_token'];
  const project = options.project ?? 'fake-project';
  const live = new Map<string, FakeWriteToken>();
  const faults: Fault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const requests: RecordedRequest[] = [];
  const batches: OtlpBatch[] = [];
  const issued: FakeWriteToken[] = [];

  const issue = (
    createdWith: FakeWriteToken['createdWith'],
    fields: { description: string | null; expiresAt: string | null; createdByName: string | null },
  ) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const secret = [...randomBytes(40)].map((byte) => alphabet[byte % alphabet.length]).join('');
    const region = options.region ?? 'us';
    const publicPart =
      options.writeTokenFormat === 'v2' ? `pylf_v2_${region}_${ORGANIZATION_ID}_` : `pylf_v1_${region}_`;
    const token: FakeWriteToken = {
      id: randomUUID(),
      token: `${publicPart}${secret}`,
      tokenPrefix: `${publicPart}${secret.slice(0, 6)}`,
      createdAt: new Date().toISOString(),
      ...fields,
      createdWith,
    };
    live.set(token.id, token);
    issued.push(token);
    return token;
  };
  const isLive = (token: FakeWriteToken) =>
    token.expiresAt === null || Date.parse(token.expiresAt) > Date.now();

  const apiKeyRoutes = (
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string,
  ): Reply => {
    const one = API_TOKEN.exec(path);
    const many = API_TOKENS.exec(path);
    const allowed = path === '/api/v1/projects/' ? ['GET'] : many ? ['GET', 'POST'] : one ? ['DELETE'] : [];
    if (allowed.length === 0) return { status: 404, body: { detail: 'Not Found' } };
    if (!allowed.includes(method)) return { status: 405, body: { detail: 'Method Not Allowed' } };
    if (!options.apiKey || headers.authorization !== `Bearer ${options.apiKey}`) {
      return { status: 401, body: { detail: 'Invalid API key' } };
    }
    const needed = path === '/api/v1/projects/' ? 'project:read' : 'project:write_token';
    if (!scopes.includes(needed)) return { status: 403, body: { detail: `Missing scope ${needed}` } };
    if (path === '/api/v1/projects/') {
      const created_at = '2025-01-01T00:00:00Z';
      const info = { id: projectId, project_name: project, organization_name: organization, created_at };
      return { status: 200, body: [{ ...info, description: null, visibility: 'public' }] };
    }
    if (decodeURIComponent((one ?? many)![1]!) !== projectId)
      return { status: 404, body: { detail: 'Project not found' } };
    if (one) {
      const id = decodeURIComponent(one[2]!);
      if (!live.delete(id)) return { status: 404, body: { detail: 'Write token not found' } };
      return { status: 204 };
    }
    if (method === 'GET') {
      return {
        status: 200,
        body: [...live.values()].filter(isLive).map((t) => describe(t, projectId, project)),
      };
    }
    const checked = checkCreateBody(headers['content-type'], body);
    if (!checked.ok) return { status: 422, body: { detail: [checked.problem] } };
    const token = issue('api-key', {
      description: PUBLIC_API_DESCRIPTION,
      expiresAt: checked.fields.expires_at ?? null,
      createdByName: null,
    });
    return { status: 201, body: { ...describe(token, projectId, project), token: token.token } };
  };

  const handle = (method: string, path: string, headers: Record<string, string>, raw: Buffer): Reply => {
    if (path.startsWith('/api/')) return apiKeyRoutes(method, path, headers, raw.toString('utf8'));
    const user = USER_TOKENS.exec(path);
    if (user) {
      if (method !== 'POST') return { status: 405, body: { detail: 'Method Not Allowed' } };
      if (!options.userToken || headers.authorization !== options.userToken) {
        return { status: 401, body: { detail: 'Invalid token' } };
      }
      if (decodeURIComponent(user[1]!) !== organization || decodeURIComponent(user[2]!) !== project) {
        return { status: 404, body: { detail: 'Project not found' } };
      }
      // pydantic/logfire's client sends no body here; anything else is a different, unknown request.
      if (raw.length > 0)
        return { status: 422, body: { detail: [{ type: 'no_body', msg: 'Expected no body' }] } };
      const token = issue('user-token', { description: null, expiresAt: null, createdByName: null });
      return {
        status: 200,
        body: {
          token: token.token,
          project_name: project,
          project_url: `https://logfire.example/${organization}/${project}`,
        },
      };
    }
    const ingest = INGEST.exec(path);
    if (ingest) {
      if (method !== 'POST') return { status: 405, body: { detail: 'Method Not Allowed' } };
      const token = [...live.values()].find((t) => t.token === headers.authorization && isLive(t));
      if (!token) return { status: 401, body: { detail: 'Invalid token' } };
      const contentType = (headers['content-type'] ?? '').split(';')[0]!.trim();
      if (contentType !== 'application/x-protobuf' && contentType !== 'application/json') {
        return { status: 415, body: { detail: 'Unsupported Media Type' } };
      }
      batches.push({
        signal: ingest[1] as OtlpBatch['signal'],
        token: token.token,
        contentType,
        ...(headers['content-encoding'] ? { contentEncoding: headers['content-encoding'] } : {}),
        body: raw,
      });
      // OTLP/HTTP's success reply in the request's encoding: an empty protobuf message, or `{}`.
      return contentType === 'application/json'
        ? { status: 200, body: {} }
        : { status: 200, headers: { 'content-type': 'application/x-protobuf' } };
    }
    return { status: 404, body: { detail: 'Not Found' } };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const record: RecordedRequest = {
        method: req.method ?? '',
        path,
        headers,
        body: raw.toString('utf8'),
        status: 0,
      };
      requests.push(record);
      const fault = faults.shift();
      const respond = () => {
        if (fault?.dropConnection) return req.socket.destroy();
        const reply: Reply =
          fault?.status !== undefined
            ? {
                status: fault.status,
                headers: fault.headers,
                body: fault.body ?? { detail: 'Injected fault' },
              }
            : handle(record.method, path, headers, raw);
        record.status = reply.status;
        if (!fault?.replyDelayMs) return send(res, reply);
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) send(res, reply);
        }, fault.replyDelayMs);
        timers.add(timer);
      };
      if (fault?.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) respond();
        }, fault.delayMs);
        timers.add(timer);
      } else {
        respond();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    projectId,
    requests,
    get tokens() {
      return [...live.values()].filter(isLive);
    },
    issued,
    batches,
    seedToken: (seed = {}) =>
      issue('ui', {
        description: seed.description === undefined ? 'made in the UI' : seed.description,
        expiresAt: seed.expiresAt ?? null,
        createdByName: seed.createdByName === undefined ? 'Operator' : seed.createdByName,
      }),
    fault: (...more) => void faults.push(...more),
    failNext: (n, status, headers) => {
      for (let i = 0; i < n; i++) faults.push({ status, headers });
    },
    clearFaults: () => void faults.splice(0),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function describe(token: FakeWriteToken, projectId: string, projectName: string): Record<string, unknown> {
  return {
    id: token.id,
    project_id: projectId,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    description: token.description,
    token_prefix: token.tokenPrefix,
    project_name: projectName,
    created_by_name: token.createdByName,
  };
}

type CreateFields = { expires_at?: string | null };

/** Validates a create body like FastAPI/pydantic would; returns the fields, or one 422 error item. */
function checkCreateBody(
  contentType: string | undefined,
  body: string,
): { ok: true; fields: CreateFields } | { ok: false; problem: Record<string, unknown> } {
  const error = (type: string, loc: string[], msg: string) =>
    ({ ok: false, problem: { type, loc: ['body', ...loc], msg } }) as const;
  if (!contentType?.startsWith('application/json'))
    return error('model_attributes_type', [], 'Expected JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return error('json_invalid', [], 'JSON decode error');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return error('model_attributes_type', [], 'Input should be a valid dictionary');
  }
  const fields = parsed as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== 'expires_at') return error('extra_forbidden', [key], 'Extra inputs are not permitted');
  }
  const expiresAt = fields.expires_at;
  if (expiresAt !== undefined && expiresAt !== null) {
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
    if (typeof expiresAt !== 'string' || !iso.test(expiresAt)) {
      return error(
        'datetime_from_date_parsing',
        ['expires_at'],
        'Input should be a valid datetime with a timezone',
      );
    }
    if (Date.parse(expiresAt) <= Date.now())
      return error('value_error', ['expires_at'], 'Must be in the future');
  }
  return { ok: true, fields: fields as CreateFields };
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.body === undefined || reply.status === 204) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  res
    .writeHead(reply.status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(reply.body));
}
