/**
 * A minimal HTTP client for the benchmark: node:http with a keep-alive agent, so the figures measure the
 * broker and not TCP connection setup or fetch's own overhead. Loopback only.
 */
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { IssuedToken } from '../functions/core/contract';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export class BenchClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(baseUrl: string, maxSockets = 64) {
    this.base = new URL(baseUrl);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(this.base.hostname)) {
      throw new Error(`bench: refusing a non-loopback broker URL ${baseUrl}`);
    }
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  post(path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return this.send(
      path,
      { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
      payload,
      true,
    );
  }

  /** POSTs raw bytes (an OTLP export) to `path`; the reply body is read and dropped. */
  postBytes(path: string, headers: Record<string, string>, body: Buffer): Promise<Reply> {
    return this.send(path, headers, body, false);
  }

  /** One POST on the kept-alive agent; with `parse`, the reply body as JSON (or its text). */
  private send(
    path: string,
    headers: Record<string, string>,
    payload: Buffer | undefined,
    parse: boolean,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method: 'POST',
          path,
          headers: { ...headers, ...(payload ? { 'content-length': payload.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => void (parse && chunks.push(chunk)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = parse ? text : undefined;
            try {
              if (parse) parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON: keep the text, the caller reports the status anyway.
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** POST /v1/tokens for a fresh install id, optionally with an Idempotency-Key. */
  mint(installId: string, idempotencyKey?: string): Promise<Reply> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return this.post('/v1/tokens', headers, {
      installId,
      app: { name: 'bench-cli', version: '1.0.0' },
      platform: 'linux-x64',
    });
  }

  heartbeat(token: Pick<IssuedToken, 'tokenId' | 'clientSecret'>): Promise<Reply> {
    return this.post(`/v1/tokens/${token.tokenId}/heartbeat`, {
      authorization: `Bearer ${token.clientSecret}`,
    });
  }

  refresh(token: Pick<IssuedToken, 'tokenId' | 'clientSecret'>): Promise<Reply> {
    return this.post(`/v1/tokens/${token.tokenId}/refresh`, {
      authorization: `Bearer ${token.clientSecret}`,
    });
  }

  /** Mints and returns the token, or throws with the status: setup steps must not fail silently. */
  async mintOk(installId = `bench-${randomUUID()}`): Promise<IssuedToken> {
    const reply = await this.mint(installId);
    if (reply.status !== 201)
      throw new Error(`bench: setup mint failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body as IssuedToken;
  }

  close(): void {
    this.agent.destroy();
  }
}
