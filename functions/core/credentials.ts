/**
 * The secrets the broker makes, and how it checks them. Client secrets carry 256 random bits, so a
 * plain SHA-256 is enough to store them (nothing to brute-force); comparisons run in constant time.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const TOKEN_ID = /^tok_[A-Za-z0-9_-]{22}$/;

/** A new token id, safe in a URL path: `tok_` and 128 random bits. */
export function newTokenId(): string {
  return `tok_${randomBytes(16).toString('base64url')}`;
}

/** A token id as the broker makes them; anything else cannot name a token. */
export function isTokenId(value: string): boolean {
  return TOKEN_ID.test(value);
}

/** A new client secret: `lfb_cs_` and 256 random bits. */
export function newClientSecret(): string {
  return `lfb_cs_${randomBytes(32).toString('base64url')}`;
}

/**
 * A new relay token (relay mode's `writeToken`): `lfb_rt_`, the token id, `.` and 256 random bits. The id
 * lets the relay find the record from the token alone; the store keeps only its SHA-256 (`hashSecret`).
 */
export function newRelayToken(tokenId: string): string {
  return `lfb_rt_${tokenId}.${randomBytes(32).toString('base64url')}`;
}

const RELAY_TOKEN = /^lfb_rt_(tok_[A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/;

/**
 * The token id inside a relay token; undefined for anything not shaped like one.
 * @example relayTokenIdOf(newRelayToken('tok_AAAAAAAAAAAAAAAAAAAAAA')) // 'tok_AAAAAAAAAAAAAAAAAAAAAA'
 */
export function relayTokenIdOf(token: string): string | undefined {
  return RELAY_TOKEN.exec(token)?.[1];
}

/** What the store keeps instead of a client secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Whether `secret` is the one whose hash is stored, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'base64url');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/**
 * A fingerprint of a mint request, so a reused Idempotency-Key with another body is told apart from a
 * retry. Object keys are sorted, so the same request in another key order is the same request.
 */
export function requestHash(request: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(request)), 'utf8')
    .digest('base64url');
}

/** Where a mint's Idempotency-Key is remembered: a hash, so the stored key cannot unlock the reply. */
export function idempotencyRecordKey(installId: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${installId}\n${idempotencyKey}`, 'utf8').digest('base64url');
}

/** What a sealed reply is for; each purpose derives its own keys. */
export type SealPurpose = 'idempotent reply' | 'refresh successor' | 'upstream pool';

function replyKey(salt: string, secret: string, purpose: SealPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, `logfire-broker ${purpose}`, 32));
}

/**
 * Encrypts a reply for replay to a retried request. The key is derived from a secret only the client knows
 * (the Idempotency-Key of a mint, the spent client secret of a refresh; the store keeps at most its hash),
 * so the stored copy reveals neither the write token nor the client secret.
 * @example sealReply(reply, installId, idempotencyKey)
 * @example sealReply(successor, tokenId, clientSecret, 'refresh successor')
 * @example sealReply({ token }, String(createdAt), upstreamCredential, 'upstream pool') // the relay's pool
 */
export function sealReply(
  reply: unknown,
  salt: string,
  secret: string,
  purpose: SealPurpose = 'idempotent reply',
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', replyKey(salt, secret, purpose), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(reply), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** Opens what `sealReply` made; undefined if it was made with another key or altered. */
export function openReply<T>(
  sealed: string,
  salt: string,
  secret: string,
  purpose: SealPurpose = 'idempotent reply',
): T | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', replyKey(salt, secret, purpose), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
