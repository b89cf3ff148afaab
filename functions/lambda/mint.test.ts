/**
 * The mint Lambda as deployed with a 3 s timeout (issue #8, point 8): its module wires itself from the
 * environment the stack writes, against dynalite and the fake Logfire over real HTTP, while the machine is
 * kept busy. However Logfire stalls, the function must answer before Lambda would cut it off: a 503 with
 * `Retry-After`, never a timeout between the create of a write token and the store of its record.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ProxyHandler } from '../http/reply';
import { apiKeyEnv, startFakeLogfire, type FakeLogfire } from '../../test/fakes/fakeLogfire';
import { startDynalite, type TestDynamo } from '../../test/support/dynalite';
import { keepBusy } from '../../test/support/busy';
import { mintEvent } from '../../test/support/events';

jest.setTimeout(30_000);

const FUNCTION_TIMEOUT_MS = 3000;
const API_KEY = 'pylf_v1_us_LambdaBudgetTestApiKeyNotARealKey000000';
const HANG_MS = 60_000;
const mintBody = { installId: 'install-lambda-budget-1', app: { name: 'budget-cli', version: '1.0.0' } };

/**
 * A pass-through to dynalite that can refuse the write of a token record (the one write that carries a
 * `secretHash`), as DynamoDB does when it fails: the mint must then delete the Logfire token again.
 */
async function startDynamoProxy(target: string) {
  const state = { refuseTokenWrites: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = String(req.headers['x-amz-target'] ?? '');
      if (
        state.refuseTokenWrites &&
        /(PutItem|BatchWriteItem)$/.test(action) &&
        body.includes('secretHash')
      ) {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazon.coral.service#InternalFailure', message: 'refused' }));
        return;
      }
      const upstream = httpRequest(
        target,
        { method: req.method, path: req.url, headers: req.headers },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Lambda: mint with a 3 s function timeout', () => {
  let dynamo: TestDynamo;
  let proxy: Awaited<ReturnType<typeof startDynamoProxy>>;
  let logfire: FakeLogfire;
  let handler: ProxyHandler;
  let busy: Awaited<ReturnType<typeof keepBusy>> | undefined;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // Prepare: the environment infra/functions.ts writes, plus the local endpoints and an env credential.
    dynamo = await startDynalite();
    proxy = await startDynamoProxy(dynamo.endpoint);
    logfire = await startFakeLogfire({ apiKey: API_KEY });
    Object.assign(process.env, {
      BROKER_FUNCTION_TIMEOUT: `${FUNCTION_TIMEOUT_MS}ms`,
      BROKER_UPSTREAM_TIMEOUT: '2s',
      BROKER_UPSTREAM_RETRIES: '3',
      BROKER_TABLE_NAME: dynamo.tableName,
      BROKER_AUDIT_TABLE_NAME: dynamo.auditTableName,
      BROKER_DYNAMODB_ENDPOINT: proxy.endpoint,
      BROKER_UPSTREAM: 'api-key',
      ...apiKeyEnv(logfire, API_KEY),
      BROKER_LOG_LEVEL: 'ERROR',
    });
    // Imported only now: the module wires its deps from the environment when it loads, as at a cold start.
    ({ handler } = await import('./mint'));
  });

  beforeEach(async () => {
    busy = await keepBusy(8000);
    proxy.state.refuseTokenWrites = false;
    logfire.clearFaults();
  });

  afterEach(() => {
    busy?.stop();
  });

  afterAll(async () => {
    process.env = savedEnv;
    await logfire?.close();
    await proxy?.close();
    await dynamo?.close();
  });

  /** Invokes the handler the way Lambda would, and how long it took. */
  async function invoke() {
    const started = performance.now();
    const reply = await handler(mintEvent(mintBody));
    return { reply, elapsedMs: performance.now() - started };
  }

  const storedItems = async () =>
    (await dynamo.doc.send(new ScanCommand({ TableName: dynamo.tableName }))).Items ?? [];
  const storedTokens = async () =>
    (await storedItems()).filter((item) => String(item.pk).startsWith('token#'));

  it('answers 503 with Retry-After before the timeout when Logfire never replies, storing nothing', async () => {
    logfire.fault(...Array.from({ length: 5 }, () => ({ delayMs: HANG_MS })));

    const { reply, elapsedMs } = await invoke();

    expect(elapsedMs).toBeLessThan(FUNCTION_TIMEOUT_MS);
    expect(reply.statusCode).toBe(503);
    expect(Number(reply.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: 'upstream_unavailable' } });
    expect(await storedTokens()).toEqual([]);
    // Logfire may have made the token before the budget ran out: the mint's intent stays for the sweep.
    const kept = (await storedItems()).map((item) => String(item.pk));
    expect(kept.filter((pk) => !pk.startsWith('quota#'))).toEqual([expect.stringMatching(/^intent#tok_/)]);
  });

  it('stores the token when Logfire is slow but answers within the budget', async () => {
    logfire.fault({ delayMs: 600 });

    const { reply, elapsedMs } = await invoke();

    expect(elapsedMs).toBeLessThan(FUNCTION_TIMEOUT_MS);
    expect(reply.statusCode).toBe(201);
    const { tokenId } = JSON.parse(reply.body) as { tokenId: string };
    expect((await storedTokens()).map((item) => item.tokenId)).toContain(tokenId);
  });

  it('still has time to try the compensating delete when the record cannot be stored and Logfire stalls', async () => {
    proxy.state.refuseTokenWrites = true;
    // The create answers; the delete that undoes it never does.
    logfire.fault({}, ...Array.from({ length: 5 }, () => ({ delayMs: HANG_MS })));
    const before = logfire.requests.length;

    const { reply, elapsedMs } = await invoke();

    expect(elapsedMs).toBeLessThan(FUNCTION_TIMEOUT_MS);
    expect(reply.statusCode).toBeGreaterThanOrEqual(500);
    expect(logfire.requests.slice(before).map((r) => r.method)).toEqual(['POST', 'DELETE']);
  });
});
