/** What the relay stamps, and the one error stamping raises. */
import { BrokerError } from '../core/errors';

export interface StampIdentity {
  installId: string;
  serviceName: string;
  serviceVersion: string;
}

/**
 * A body that is not the signal's OTLP export request in a form the relay takes: 400 when it does not
 * decode, 415 for another content type or encoding, 413 when it decompresses past the bound. The message
 * names where the body went wrong, never what it holds.
 */
export class InvalidOtlp extends BrokerError {
  constructor(message: string, status: 400 | 413 | 415 = 400, options?: { cause?: unknown }) {
    const code =
      status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
    super(status, code, message, options);
  }
}

/** The resource attribute each part of the identity goes to; the client's own values for these keys are replaced. */
const ATTRIBUTE_OF: Readonly<Record<keyof StampIdentity, string>> = {
  installId: 'logfire_broker.install_id',
  serviceName: 'service.name',
  serviceVersion: 'service.version',
};

export const STAMPED_KEYS: ReadonlySet<string> = new Set(Object.values(ATTRIBUTE_OF));

/** The stamped attributes (string values), in the order they are appended to each resource. */
export function stampedAttributes(identity: StampIdentity): Array<{ key: string; value: string }> {
  return (Object.keys(ATTRIBUTE_OF) as Array<keyof StampIdentity>).map((part) => ({
    key: ATTRIBUTE_OF[part],
    value: identity[part],
  }));
}
