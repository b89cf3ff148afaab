/**
 * Logfire's OTLP/HTTP ingest, for the relay (docs/relay.md): posts a batch byte for byte to
 * `{base}/v1/<signal>` with a pooled write token, in ONE attempt. Unlike the management calls
 * (functions/adapters/upstream/http.ts) nothing is retried here: a POST that timed out may have been
 * ingested, and OpenTelemetry exporters retry a 503 themselves, honouring `Retry-After`. Only the relay's
 * fallback to another pool token sends a batch twice, after a 401, when Logfire ingested nothing.
 */
import type { ForwardedBatch, ForwardOutcome, IngestForwarder, Log } from '../../core/ports';
import { parseRetryAfter } from './http';
import { redact } from './tokenShape';

export interface IngestForwarderOptions {
  /** Logfire's ingest base (the upstream's `ingestBaseUrl`); async, as it may follow from the credential. */
  baseUrl: () => Promise<string>;
  /** One attempt's limit, reply included (`min(BROKER_UPSTREAM_TIMEOUT, the Logfire time budget)`). */
  timeoutMs: number;
  log: Log;
  fetch?: typeof fetch;
  now?: () => number;
}

/** Logfire's reply to an export is a small status message; anything larger is not one. */
const MAX_REPLY_BYTES = 1024 * 1024;

/**
 * @example
 * const forwarder = createIngestForwarder({ baseUrl: async () => upstream.ingestBaseUrl, timeoutMs: 5000, log });
 * const outcome = await forwarder.forward({ signal: 'traces', token, body, contentType: 'application/x-protobuf' });
 */
export function createIngestForwarder(options: IngestForwarderOptions): IngestForwarder {
  const send = options.fetch ?? fetch;
  return {
    async forward(batch: ForwardedBatch): Promise<ForwardOutcome> {
      const headers: Record<string, string> = {
        Authorization: batch.token,
        'Content-Type': batch.contentType,
        'User-Agent': batch.userAgent ? `${batch.userAgent} logfire-broker` : 'logfire-broker',
      };
      if (batch.contentEncoding) headers['Content-Encoding'] = batch.contentEncoding;
      let response: Response;
      let body: Buffer;
      try {
        // `redirect: 'manual'`: a redirect means a wrong base URL, and must not carry the token elsewhere.
        response = await send(`${await options.baseUrl()}/v1/${batch.signal}`, {
          method: 'POST',
          headers,
          body: batch.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        body = Buffer.from(await response.arrayBuffer());
      } catch (error) {
        // By name, not instanceof: fetch's DOMException comes from another realm under jest.
        const name = (error as { name?: unknown } | null)?.name;
        const timedOut = name === 'TimeoutError' || name === 'AbortError';
        const problem = timedOut ? `no reply within ${options.timeoutMs} ms` : 'network error';
        options.log.warn('Logfire ingest not reached', {
          signal: batch.signal,
          problem,
          cause: redact(String((error as Error | undefined)?.message ?? error), [batch.token]),
        });
        return { kind: 'unavailable', problem };
      }
      const status = response.status;
      if (status >= 200 && status < 300) {
        return {
          kind: 'accepted',
          status,
          contentType: response.headers.get('content-type') ?? undefined,
          // Ingested either way: an oversized reply is dropped, not turned into a failure the exporter retries.
          body: body.length <= MAX_REPLY_BYTES ? body : Buffer.alloc(0),
        };
      }
      if (status === 401 || status === 403) return { kind: 'refused', status };
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(
          response.headers.get('retry-after'),
          (options.now ?? Date.now)(),
        );
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
      options.log.error('Logfire ingest answered unexpectedly', { signal: batch.signal, status });
      return { kind: 'unavailable', problem: `HTTP ${status}` };
    },
  };
}
