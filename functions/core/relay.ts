/**
 * The OTLP ingest relay (issue #9 point 3, docs/relay.md). In relay mode a client holds a broker-issued
 * relay token, never a Logfire token, and posts OTLP/HTTP to the broker; the relay checks the token,
 * charges the request to its quotas, and forwards the body byte for byte to Logfire with a pooled write
 * token. One DynamoDB request per relayed batch: a conditional UpdateItem that checks the credential, the
 * status and both quotas and records the usage. Only a refused token costs a second (a GetItem, to tell
 * 401 from 403 from 429).
 */
import type { RelaySettings } from '../config';
import type { BrokerDeps } from './deps';
import { relayTokenIdOf, secretMatches, hashSecret } from './credentials';
import {
  BrokerError,
  errorName,
  Forbidden,
  NotFound,
  QuotaExceeded,
  Unauthorized,
  UpstreamUnavailable,
} from './errors';
import type { TokenRecord } from './model';
import type {
  ForwardedBatch,
  ForwardOutcome,
  IngestForwarder,
  OtlpSignal,
  RelayCharged,
  RelayUsage,
} from './ports';
import { quotaCounter, quotaExceeded, type QuotaCounter } from './quota';
import { checkBoundNetwork } from './network';
import type { PoolToken, UpstreamPool } from './relayPool';

/**
 * The largest body the relay takes. A Lambda's synchronous payload is at most 6 MB (6,291,456 bytes) and
 * API Gateway hands binary bodies over in base64 (4/3 as large), so 4 MiB (5.6 MB encoded) leaves room
 * for the event's headers. OpenTelemetry exporters send far smaller batches (512 spans by default).
 */
export const RELAY_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Told to an exporter when Logfire did not say when to come back: soon enough for its own retries. */
const RELAY_RETRY_AFTER_SECONDS = 2;
/** A pool token younger than this may not be accepted by Logfire's ingest yet: a 401 is no reason to repair. */
const FRESH_TOKEN_MS = 2 * 60_000;
const MEDIA_TYPES = new Set(['application/x-protobuf', 'application/json']);
const ENCODINGS = new Set(['identity', 'gzip']);

/**
 * Identity stamping (issue #9 point 4): adds the install and app to every resource of a batch. Throws
 * `InvalidOtlp` for a body it cannot decode (→ 400).
 */
export type StampIdentity = (
  signal: OtlpSignal,
  body: { bytes: Buffer; contentType: string; contentEncoding?: string },
  identity: { installId: string; serviceName: string; serviceVersion: string },
) => Buffer;

/** What relay mode adds to the broker's deps (functions/adapters/wiring.ts builds it). */
export interface RelayDeps {
  settings: RelaySettings;
  pool: UpstreamPool;
  forwarder: IngestForwarder;
  /** Only when BROKER_RELAY_STAMP_IDENTITY=1. */
  stamp?: StampIdentity;
  /** The broker's own URL when the wiring knows it (BROKER_PUBLIC_URL, or the local server's). */
  baseUrl?: string;
}

export interface RelayRequest {
  signal: OtlpSignal;
  /** The `Authorization` header: the relay token, as Logfire takes its write tokens (`Bearer ` allowed). */
  authorization?: string;
  contentType?: string;
  contentEncoding?: string;
  userAgent?: string;
  body: Buffer;
  sourceIp: string;
}

/** Logfire's reply, handed back byte for byte. */
export interface RelayReply {
  status: number;
  contentType?: string;
  body: Buffer;
}

/**
 * Relays one OTLP/HTTP export. Checks, in order, each before anything changes: 415 (media type or
 * encoding), 401 (no relay token); then the one write that charges the request, whose refusal is 401
 * (unknown, revoked, expired, replaced), 403 (paused) or 429 (a quota, with `Retry-After`); then 403
 * outside the token's bound network and 400 for a batch the stamping cannot read. A request refused after
 * the write still counts. Logfire down is 503 with `Retry-After`; the exporter retries.
 *
 * @example
 * const reply = await relayExport(deps, { signal: 'traces', authorization, contentType, body, sourceIp });
 */
export async function relayExport(deps: BrokerDeps, request: RelayRequest): Promise<RelayReply> {
  const relay = relayOf(deps);
  const contentType = mediaTypeOf(request.contentType);
  const contentEncoding = encodingOf(request.contentEncoding);
  const token = (request.authorization ?? '').replace(/^Bearer\s+/i, '').trim();
  const tokenId = relayTokenIdOf(token);
  if (!tokenId) throw new Unauthorized();

  const { record, staleWindows } = await charge(deps, relay, tokenId, token, request.body.length);
  // Counters of windows long past, left by a client that went quiet: removed while the batch travels.
  const cleanup = staleWindows.length
    ? deps.store
        .forgetRelayWindows(tokenId, staleWindows)
        .catch((error: unknown) =>
          deps.log.warn('old relay counters not removed', { tokenId, cause: errorName(error) }),
        )
    : undefined;
  try {
    checkBoundNetwork(record, request.sourceIp);
    const batch: ForwardedBatch = {
      signal: request.signal,
      token: '',
      body: stamped(relay, request, contentType, contentEncoding, record),
      contentType: request.contentType!,
      contentEncoding: request.contentEncoding,
      userAgent: request.userAgent,
    };
    return await forwardWithPool(deps, relay, batch);
  } finally {
    await cleanup;
  }
}

/**
 * Where clients of relay mode send OTLP: the broker itself, at the root of this URL.
 * @example relayBaseUrl(deps.relay!, { baseUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/api' })
 */
export function relayBaseUrl(relay: RelayDeps, origin: { baseUrl?: string }): string {
  const url = relay.baseUrl ?? origin.baseUrl;
  if (!url) throw new Error('relay mode: the broker does not know its own URL; set BROKER_PUBLIC_URL');
  return url.replace(/\/+$/, '');
}

/**
 * Whether a token's relay token still relays: live (paused only answers 403), a refresh in flight, or
 * refreshed within the rotation grace (its client may still be exporting with it), and not expired. The
 * store's condition says the same (functions/adapters/store/relayItems.ts).
 */
export function relaysFor(record: TokenRecord, now: number, rotationGraceMs: number): boolean {
  if (record.expiresAt <= now) return false;
  if (['active', 'rotate', 'refreshing'].includes(record.status)) return true;
  return record.status === 'refreshed' && (record.refreshedAt ?? 0) > now - rotationGraceMs;
}

/** The relay's parts; 404 in direct mode. */
export function relayOf(deps: BrokerDeps): RelayDeps {
  if (!deps.relay) throw new NotFound('The ingest relay is off (BROKER_INGEST_MODE=direct).');
  return deps.relay;
}

/** The one write, and when it is refused, the one read that tells why. */
async function charge(
  deps: BrokerDeps,
  relay: RelayDeps,
  tokenId: string,
  token: string,
  bytes: number,
): Promise<RelayCharged> {
  const now = deps.clock.now();
  const minute = quotaCounter('relay:requests', tokenId, 'minute', relay.settings.requestsPerMinute, now);
  const day = quotaCounter('relay:bytes', tokenId, 'day', relay.settings.bytesPerDay, now);
  const refreshedAfter = now - deps.settings.rotationGraceMs;
  const relayTokenHash = hashSecret(token);
  // A second try only when the refusal is not explained by what the read shows (a concurrent change).
  for (let attempt = 0; attempt < 2; attempt++) {
    const charged = await deps.store.chargeRelayUse({
      tokenId,
      relayTokenHash,
      now,
      bytes,
      minute,
      day,
      refreshedAfter,
    });
    if (charged) return charged;
    const state = await deps.store.getRelayState(tokenId, { minute, day });
    if (!state || !secretMatches(token, state.record.relayTokenHash ?? '')) throw new Unauthorized();
    refuse(deps, state.record, state.usage, { minute, day }, now);
  }
  throw new QuotaExceeded('The token is busy; retry in a second.', 1);
}

/** Throws why a proven holder's request was refused; returns if nothing explains it. */
function refuse(
  deps: BrokerDeps,
  record: TokenRecord,
  usage: RelayUsage,
  windows: { minute: QuotaCounter; day: QuotaCounter },
  now: number,
): void {
  if (record.status === 'paused') throw new Forbidden('This token is paused by the broker operator.');
  if (!relaysFor(record, now, deps.settings.rotationGraceMs)) throw new Unauthorized();
  // The day's bytes first: waiting for the minute to end would not help.
  if (usage.bytesToday >= windows.day.limit) {
    throw quotaExceeded(windows.day, 'bytes relayed per token', now);
  }
  if (usage.requestsThisMinute >= windows.minute.limit) {
    throw quotaExceeded(windows.minute, 'requests relayed per token', now);
  }
}

function stamped(
  relay: RelayDeps,
  request: RelayRequest,
  contentType: string,
  contentEncoding: string,
  record: TokenRecord,
): Buffer {
  if (!relay.stamp) return request.body;
  const identity = {
    installId: record.installId,
    serviceName: record.appName,
    serviceVersion: record.appVersion,
  };
  // A body that is not OTLP is refused by the stamper itself (InvalidOtlp: 400, 413 or 415).
  return relay.stamp(
    request.signal,
    {
      bytes: request.body,
      contentType,
      contentEncoding: contentEncoding === 'identity' ? undefined : contentEncoding,
    },
    identity,
  );
}

/**
 * Forwards with the pool's current token; if Logfire refuses it, with the previous one, and a current token
 * old enough to have been accepted is replaced (then tried too). A 401 means Logfire ingested nothing, so
 * sending the batch again is safe; any other failure is never retried here (docs/relay.md).
 */
async function forwardWithPool(
  deps: BrokerDeps,
  relay: RelayDeps,
  batch: ForwardedBatch,
): Promise<RelayReply> {
  const pool = await relay.pool.open();
  const send = (token: PoolToken) => relay.forwarder.forward({ ...batch, token: token.token });
  let outcome = await send(pool.current);
  if (outcome.kind !== 'refused') return answer(deps, outcome);

  const now = deps.clock.now();
  if (pool.previous && pool.previous.expiresAt > now) outcome = await send(pool.previous);
  if (now - pool.current.createdAt < FRESH_TOKEN_MS) {
    // Logfire may not take a token made a moment ago yet: read the pool again next time, repair nothing.
    relay.pool.forget();
    return answer(deps, outcome);
  }
  deps.log.warn('Logfire refused the current pool token; replacing it', {
    tokenPrefix: pool.current.tokenPrefix,
    version: pool.version,
  });
  try {
    const repaired = await relay.pool.repair(pool);
    if (outcome.kind === 'refused' && repaired.current.token !== pool.current.token) {
      outcome = await send(repaired.current);
    }
  } catch (error) {
    // The previous token carried the batch: answer that, not the failed repair.
    if (outcome.kind === 'refused') throw error;
    deps.log.warn('pool not repaired', { cause: errorName(error) });
  }
  return answer(deps, outcome);
}

/** Logfire's statuses for a batch it refused, as the relay answers them. */
const REJECTED: Record<number, ['payload_too_large' | 'unsupported_media_type', number]> = {
  413: ['payload_too_large', 413],
  415: ['unsupported_media_type', 415],
};

function answer(deps: BrokerDeps, outcome: ForwardOutcome): RelayReply {
  switch (outcome.kind) {
    case 'accepted':
      return { status: outcome.status, contentType: outcome.contentType, body: outcome.body };
    case 'rejected': {
      const [code, status] = REJECTED[outcome.status] ?? ['invalid_request', 400];
      throw new BrokerError(status, code, `Logfire refused the batch (HTTP ${outcome.status}).`);
    }
    case 'refused':
      deps.log.error('Logfire refused every pool token', { status: outcome.status });
      throw new UpstreamUnavailable(
        "Logfire does not accept the relay's write token yet; try again shortly.",
        RELAY_RETRY_AFTER_SECONDS,
      );
    case 'unavailable': {
      const seconds = outcome.retryAfterSeconds ?? RELAY_RETRY_AFTER_SECONDS;
      deps.log.warn('Logfire ingest unavailable', { problem: outcome.problem, retryAfterSeconds: seconds });
      throw new UpstreamUnavailable(
        `Logfire is unavailable (${outcome.problem}); try again in ${seconds} seconds.`,
        seconds,
      );
    }
  }
}

/** `application/x-protobuf` or `application/json` (parameters allowed), else 415. */
function mediaTypeOf(value: string | undefined): string {
  const essence = (value ?? '').split(';')[0]!.trim().toLowerCase();
  if (!MEDIA_TYPES.has(essence)) {
    throw new BrokerError(
      415,
      'unsupported_media_type',
      'Send OTLP as application/x-protobuf or application/json.',
    );
  }
  return essence;
}

/** No encoding or gzip (what OTLP/HTTP allows), else 415. */
function encodingOf(value: string | undefined): string {
  const encoding = value?.trim().toLowerCase() || 'identity';
  if (!ENCODINGS.has(encoding)) {
    throw new BrokerError(415, 'unsupported_media_type', 'Send OTLP uncompressed or with gzip.');
  }
  return encoding;
}
