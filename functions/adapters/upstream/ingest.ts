/**
 * Logfire's OTLP/HTTP ingest, for the relay (docs/relay.md): posts a batch byte for byte to
 * `{base}/v1/<signal>` with a pooled write token, in ONE attempt. Unlike the management calls
 * (functions/adapters/upstream/http.ts) nothing is retried here: a POST that timed out may have been
 * ingested, and OpenTelemetry exporters retry a 503 themselves, honouring `Retry-After`. Only the relay's
 * fallback to another pool token sends a batch twice, after a 401, when Logfire ingested nothing.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ForwardedBatch, ForwardOutcome, IngestForwarder, Log } from '../../core/ports';
import { parseRetryAfter } from './http';
import { redact } from './tokenShape';

export interface IngestForwarderOptions {
  /** Logfire's ingest base (the upstream's `ingestBaseUrl`); async, as it may follow from the credential. */
  baseUrl: () => Promise<string>;
  /** One attempt's limit, reply included (`min(BROKER_UPSTREAM_TIMEOUT, the Logfire time budget)`). */
  timeoutMs: number;
  log: Log;
  now?: () => number;
}

/** Logfire's reply to an export is a small status message; anything larger is not one. */
const MAX_REPLY_BYTES = 1024 * 1024;

class ReplyTimeout extends Error {}

/**
 * node:http(s) with keep-alive agents rather than fetch: on the relay's hot path it costs a fifth of the CPU
 * per batch (docs/benchmarks.md), and it never follows a redirect, which would carry the token elsewhere.
 * @example
 * const forwarder = createIngestForwarder({ baseUrl: async () => upstream.ingestBaseUrl, timeoutMs: 5000, log });
 * const outcome = await forwarder.forward({ signal: 'traces', token, body, contentType: 'application/x-protobuf' });
 */
export function createIngestForwarder(options: IngestForwarderOptions): IngestForwarder {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return {
    async forward(batch: ForwardedBatch): Promise<ForwardOutcome> {
      // Header values as the client sent them, but only in the characters an HTTP header may carry:
      // API Gateway hands over any Unicode, which node:http would refuse to send.
      const userAgent = headerText(batch.userAgent ?? '').slice(0, 256);
      const headers: Record<string, string | number> = {
        Authorization: batch.token,
        'Content-Type': headerText(batch.contentType),
        'Content-Length': batch.body.length,
        'User-Agent': userAgent ? `${userAgent} logfire-broker` : 'logfire-broker',
      };
      if (batch.contentEncoding) headers['Content-Encoding'] = headerText(batch.contentEncoding);
      let reply: { status: number; contentType?: string; retryAfter?: string; body: Buffer };
      try {
        reply = await post(new URL(`${await options.baseUrl()}/v1/${batch.signal}`), headers, batch.body, {
          agents,
          timeoutMs: options.timeoutMs,
        });
      } catch (error) {
        const problem =
          error instanceof ReplyTimeout ? `no reply within ${options.timeoutMs} ms` : 'network error';
        options.log.warn('Logfire ingest not reached', {
          signal: batch.signal,
          problem,
          cause: redact(String((error as Error | undefined)?.message ?? error), [batch.token]),
        });
        return { kind: 'unavailable', problem };
      }
      const { status, body } = reply;
      if (status >= 200 && status < 300) {
        // Ingested either way: an oversized reply is dropped, not turned into a failure the exporter retries.
        return { kind: 'accepted', status, contentType: reply.contentType, body };
      }
      if (status === 401 || status === 403) return { kind: 'refused', status };
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(reply.retryAfter ?? null, (options.now ?? Date.now)());
        return {
          kind: 'unavailable',
          problem: `HTTP ${status}`,
          ...(retryAfterMs === undefined
            ? {}
            : { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) }),
        };
      }
      if (status >= 400 && status < 500) {
        options.log.warn('Logfire refused a relayed batch', {
          signal: batch.signal,
          status,
          detail: redact(body.toString('utf8'), [batch.token]).slice(0, 300),
        });
        return { kind: 'rejected', status };
      }
      options.log.error('Logfire ingest answered unexpectedly (a redirect?)', {
        signal: batch.signal,
        status,
      });
      return { kind: 'unavailable', problem: `HTTP ${status}` };
    },
  };
}

/** `text` without the characters an HTTP header value cannot hold (controls, non-ASCII). */
function headerText(text: string): string {
  return text.replace(/[^\t\x20-\x7e]/g, '').trim();
}

/** One POST, the whole reply within `timeoutMs`; the reply body beyond MAX_REPLY_BYTES is dropped. */
function post(
  url: URL,
  headers: Record<string, string | number>,
  body: Buffer,
  options: { agents: { http: HttpAgent; https: HttpsAgent }; timeoutMs: number },
): Promise<{ status: number; contentType?: string; retryAfter?: string; body: Buffer }> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const send = https ? httpsRequest : httpRequest;
    const request = send(
      url,
      { method: 'POST', headers, agent: https ? options.agents.https : options.agents.http },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_REPLY_BYTES) chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'],
            retryAfter: response.headers['retry-after'],
            body: size <= MAX_REPLY_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0),
          });
        });
        response.on('error', fail);
      },
    );
    function fail(error: unknown) {
      clearTimeout(timer);
      reject(error);
    }
    const timer = setTimeout(() => request.destroy(new ReplyTimeout()), options.timeoutMs);
    request.on('error', fail);
    request.end(body);
  });
}
