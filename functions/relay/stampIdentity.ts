/**
 * Identity stamping for the ingest relay (issue #9, point 4): with `BROKER_RELAY_STAMP_IDENTITY=1` the
 * relay passes every OTLP body through `stampIdentity`, which sets the resource attributes
 * `logfire_broker.install_id`, `service.name` and `service.version` from the token's record, so one
 * install cannot pose as another, or as another app. Pure: no I/O, no clock, no AWS. Decisions and
 * measurements are in docs/relay-stamping.md.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { isJsonMediaType } from '../http/reply';
import { stampJson } from './otlpJson';
import { stampProtobuf } from './otlpProtobuf';
import { InvalidOtlp, type StampIdentity } from './model';
import type { OtlpSignal } from './otlpSchema';

export { InvalidOtlp, STAMPED_KEYS, type StampIdentity } from './model';
export type { OtlpSignal } from './otlpSchema';

/** An OTLP/HTTP request body as received, with its `Content-Type` and `Content-Encoding` headers. */
export interface OtlpBody {
  bytes: Buffer;
  contentType: string;
  contentEncoding?: string;
}

export interface StampOptions {
  /** Refuse (413) a body larger than this once decompressed; bounds the memory one request can take. */
  maxDecodedBytes?: number;
}

/**
 * 4 MiB: 25 times a 512-span batch (the SDKs' default largest, ~160 KB in protobuf). Decoding takes about 20 bytes
 * of memory per protobuf byte (measured), so this keeps one request near 90 MB in a 256 MB Lambda.
 */
export const MAX_DECODED_OTLP_BYTES = 4 * 1024 * 1024;

/**
 * Returns the body with every resource's three identity attributes set (replaced if present, added if
 * not; a missing resource is created), encoded as it came: same content type, gzip again if it was gzip.
 * Everything else is kept: in protobuf byte for byte (unknown fields too), in JSON every field of the
 * parsed payload (unknown ones too). Throws `InvalidOtlp` on a body that does not decode as the signal's
 * `Export…ServiceRequest`.
 *
 * @example
 * const forwarded = stampIdentity(
 *   'traces',
 *   { bytes, contentType: headers['content-type'], contentEncoding: headers['content-encoding'] },
 *   { installId: record.installId, serviceName: record.appName, serviceVersion: record.appVersion },
 * );
 */
export function stampIdentity(
  signal: OtlpSignal,
  body: OtlpBody,
  identity: StampIdentity,
  options: StampOptions = {},
): Buffer {
  const maxBytes = options.maxDecodedBytes ?? MAX_DECODED_OTLP_BYTES;
  const format = formatOf(body.contentType);
  const gzipped = isGzip(body.contentEncoding);
  const decoded = gzipped ? gunzip(body.bytes, maxBytes) : body.bytes;
  if (decoded.length > maxBytes) throw tooLarge(maxBytes);
  const stamped =
    format === 'protobuf' ? stampProtobuf(signal, decoded, identity) : stampJson(signal, decoded, identity);
  return gzipped ? gzipSync(stamped) : stamped;
}

function formatOf(contentType: string): 'protobuf' | 'json' {
  if (contentType.split(';')[0]!.trim().toLowerCase() === 'application/x-protobuf') return 'protobuf';
  if (isJsonMediaType(contentType)) return 'json';
  throw new InvalidOtlp('Send OTLP as application/x-protobuf or application/json (UTF-8).', 415);
}

/** OTLP/HTTP defines no compression but gzip (and none); anything else is refused, not forwarded unread. */
function isGzip(contentEncoding: string | undefined): boolean {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === 'gzip') return true;
  if (encoding === '' || encoding === 'identity') return false;
  throw new InvalidOtlp('Send OTLP uncompressed or with Content-Encoding: gzip.', 415);
}

function gunzip(bytes: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes);
    throw new InvalidOtlp('The body is not valid gzip.', 400, { cause: error });
  }
}

const tooLarge = (maxBytes: number) =>
  new InvalidOtlp(`The OTLP body is larger than ${maxBytes} bytes once decompressed.`, 413);
