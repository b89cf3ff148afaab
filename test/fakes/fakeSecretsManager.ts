/**
 * A tiny Secrets Manager on 127.0.0.1 speaking the AWS JSON 1.1 protocol for `GetSecretValue` (and, for
 * `otp enroll`, `PutSecretValue` and `DescribeSecret` of a secret that exists or was created empty), so tests
 * can point the real `@aws-sdk/client-secrets-manager` at it with `endpoint` and exercise the SDK's own
 * serialization and error parsing. It checks that requests are signed (SigV4 header present) but does
 * not verify signatures.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSecretsManager {
  /** Give this to the SDK client as `endpoint`. */
  endpoint: string;
  region: string;
  /** Every call: its `X-Amz-Target` and JSON body. */
  requests: Array<{ target: string; body: Record<string, unknown> }>;
  setSecret(secretId: string, value: string | { binary: Buffer }): void;
  deleteSecret(secretId: string): void;
  /** The next `n` calls fail with `__type` (a 5xx `InternalServiceError` by default). */
  failNext(n: number, type?: string, status?: number): void;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const SUPPORTED = [
  'secretsmanager.GetSecretValue',
  'secretsmanager.PutSecretValue',
  'secretsmanager.DescribeSecret',
];

/**
 * @example
 * const sm = await startFakeSecretsManager({ 'broker/upstream': 'the-credential' });
 * const client = new SecretsManagerClient({ endpoint: sm.endpoint, region: sm.region, credentials });
 */
export async function startFakeSecretsManager(
  initial: Record<string, string> = {},
): Promise<FakeSecretsManager> {
  const secrets = new Map<string, string | { binary: Buffer }>(Object.entries(initial));
  const requests: FakeSecretsManager['requests'] = [];
  const failures: Array<{ type: string; status: number }> = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: Record<string, unknown>, errorType?: string) => {
        const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
        if (errorType) headers['x-amzn-errortype'] = errorType;
        res.writeHead(status, headers).end(JSON.stringify(body));
      };
      const error = (status: number, type: string, message: string) =>
        reply(status, { __type: type, message }, type);

      const target = String(req.headers['x-amz-target'] ?? '');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return error(400, 'SerializationException', 'Body is not JSON');
      }
      requests.push({ target, body });

      if (req.method !== 'POST' || req.url !== '/')
        return error(404, 'UnknownOperationException', 'Not found');
      if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
        return error(400, 'SerializationException', 'Expected application/x-amz-json-1.1');
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        return error(400, 'MissingAuthenticationTokenException', 'Request is missing Authentication Token');
      }
      if (!SUPPORTED.includes(target)) {
        return error(400, 'UnknownOperationException', `Operation ${target} is not supported by this fake`);
      }
      const failure = failures.shift();
      if (failure) return error(failure.status, failure.type, 'Injected failure');

      const secretId = typeof body.SecretId === 'string' ? body.SecretId : '';
      const name = secretId.startsWith('arn:')
        ? secretId.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '')
        : secretId;
      const arn = `arn:aws:secretsmanager:${REGION}:000000000000:secret:${name}-AbCdEf`;
      // The admin CLI's `otp enroll`: a secret created without a value, then given one.
      if (
        target === 'secretsmanager.PutSecretValue' &&
        name !== undefined &&
        typeof body.SecretString === 'string'
      ) {
        secrets.set(name, body.SecretString);
        return reply(200, { ARN: arn, Name: name, VersionId: '00000000-0000-4000-8000-000000000002' });
      }
      if (target === 'secretsmanager.DescribeSecret' && name !== undefined) {
        const stages = secrets.has(name) ? { '00000000-0000-4000-8000-000000000001': ['AWSCURRENT'] } : {};
        return reply(200, { ARN: arn, Name: name, VersionIdsToStages: stages });
      }
      const value = name === undefined ? undefined : secrets.get(name);
      if (value === undefined) {
        return error(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      reply(200, {
        ARN: `arn:aws:secretsmanager:${REGION}:000000000000:secret:${name}-AbCdEf`,
        Name: name,
        VersionId: '00000000-0000-4000-8000-000000000001',
        ...(typeof value === 'string'
          ? { SecretString: value }
          : { SecretBinary: value.binary.toString('base64') }),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: REGION,
    requests,
    setSecret: (secretId, value) => void secrets.set(secretId, value),
    deleteSecret: (secretId) => void secrets.delete(secretId),
    failNext: (n, type = 'InternalServiceError', status = 500) => {
      for (let i = 0; i < n; i++) failures.push({ type, status });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
