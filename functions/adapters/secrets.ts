/**
 * Reads the upstream Logfire credential (R1: it lives in Secrets Manager in AWS, in the environment
 * locally). Values are cached per Lambda container for a few minutes, so a rotated credential is picked up
 * without a redeploy, and are never logged or put in an error message.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CredentialSource } from '../config';
import { UpstreamUnavailable } from '../core/errors';

export const CREDENTIAL_CACHE_MS = 5 * 60_000;

/** JSON keys accepted when the secret holds an object instead of the bare credential. */
const CREDENTIAL_KEYS = ['apiKey', 'token', 'userToken'] as const;

export interface LoadCredentialOptions {
  /** Any client with `send`, e.g. one pointed at a local endpoint; defaults to one made on first use. */
  client?: Pick<SecretsManagerClient, 'send'>;
  now?: () => number;
}

/** The secret is missing, empty or unusable: an operator has to store the credential. */
export class CredentialMissing extends Error {
  constructor(
    readonly secretId: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Secret "${secretId}" ${problem}. Store the Logfire credential with: ` +
        `aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<your Logfire API key or user token>'`,
      options,
    );
    this.name = 'CredentialMissing';
  }
}

const cache = new Map<string, { value: string; fetchedAt: number }>();
const inFlight = new Map<string, Promise<string>>();
let defaultClient: SecretsManagerClient | undefined;

/**
 * The credential named by `source`.
 * @example
 * await loadCredential({ from: 'env', value: process.env.LOGFIRE_API_KEY! });
 * await loadCredential({ from: 'secret', secretId: 'logfire-broker/upstream' });
 */
export async function loadCredential(
  source: CredentialSource,
  options: LoadCredentialOptions = {},
): Promise<string> {
  if (source.from === 'env') return source.value.trim();
  const now = (options.now ?? Date.now)();
  const cached = cache.get(source.secretId);
  if (cached && now - cached.fetchedAt < CREDENTIAL_CACHE_MS) return cached.value;

  // Concurrent cold requests share one GetSecretValue call.
  let pending = inFlight.get(source.secretId);
  if (!pending) {
    pending = fetchSecret(source.secretId, options.client ?? (defaultClient ??= new SecretsManagerClient({})))
      .then((value) => {
        cache.set(source.secretId, { value, fetchedAt: now });
        return value;
      })
      .finally(() => inFlight.delete(source.secretId));
    inFlight.set(source.secretId, pending);
  }
  return pending;
}

/** Forgets cached values, so the next call reads Secrets Manager again (tests; after a rotation). */
export function clearCredentialCache(): void {
  cache.clear();
}

async function fetchSecret(secretId: string, client: Pick<SecretsManagerClient, 'send'>): Promise<string> {
  let secretString: string | undefined;
  try {
    const reply = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    secretString = reply.SecretString;
    if (secretString === undefined && reply.SecretBinary) {
      throw new CredentialMissing(secretId, 'holds a binary value, not a string');
    }
  } catch (error) {
    if (error instanceof CredentialMissing) throw error;
    const name = String((error as { name?: unknown } | null)?.name ?? 'Error');
    const fault = (error as { $fault?: string }).$fault;
    // Client faults (not found, access denied, KMS decryption) need an operator; the rest may pass.
    if (fault === 'client' && !/Throttl/i.test(name)) {
      throw new CredentialMissing(secretId, `cannot be read (${name})`, { cause: error });
    }
    throw new UpstreamUnavailable(
      'The broker could not read its Logfire credential; try again in 30 seconds.',
      30,
      { cause: error },
    );
  }
  return credentialFrom(secretId, secretString ?? '');
}

/** Takes the bare credential, or `{"apiKey": "..."}` / `{"token": "..."}`; surrounding whitespace is dropped. */
function credentialFrom(secretId: string, secretString: string): string {
  const text = secretString.trim();
  if (!text) throw new CredentialMissing(secretId, 'is empty');
  if (!text.startsWith('{')) return text;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Never echo the text: it may be the credential itself with a stray brace.
    throw new CredentialMissing(secretId, 'starts with "{" but is not valid JSON');
  }
  for (const key of CREDENTIAL_KEYS) {
    const value = parsed?.[key];
    if (typeof value === 'string' && value.trim()) return value.trim();
  }
  throw new CredentialMissing(secretId, `is JSON without a non-empty ${CREDENTIAL_KEYS.join(', ')} field`);
}

const SEED_CACHE_MS = 60_000;
const seeds = new Map<string, { value: string | undefined; fetchedAt: number }>();

/**
 * The admin TOTP seed from Secrets Manager (`BROKER_ADMIN_TOTP_SECRET_ID`), cached a minute so an enrollment
 * takes effect soon; undefined while the secret has no value (the stack creates it empty). Never logged.
 * @example const seed = await loadAdminTotpSeed('logfire-broker/admin-totp');
 */
export async function loadAdminTotpSeed(
  secretId: string,
  options: LoadCredentialOptions = {},
): Promise<string | undefined> {
  const now = (options.now ?? Date.now)();
  const cached = seeds.get(secretId);
  if (cached && now - cached.fetchedAt < SEED_CACHE_MS) return cached.value;
  const client = options.client ?? (defaultClient ??= new SecretsManagerClient({}));
  let value: string | undefined;
  try {
    const reply = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    value = reply.SecretString?.trim() || undefined;
  } catch (error) {
    // A secret created without a value answers ResourceNotFoundException (no AWSCURRENT version).
    if ((error as { name?: string } | null)?.name !== 'ResourceNotFoundException') {
      throw new UpstreamUnavailable(
        'The broker could not read its second-factor seed; try again in 30 seconds.',
        30,
        { cause: error },
      );
    }
  }
  seeds.set(secretId, { value, fetchedAt: now });
  return value;
}
