/**
 * Signs admin API requests the way the admin CLI and the AWS SDKs do (`@smithy/signature-v4`, service
 * `execute-api`), for tests of the local server's SigV4 check and of the admin routes.
 *
 * @example
 * const reply = await adminFetch(broker.url, CREDENTIALS, { method: 'GET', path: '/v1/admin/tokens' });
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { randomUUID } from 'node:crypto';

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export const ADMIN_CREDENTIALS: TestCredentials = {
  accessKeyId: 'LFBLTESTADMIN0000001',
  secretAccessKey: 'test-admin-secret-key-0123456789abcdefgh',
};

/** A fixed base32 TOTP seed for tests (20 bytes). */
export const TEST_TOTP_SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** What a `npm start` broker (test/support/localBroker.ts) needs to take these credentials and that seed. */
export const ADMIN_BROKER_ENV: Record<string, string> = {
  BROKER_ADMIN_ACCESS_KEY_ID: ADMIN_CREDENTIALS.accessKeyId,
  BROKER_ADMIN_SECRET_ACCESS_KEY: ADMIN_CREDENTIALS.secretAccessKey,
  BROKER_ADMIN_TOTP_SECRET: TEST_TOTP_SEED,
};

export interface AdminCall {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  otp?: string;
  /** Sign as if at this time (expired-signature tests). */
  signingDate?: Date;
  region?: string;
}

export interface SignedCall {
  url: string;
  init: { method: string; headers: Record<string, string>; body?: string };
}

/** The request, signed; send it with `fetch(call.url, call.init)` (again, for a replay). */
export async function signAdminCall(
  baseUrl: string,
  credentials: TestCredentials,
  call: AdminCall,
): Promise<SignedCall> {
  const url = new URL(call.path, baseUrl);
  for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  // A signed random id, as the admin CLI sends: two identical requests within one second would otherwise
  // carry the same signature, and the second would be refused as a replay.
  const headers: Record<string, string> = { host: url.host, 'x-broker-request-id': randomUUID() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (call.otp !== undefined) headers['x-broker-otp'] = call.otp;
  const signer = new SignatureV4({
    credentials,
    region: call.region ?? 'us-east-1',
    service: 'execute-api',
    sha256: Sha256,
  });
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const signed = await signer.sign(
    {
      method: call.method,
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
      body,
    },
    { signingDate: call.signingDate },
  );
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host') sent[name] = String(value);
  return { url: url.toString(), init: { method: call.method, headers: sent, body } };
}

/** Signs and sends; resolves with the status and the parsed JSON body. */
export async function adminFetch(
  baseUrl: string,
  credentials: TestCredentials,
  call: AdminCall,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const signed = await signAdminCall(baseUrl, credentials, call);
  return send(signed);
}

export async function send(
  signed: SignedCall,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const reply = await fetch(signed.url, signed.init);
  const text = await reply.text();
  return {
    status: reply.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: reply.headers,
  };
}
