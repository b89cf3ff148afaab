/**
 * The IAM grants of infra/handlers.ts against what the handlers really do. Each API handler runs through
 * its happy and failure paths, and each scheduled job through runs that find work of every kind, against
 * dynalite. Every DynamoDB request is recorded on the wire with its table and index, and:
 * - every action, table and index observed is declared (else the deployed function gets AccessDenied), and
 * - every action and index declared was observed on some path (else the role grants more than the code uses).
 * Whether a handler calls Logfire at all decides whether it may read the upstream secret.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { IssuedToken } from '../functions/core/contract';
import type { BrokerDeps } from '../functions/core/deps';
import { runRotation, type RotationReport } from '../functions/core/rotation';
import { runSweep, type SweepReport } from '../functions/core/sweep';
import { JOB_RUN_MESSAGES, UPSTREAM_DELETE_FAILED_MESSAGES } from '../infra/alarms';
import { HANDLERS, type HandlerSpec } from '../infra/handlers';
import { startTestBroker, type TestBroker } from './support/broker';
import { forgetQuotaOverrides } from '../functions/core/quotas';
import { forgetClientSettings } from '../functions/core/clientSettings';
import {
  adminEvent,
  apiEvent,
  heartbeatEvent,
  mintEvent,
  refreshEvent,
  revokeEvent,
  type AdminEventOptions,
} from './support/events';
import { currentOtp } from '../functions/core/otp';
import { TEST_TOTP_SEED } from './support/adminSigning';
import { anomalyRules } from './support/anomalies';

const DAY = 86_400_000;
const body = { installId: 'iam-check-install-0001', app: { name: 'cli', version: '1.0.0' } };
const key = (n: number) => `iam-check-idempotency-key-${n}-0123456789`;

type Table = 'tokens' | 'audit';
type Usage = Record<Table, { actions: Set<string>; indexes: Set<string> }>;

const emptyUsage = (): Usage => ({
  tokens: { actions: new Set(), indexes: new Set() },
  audit: { actions: new Set(), indexes: new Set() },
});

/**
 * Records each request's action, the tables it names (`TableName`, or the keys of a batch's
 * `RequestItems`) and its index into `sink()`, when there is one.
 */
function recordUsage(client: DynamoDBClient, tables: Record<string, Table>, sink: () => Usage | undefined) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const usage = sink();
      if (usage) {
        const input = args.input as { TableName?: string; IndexName?: string; RequestItems?: object };
        const action = `dynamodb:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
        const names = input.TableName ? [input.TableName] : Object.keys(input.RequestItems ?? {});
        for (const name of names) {
          const table = tables[name];
          if (!table) throw new Error(`request to an unknown table ${name}`);
          usage[table].actions.add(action);
          if (input.IndexName) usage[table].indexes.add(input.IndexName);
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'iamActionsRecorder', override: true },
  );
}

const declared = (spec: HandlerSpec, table: Table) => {
  const access = table === 'tokens' ? spec.tokens : spec.audit;
  return { actions: [...(access?.actions ?? [])].sort(), indexes: [...(access?.indexes ?? [])].sort() };
};

describe('IAM actions declared in infra/handlers.ts', () => {
  let broker: TestBroker;
  /** The same broker in relay mode (BROKER_INGEST_MODE=relay), on its own dynalite and fake Logfire. */
  let relay: TestBroker;
  let recording: Usage | undefined;
  const observed: Record<string, Usage> = {};
  const logfireCalls: Record<string, number> = {};
  const rotations: RotationReport[] = [];
  const sweeps: SweepReport[] = [];
  let paths = 0;

  /** Runs one path of `handler`; only the requests of `call` are recorded, not those of its setup. */
  async function path<T>(handler: string, call: () => Promise<T>): Promise<T> {
    recording = observed[handler] ??= emptyUsage();
    const sent = () => broker.logfire.requests.length + (relay?.logfire.requests.length ?? 0);
    const before = sent();
    try {
      return await call();
    } finally {
      recording = undefined;
      logfireCalls[handler] = (logfireCalls[handler] ?? 0) + sent() - before;
      paths += 1;
    }
  }
  async function api(handler: string, status: number, call: () => Promise<APIGatewayProxyResult>) {
    const result = await path(handler, call);
    expect(result.statusCode).toBe(status);
  }
  const rotate = async (now: number) =>
    void rotations.push(await path('rotate', () => runRotation(broker.deps, { now })));
  const sweep = async (now: number, deps: BrokerDeps = broker.deps) =>
    void sweeps.push(await path('sweep', () => runSweep(deps, { now })));

  const mint = async (headers: Record<string, string> = {}) =>
    JSON.parse((await broker.handlers.mint(mintEvent(body, headers))).body) as IssuedToken;

  /** Every admin route once, the sensitive ones with a fresh code (one 30 s step apart: codes are single-use). */
  async function exerciseAdmin() {
    const call = (method: string, resource: string, options: AdminEventOptions = {}) =>
      broker.handlers.admin(adminEvent(method, resource, options));
    const code = () => {
      broker.clock.advance(30_000);
      return { 'x-broker-otp': currentOtp(TEST_TOTP_SEED, broker.clock.now()) };
    };
    // A token of its own app, so the bulk revoke below leaves the jobs' tokens alone.
    const own = { installId: 'iam-check-admin-install', app: { name: 'admin-cli', version: '1.0.0' } };
    const a = JSON.parse((await broker.handlers.mint(mintEvent(own))).body) as IssuedToken;
    const tokenPath = (action: string) => ({
      pathParameters: { tokenId: a.tokenId },
      body: { reason: action },
    });
    await api('admin', 200, () => call('GET', '/v1/admin/tokens'));
    await api('admin', 200, () =>
      call('GET', '/v1/admin/tokens', { query: { app: 'admin-cli', version: '<2' } }),
    );
    await api('admin', 200, () => call('GET', '/v1/admin/tokens', { query: { network: '203.0.113.0/24' } }));
    await api('admin', 200, () => call('GET', '/v1/admin/tokens', { query: { install: body.installId } }));
    await api('admin', 200, () =>
      call('GET', '/v1/admin/tokens/{tokenId}', { pathParameters: { tokenId: a.tokenId } }),
    );
    await api('admin', 200, () => call('POST', '/v1/admin/tokens/{tokenId}/pause', tokenPath('pause')));
    await api('admin', 200, () => call('POST', '/v1/admin/tokens/{tokenId}/resume', tokenPath('resume')));
    await api('admin', 200, () => call('POST', '/v1/admin/tokens/{tokenId}/revoke', tokenPath('revoke')));
    const bulk = { action: 'revoke', filter: { app: 'admin-cli', version: '>=1.0.0' }, reason: 'iam check' };
    await api('admin', 200, () => call('POST', '/v1/admin/bulk', { body: { ...bulk, dryRun: true } }));
    await api('admin', 401, () => call('POST', '/v1/admin/bulk', { body: bulk }));
    const created = await path('admin', () =>
      call('POST', '/v1/admin/bulk', { body: bulk, headers: code() }),
    );
    const jobId = (JSON.parse(created.body) as { job: { jobId: string } }).job.jobId;
    await api('admin', 200, () => call('POST', '/v1/admin/bulk/{jobId}/run', { pathParameters: { jobId } }));
    await api('admin', 200, () => call('GET', '/v1/admin/bulk/{jobId}', { pathParameters: { jobId } }));
    await api('admin', 200, () => call('GET', '/v1/admin/quotas'));
    await api('admin', 200, () =>
      call('PUT', '/v1/admin/quotas', { body: { mintsPerDay: null }, headers: code() }),
    );
    await api('admin', 200, () => call('GET', '/v1/admin/settings'));
    await api('admin', 200, () =>
      call('PUT', '/v1/admin/settings', {
        body: { rules: [{ app: 'other-cli', sampleRate: 0.5 }] },
        headers: code(),
      }),
    );
    await api('admin', 200, () => call('GET', '/v1/admin/allowlist'));
    await api('admin', 200, () =>
      call('PUT', '/v1/admin/allowlist', { body: { mintAllowCidrs: null }, headers: code() }),
    );
    await api('admin', 200, () => call('GET', '/v1/admin/anomalies'));
    const [action] = (await broker.store.listAnomalyActions(1)).items;
    await api('admin', 200, () =>
      call('POST', '/v1/admin/anomalies/{actionId}/undo', {
        pathParameters: { actionId: action!.actionId },
        body: { reason: 'iam check' },
        headers: code(),
      }),
    );
    await api('admin', 200, () => call('GET', '/v1/admin/audit'));
    await api('admin', 200, () => call('GET', '/v1/admin/audit', { query: { tokenId: a.tokenId } }));
    await api('admin', 200, () => call('GET', '/v1/admin/audit', { query: { installId: body.installId } }));
    await api('admin', 200, () => call('GET', '/v1/admin/stats'));
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    recordUsage(
      broker.db.client,
      { [broker.db.tableName]: 'tokens', [broker.db.auditTableName]: 'audit' },
      () => recording,
    );
    const t0 = broker.clock.now();

    // mint: plain, idempotent, replayed, failed upstream (the claim is released), invalid input.
    await api('mint', 201, () => broker.handlers.mint(mintEvent(body)));
    await api('mint', 201, () => broker.handlers.mint(mintEvent(body, { 'idempotency-key': key(1) })));
    await api('mint', 201, () => broker.handlers.mint(mintEvent(body, { 'idempotency-key': key(1) })));
    broker.logfire.failNext(3, 500);
    await api('mint', 503, () => broker.handlers.mint(mintEvent(body, { 'idempotency-key': key(2) })));
    await api('mint', 400, () => broker.handlers.mint(mintEvent({ installId: 'x' })));

    // heartbeat: live token, wrong secret, revoked token (a proven owner hears "revoked").
    const live = await mint();
    await api('heartbeat', 200, () =>
      broker.handlers.heartbeat(heartbeatEvent(live.tokenId, live.clientSecret)),
    );
    await api('heartbeat', 401, () =>
      broker.handlers.heartbeat(heartbeatEvent(live.tokenId, 'lfb_cs_wrong')),
    );
    const revoked = await mint();
    await broker.store.revokeToken(revoked.tokenId, 'test', t0);
    await api('heartbeat', 200, () =>
      broker.handlers.heartbeat(heartbeatEvent(revoked.tokenId, revoked.clientSecret)),
    );

    // refresh: success, a retry within the grace (same successor), an older secret (reuse detection
    // revokes the chain), a claim left by a crash taken over, failed upstream, paused token.
    const first = await mint();
    await api('refresh', 200, () => broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret)));
    const second = JSON.parse(
      (await path('refresh', () => broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret))))
        .body,
    ) as IssuedToken;
    await api('refresh', 200, () =>
      broker.handlers.refresh(refreshEvent(second.tokenId, second.clientSecret)),
    );
    await api('refresh', 401, () => broker.handlers.refresh(refreshEvent(first.tokenId, first.clientSecret)));
    // refresh refused by its chain's hourly quota: the successor's mint intent is dropped again.
    await broker.store.changeQuotaOverrides({ refreshesPerTokenPerHour: 1 }, t0);
    forgetQuotaOverrides(broker.store);
    const limited = await mint();
    const limitedNext = JSON.parse(
      (
        await path('refresh', () =>
          broker.handlers.refresh(refreshEvent(limited.tokenId, limited.clientSecret)),
        )
      ).body,
    ) as IssuedToken;
    await api('refresh', 429, () =>
      broker.handlers.refresh(refreshEvent(limitedNext.tokenId, limitedNext.clientSecret)),
    );
    await broker.store.changeQuotaOverrides({ refreshesPerTokenPerHour: null }, t0);
    forgetQuotaOverrides(broker.store);
    const crashed = await mint();
    const crashedRecord = (await broker.store.getToken(crashed.tokenId))!;
    await broker.store.claimForRefresh(crashed.tokenId, crashedRecord.secretHash, t0, {
      successorId: 'tok_DiedWithTheClaim00000000',
      leaseMs: 0,
    });
    await api('refresh', 200, () =>
      broker.handlers.refresh(refreshEvent(crashed.tokenId, crashed.clientSecret)),
    );
    const other = await mint();
    broker.logfire.failNext(3, 500);
    await api('refresh', 503, () => broker.handlers.refresh(refreshEvent(other.tokenId, other.clientSecret)));
    await broker.store.pauseToken(other.tokenId, 'hold', t0);
    await api('refresh', 403, () => broker.handlers.refresh(refreshEvent(other.tokenId, other.clientSecret)));
    const rotated = await mint();
    await api('refresh', 200, () =>
      broker.handlers.refresh(refreshEvent(rotated.tokenId, rotated.clientSecret)),
    );

    // sweep: the chain that reuse detection noted, and the deletions revocation queued.
    await sweep(t0);
    // sweep: a mint that died between Logfire's create and its store left an intent and a Logfire token.
    const died = { tokenId: 'tok_MintDiedMidway000000000', startedAt: t0, expiresAt: t0 + 14 * DAY };
    await broker.store.recordMintIntent(died);
    await broker.deps.upstream.createWriteToken({ expiresAt: new Date(died.expiresAt) });
    // sweep: a deletion Logfire refuses (5xx on every retry) is deferred, not dropped.
    const refused = await mint();
    await broker.store.revokeToken(refused.tokenId, 'test', t0);
    broker.logfire.failNext(3, 500);
    await sweep(t0);
    // heartbeat: past its hourly quota, the first refusal records the heartbeat-storm signal.
    const settings = broker.deps.settings;
    broker.deps.settings = { ...settings, quotas: { ...settings.quotas, heartbeatsPerTokenPerHour: 1 } };
    const noisy = await mint();
    await api('heartbeat', 200, () =>
      broker.handlers.heartbeat(heartbeatEvent(noisy.tokenId, noisy.clientSecret)),
    );
    await api('heartbeat', 429, () =>
      broker.handlers.heartbeat(heartbeatEvent(noisy.tokenId, noisy.clientSecret)),
    );
    broker.deps.settings = settings;
    // sweep, once the window of the reuse above has settled: secret-reuse pauses the install's tokens.
    const anomalies = anomalyRules({ 'secret-reuse': '0:pause' });
    await sweep(t0 + 20 * 60_000, { ...broker.deps, settings: { ...settings, anomalies } });
    await exerciseAdmin();
    // rotation: nothing due yet.
    await rotate(t0);
    // sweep, two days on with a one-day silence limit: reclaims the silent tokens, deletes the upstream
    // token of the refreshed one (its grace is over) and retries the deferred deletion.
    const stale = { ...broker.deps, settings: { ...broker.deps.settings, staleAfterMs: DAY } };
    await sweep(t0 + 2 * DAY, stale);
    // rotation: a token past refreshAfter is marked; the sweep expires it once it is past expiresAt.
    await mint();
    await rotate(t0 + 8 * DAY);
    await sweep(t0 + 15 * DAY);
    // heartbeat in a process that has not read the remote client settings for 30 s: one GetItem beside it.
    const checking = await mint();
    forgetClientSettings(broker.store);
    await api('heartbeat', 200, () =>
      broker.handlers.heartbeat(heartbeatEvent(checking.tokenId, checking.clientSecret)),
    );
    // revoke (self-revoke): a chain of two (the refresh made the second), again, and with a wrong secret.
    const leaving = await mint();
    const leavingNext = JSON.parse(
      (await broker.handlers.refresh(refreshEvent(leaving.tokenId, leaving.clientSecret))).body,
    ) as IssuedToken;
    const selfRevoke = () =>
      broker.handlers.revoke(revokeEvent(leavingNext.tokenId, leavingNext.clientSecret));
    await api('revoke', 200, selfRevoke);
    await api('revoke', 200, selfRevoke);
    await api('revoke', 401, () => broker.handlers.revoke(revokeEvent(leavingNext.tokenId, 'lfb_cs_wrong')));

    // Relay mode, on a broker of its own: the relay's first export creates the upstream pool, the next ones
    // are one charge each; a refused token is read to tell why; counters of windows long past are removed.
    relay = await startTestBroker({
      env: {
        BROKER_INGEST_MODE: 'relay',
        BROKER_PUBLIC_URL: 'https://broker.example',
        BROKER_RELAY_REQUESTS_PER_MINUTE: '2',
      },
    });
    recordUsage(
      relay.db.client,
      { [relay.db.tableName]: 'tokens', [relay.db.auditTableName]: 'audit' },
      () => recording,
    );
    // The start of a minute, so the three exports below share one window.
    relay.clock.time = Math.floor(relay.clock.now() / 60_000) * 60_000;
    const r0 = relay.clock.now();
    const relayMint = async () =>
      JSON.parse((await relay.handlers.mint(mintEvent(body))).body) as IssuedToken;
    const exporter = await relayMint();
    const ingest = (token: string) =>
      relay.handlers.relay(
        apiEvent({
          path: '/v1/traces',
          rawBody: 'spans',
          headers: { authorization: token, 'content-type': 'application/x-protobuf' },
        }),
      );
    await api('relay', 200, () => ingest(exporter.writeToken));
    await api('relay', 200, () => ingest(exporter.writeToken));
    await api('relay', 429, () => ingest(exporter.writeToken));
    // Another last character (never the same one: that would be the real token, over its quota).
    const wrong = `${exporter.writeToken.slice(0, -1)}${exporter.writeToken.endsWith('A') ? 'B' : 'A'}`;
    await api('relay', 401, () => ingest(wrong));
    relay.clock.advance(3 * 60_000);
    await api('relay', 200, () => ingest(exporter.writeToken));
    // mint and refresh in relay mode make no Logfire call, and need no more than in direct mode.
    await api('mint', 201, () => relay.handlers.mint(mintEvent(body)));
    await api('refresh', 200, () =>
      relay.handlers.refresh(refreshEvent(exporter.tokenId, exporter.clientSecret)),
    );
    // rotation in relay mode: the pool is due after rotateAfter, rotated, and rotated again (deleting the
    // token before at Logfire).
    const relayRotate = async (now: number) =>
      void rotations.push(await path('rotate', () => runRotation(relay.deps, { now })));
    await relayRotate(r0 + 8 * DAY);
    await relayRotate(r0 + 16 * DAY);
  }, 60_000);
  afterAll(() => Promise.all([broker?.close(), relay?.close()]));

  it('exercises every deployed handler', () => {
    expect(paths).toBeGreaterThanOrEqual(19);
    expect(Object.keys(observed).sort()).toEqual(HANDLERS.map((handler) => handler.name).sort());
  });

  it('ran the jobs through every kind of work they do', () => {
    expect(rotations.map((r) => r.marked)).toEqual([0, 1, 2, 0]);
    expect(relay.logs.filter((line) => line.message === 'relay pool: rotated')).toHaveLength(2);
    expect(relay.logfire.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    const total = (field: keyof SweepReport) => sweeps.reduce((sum, r) => sum + Number(r[field]), 0);
    expect(total('chainsCompleted')).toBeGreaterThanOrEqual(1);
    expect(total('reclaimed')).toBeGreaterThanOrEqual(1);
    expect(total('expired')).toBeGreaterThanOrEqual(1);
    expect(total('upstreamDeleted')).toBeGreaterThanOrEqual(2);
    expect(total('orphansDeleted')).toBeGreaterThanOrEqual(1);
    expect(total('intentsSettled')).toBeGreaterThanOrEqual(2);
    expect(sweeps[1]!.upstreamDeleteFailed).toBe(1);
    expect(total('anomalyActions')).toBeGreaterThanOrEqual(1);
  });

  it.each(HANDLERS.map((handler) => [handler.name, handler]))(
    'declares every DynamoDB action %s performs on each table, and none it never performs',
    (name, handler) => {
      for (const table of ['tokens', 'audit'] as const) {
        expect([...(observed[name]?.[table].actions ?? [])].sort()).toEqual(declared(handler, table).actions);
      }
    },
  );

  it.each(HANDLERS.map((handler) => [handler.name, handler]))(
    'declares exactly the indexes %s queries',
    (name, handler) => {
      for (const table of ['tokens', 'audit'] as const) {
        expect([...(observed[name]?.[table].indexes ?? [])].sort()).toEqual(declared(handler, table).indexes);
      }
    },
  );

  it.each(HANDLERS.map((handler) => [handler.name, handler]))(
    'lets %s read the upstream secret exactly when it calls Logfire',
    (name, handler) => {
      expect(handler.readsUpstreamSecret).toBe((logfireCalls[name] ?? 0) > 0);
    },
  );

  it('needs no index for the client routes, and never updates or deletes an audit entry', () => {
    for (const handler of HANDLERS.filter((h) => h.routes.length > 0 && !h.routes.includes('admin'))) {
      expect([...observed[handler.name]!.tokens.indexes]).toEqual([]);
    }
    for (const usage of Object.values(observed)) {
      expect([...usage.audit.actions].filter((a) => /UpdateItem|DeleteItem/.test(a))).toEqual([]);
    }
  });

  it('logs the lines the job metric filters of infra/alarms.ts count', () => {
    const messages = broker.logs.map((line) => line.message);
    for (const message of JOB_RUN_MESSAGES) {
      const run = broker.logs.find((line) => line.message === message);
      expect(typeof run?.attributes?.done).toBe('boolean');
    }
    expect(messages.some((message) => UPSTREAM_DELETE_FAILED_MESSAGES.includes(message))).toBe(true);
  });
});
