import type { APIGatewayProxyEvent } from 'aws-lambda';
import { NotFound } from '../core/errors';
import type { OtlpSignal } from '../core/ports';
import { RELAY_MAX_BODY_BYTES, relayExport, relayOf } from '../core/relay';
import { boundedBody, header, origin, route, type ProxyHandler } from '../http/reply';
import type { DepsSource } from './shared';

const SIGNAL = /\/v1\/(traces|logs|metrics)$/;

/**
 * `POST /v1/{traces,logs,metrics}` in relay mode: the OTLP/HTTP export, checked and charged to its token,
 * then forwarded to Logfire; Logfire's reply comes back byte for byte (404 in direct mode).
 */
export function relayHandler(deps: DepsSource): ProxyHandler {
  return route(
    () => deps().log,
    async (event) => {
      const broker = deps();
      relayOf(broker); // 404 in direct mode, whatever the request
      const signal = signalOf(event);
      // The size first (413), before the body is looked at; base64 from API Gateway (binary media types).
      const body = boundedBody(event, RELAY_MAX_BODY_BYTES);
      const reply = await relayExport(broker, {
        signal,
        authorization: header(event, 'authorization'),
        contentType: header(event, 'content-type'),
        contentEncoding: header(event, 'content-encoding'),
        userAgent: header(event, 'user-agent'),
        body,
        sourceIp: origin(event).sourceIp,
      });
      return {
        statusCode: reply.status,
        headers: {
          ...(reply.contentType ? { 'content-type': reply.contentType } : {}),
          'cache-control': 'no-store',
        },
        body: reply.body.toString('base64'),
        isBase64Encoded: true,
      };
    },
  );
}

/** The signal of the route this event came in on. */
function signalOf(event: APIGatewayProxyEvent): OtlpSignal {
  const match = SIGNAL.exec(event.resource ?? event.path ?? '');
  if (!match) throw new NotFound();
  return match[1] as OtlpSignal;
}
