/**
 * The local server's stand-in for API Gateway's `AWS_IAM` authorization: AWS Signature V4 on every
 * `/v1/admin/*` request, checked against the local admin credentials. The signature is recomputed with
 * `@smithy/signature-v4` (what the AWS SDKs and the admin CLI sign with) over exactly the headers the
 * request says it signed, and compared in constant time. As AWS does, a request dated more than 5 minutes
 * off is refused; unlike a plain check, a signature seen once is refused for as long as it is valid, so a
 * captured request cannot be replayed.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface AdminCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The request as it arrived: the raw path (still percent-encoded), the decoded query, the body bytes. */
export interface SignedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-case names, as Node gives them. */
  headers: Record<string, string>;
  body: Buffer;
}

/** AWS's bound on the difference between a request's date and the server's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/execute-api\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Why a request was refused: for the local log line only, never shown to the caller. */
export type SignatureProblem =
  'unsigned' | 'malformed' | 'unknown_key' | 'clock_skew' | 'body_mismatch' | 'bad_signature' | 'replayed';

export type SignatureCheck = { ok: true; principal: string } | { ok: false; problem: SignatureProblem };

/**
 * Checks SigV4 signatures for one set of credentials, remembering the signatures it accepted until they
 * expire (date + 5 minutes), so each is accepted once.
 * @example
 * const verifier = new SigV4Verifier(credentials);
 * const check = await verifier.check(request); // { ok: true, principal: 'local:AKIA…' }
 */
export class SigV4Verifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly credentials: AdminCredentials,
    private readonly now: () => number = Date.now,
  ) {}

  async check(request: SignedRequest): Promise<SignatureCheck> {
    const authorization = request.headers.authorization;
    if (!authorization) return { ok: false, problem: 'unsigned' };
    const match = AUTHORIZATION.exec(authorization.trim());
    const date = AMZ_DATE.exec(request.headers['x-amz-date'] ?? '');
    if (!match || !date) return { ok: false, problem: 'malformed' };
    const [, accessKeyId, scopeDate, region, signedList, signature] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const signedHeaders = signedList!.split(';');
    // The host and the date must be signed: otherwise a signature could be moved to another host or time.
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
      return { ok: false, problem: 'malformed' };
    }
    if (`${date[1]}${date[2]}${date[3]}` !== scopeDate) return { ok: false, problem: 'malformed' };
    if (!sameText(accessKeyId!, this.credentials.accessKeyId)) return { ok: false, problem: 'unknown_key' };
    const [, y, mo, d, h, mi, s] = date.map(Number) as number[];
    const signedAt = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
    const now = this.now();
    if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) return { ok: false, problem: 'clock_skew' };
    // The signer takes a given payload hash on trust: it must be the body's, or the body could be swapped.
    const bodyHash = createHash('sha256').update(request.body).digest('hex');
    const declared = request.headers['x-amz-content-sha256'];
    if (declared !== undefined && declared !== bodyHash) return { ok: false, problem: 'body_mismatch' };

    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = request.headers[name];
      if (value === undefined) return { ok: false, problem: 'malformed' };
      headers[name] = value;
    }
    const signer = new SignatureV4({
      credentials: this.credentials,
      region,
      service: 'execute-api',
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: 'https:',
        hostname: headers.host ?? '',
        path: request.path,
        query: request.query,
        headers,
        body: request.body.length ? request.body : undefined,
      },
      { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1] ?? '';
    const expectedList = /SignedHeaders=([^,]+),/.exec(String(signed.headers.authorization))?.[1];
    if (expectedList !== signedList || !sameText(expected, signature!)) {
      return { ok: false, problem: 'bad_signature' };
    }
    this.forgetExpired(now);
    if (this.seen.has(signature!)) return { ok: false, problem: 'replayed' };
    this.seen.set(signature!, signedAt + MAX_CLOCK_SKEW_MS);
    return { ok: true, principal: `local:${accessKeyId}` };
  }

  private forgetExpired(now: number): void {
    for (const [signature, until] of this.seen) if (until < now) this.seen.delete(signature);
  }
}

/** Constant-time comparison of two strings (different lengths differ, without comparing). */
function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
