/**
 * Test support (not shipped): a tiny broker on 127.0.0.1 that implements the three client routes of the
 * HTTP contract, records every call and every TCP connection, and can be told to pause, rotate, revoke,
 * refuse, stall or fail, or to lose a reply after doing the work. Refreshes follow the broker's refresh
 * grace: the just-spent secret gets the same successor for `refreshGraceMs`, reuse after it revokes. The real broker is exercised by the child-process tests in test/.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HeartbeatStatus, IssuedToken } from '../../../../functions/core/contract';

export type StubRoute = 'mint' | 'heartbeat' | 'refresh' | 'other';

export interface StubCall {
  route: StubRoute;
  tokenId?: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface StubToken {
  tokenId: string;
  writeToken: string;
  clientSecret: string;
  installId: string;
  status: HeartbeatStatus | 'refreshed';
  expiresAt: number;
  /** Set by a refresh: the reply it gave and when, for the refresh grace. */
  successor?: { reply: IssuedToken; at: number };
}

/**
 * One request the stub answers badly, once: `close` and `stall` do the work (a mint, a refresh) and then
 * close the connection without a reply or never reply (a lost reply); a status answers it instead of
 * doing the work, with `Retry-After` if given.
 */
export interface StubFault {
  route: StubRoute;
  fault: 'close' | 'stall' | number;
  retryAfterSeconds?: number;
}

export interface StubSettings {
  /** The wall clock the stub stamps expiry with; share the client's `now` to move time in tests. */
  now: () => number;
  heartbeatIntervalSeconds: number;
  ttlMs: number;
  /** Delay before every reply. */
  delayMs: number;
  /** Never reply (the socket stays open until close()). */
  hang: boolean;
  /** Answer every request with this status and an error body. */
  failStatus: number | undefined;
  /** Answer refreshes with 401 (as after reuse detection). */
  refuseRefresh: boolean;
  /**
   * For this long after a refresh, the just-spent secret gets the same successor again (the broker's
   * BROKER_REFRESH_GRACE); after it, presenting it is reuse: 401, and the successor is revoked.
   */
  refreshGraceMs: number;
  /** Requests to answer badly, each once, in order (see {@link StubFault}). */
  faults: StubFault[];
}

export interface StubBroker {
  url: string;
  calls: StubCall[];
  /** TCP connections accepted so far. */
  connections: number;
  tokens: Map<string, StubToken>;
  settings: StubSettings;
  count(route: StubRoute): number;
  /** Every write token and client secret handed out, to check that none is ever printed. */
  secrets(): string[];
  close(): Promise<void>;
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * Starts the stub on a random port.
 *
 * @example
 * const broker = await startStubBroker({ now: () => clock });
 * broker.settings.failStatus = 503;
 */
export async function startStubBroker(overrides: Partial<StubSettings> = {}): Promise<StubBroker> {
  const settings: StubSettings = {
    now: Date.now,
    heartbeatIntervalSeconds: 3600,
    ttlMs: 14 * 24 * 3600 * 1000,
    delayMs: 0,
    hang: false,
    failStatus: undefined,
    refuseRefresh: false,
    refreshGraceMs: 30_000,
    faults: [],
    ...overrides,
  };
  const calls: StubCall[] = [];
  const tokens = new Map<string, StubToken>();
  const issuedSecrets: string[] = [];
  let serial = 0;

  const issue = (installId: string): IssuedToken => {
    serial += 1;
    const token: StubToken = {
      tokenId: `tok_${serial}`,
      writeToken: `wt_${randomBytes(12).toString('hex')}`,
      clientSecret: `lfb_cs_${randomBytes(12).toString('hex')}`,
      installId,
      status: 'active',
      expiresAt: settings.now() + settings.ttlMs,
    };
    tokens.set(token.tokenId, token);
    issuedSecrets.push(token.writeToken, token.clientSecret);
    return {
      tokenId: token.tokenId,
      writeToken: token.writeToken,
      clientSecret: token.clientSecret,
      expiresAt: new Date(token.expiresAt).toISOString(),
      refreshAfter: new Date(settings.now() + settings.ttlMs / 2).toISOString(),
      heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
      ingest: { baseUrl: `${url}/ingest/` },
    };
  };

  /** The token the request's secret proves, refreshed ones included (the routes decide what they allow). */
  const presented = (
    tokenId: string | undefined,
    authorization: string | undefined,
  ): StubToken | undefined => {
    const token = tokenId ? tokens.get(tokenId) : undefined;
    return token && authorization === `Bearer ${token.clientSecret}` ? token : undefined;
  };

  const refreshReply = (token: StubToken | undefined): { status: number; payload: unknown } => {
    const unauthorized = {
      status: 401,
      payload: { error: { code: 'unauthorized', message: 'unauthorized' } },
    };
    if (!token || settings.refuseRefresh || token.status === 'revoked') return unauthorized;
    if (token.status === 'paused') {
      return { status: 403, payload: { error: { code: 'forbidden', message: 'forbidden' } } };
    }
    if (token.status === 'refreshed') {
      const { reply, at } = token.successor!;
      if (settings.now() - at <= settings.refreshGraceMs) return { status: 200, payload: reply };
      tokens.get(reply.tokenId)!.status = 'revoked'; // reuse: the chain goes
      return unauthorized;
    }
    const reply = issue(token.installId);
    token.status = 'refreshed';
    token.successor = { reply, at: settings.now() };
    return { status: 200, payload: reply };
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      const text = await readBody(request);
      const match = /^\/v1\/tokens(?:\/([^/]+)\/(heartbeat|refresh))?$/.exec(request.url ?? '');
      const route: StubRoute = !match ? 'other' : ((match[2] as StubRoute | undefined) ?? 'mint');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      calls.push({ route, tokenId: match?.[1], headers: request.headers, body });
      if (settings.hang) return;
      if (settings.delayMs) await new Promise((resolve) => setTimeout(resolve, settings.delayMs));
      const reply = (status: number, payload: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(payload));
      };
      const error = (status: number, code: string): void => reply(status, { error: { code, message: code } });
      if (settings.failStatus) return error(settings.failStatus, 'stub_failure');
      const faultAt = settings.faults.findIndex((fault) => fault.route === route);
      const fault = faultAt >= 0 ? settings.faults.splice(faultAt, 1)[0] : undefined;
      if (typeof fault?.fault === 'number') {
        const retryAfter = fault.retryAfterSeconds;
        response.writeHead(fault.fault, {
          'content-type': 'application/json',
          ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
        });
        return void response.end(JSON.stringify({ error: { code: 'stub_fault', message: 'stub fault' } }));
      }
      const token = presented(match?.[1], request.headers.authorization);
      let answer: { status: number; payload: unknown };
      if (route === 'mint') {
        answer = { status: 201, payload: issue((body as { installId: string }).installId) };
      } else if (route === 'heartbeat') {
        if (!token || token.status === 'refreshed') return error(401, 'unauthorized');
        answer = {
          status: 200,
          payload: {
            status: token.status,
            heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
            expiresAt: new Date(token.expiresAt).toISOString(),
          },
        };
      } else if (route === 'refresh') {
        answer = refreshReply(token);
      } else {
        return error(404, 'not_found');
      }
      // The work is done; a lost reply never reaches the client.
      if (fault?.fault === 'close') return void request.socket.destroy();
      if (fault?.fault === 'stall') return;
      reply(answer.status, answer.payload);
    })();
  });
  const broker: StubBroker = {
    url: '',
    calls,
    connections: 0,
    tokens,
    settings,
    count: (route) => calls.filter((call) => call.route === route).length,
    secrets: () => [...issuedSecrets],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => (broker.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  broker.url = url;
  return broker;
}
