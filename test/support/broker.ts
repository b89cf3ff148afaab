/**
 * A broker wired from real parts for handler tests: the DynamoDB store on dynalite, the real Logfire
 * adapter against the fake Logfire server, a clock the test moves, and a log that keeps every line.
 */
import { readConfig } from '../../functions/config';
import { NO_QUOTAS } from './localBroker';
import type { DynamoTokenStore } from '../../functions/adapters/store/dynamoTokenStore';
import type { DynamoAuditLog } from '../../functions/adapters/store/auditLog';
import { wireBroker, type WiredBroker } from '../../functions/adapters/wiring';
import { createUpstream } from '../../functions/adapters/upstream';
import type { TokenSettings } from '../../functions/core/deps';
import type { Clock } from '../../functions/core/ports';
import { capturingLog, type LogLine } from './log';
import { HANDLER_FACTORIES } from '../../functions/handlers';
import type { ProxyHandler } from '../../functions/http/reply';
import type { RouteName } from '../../functions/http/routes';
import { startFakeLogfire, type FakeLogfire } from '../fakes/fakeLogfire';
import { stampIdentity } from '../../functions/relay/stampIdentity';
import { startDynalite, type TestDynamo } from './dynalite';

export const TEST_API_KEY = 'pylf_v1_us_' + 'TestApiKeyForTheFakeLogfireServer0123456789';
export const TEST_USER_TOKEN = 'pylf_v1_us_' + 'TestUserTokenForTheFakeLogfireServer012345';

export class TestClock implements Clock {
  constructor(public time = Date.now()) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export { capturingLog, type LogLine } from './log';
import { TEST_TOTP_SEED } from './adminSigning';

export interface TestBroker {
  deps: WiredBroker;
  handlers: Record<RouteName, ProxyHandler>;
  store: DynamoTokenStore;
  audit: DynamoAuditLog;
  logfire: FakeLogfire;
  db: TestDynamo;
  clock: TestClock;
  logs: LogLine[];
  close(): Promise<void>;
}

export async function startTestBroker(
  options: {
    mode?: 'api-key' | 'user-token';
    env?: Record<string, string>;
    settings?: Partial<TokenSettings>;
  } = {},
): Promise<TestBroker> {
  const mode = options.mode ?? 'api-key';
  const [db, logfire] = await Promise.all([
    startDynalite(),
    startFakeLogfire({ apiKey: TEST_API_KEY, userToken: TEST_USER_TOKEN }),
  ]);
  const credentials =
    mode === 'api-key'
      ? { LOGFIRE_API_KEY: TEST_API_KEY, LOGFIRE_PROJECT_ID: logfire.projectId }
      : { LOGFIRE_USER_TOKEN: TEST_USER_TOKEN, LOGFIRE_ORG: 'fake-org', LOGFIRE_PROJECT: 'fake-project' };
  const config = readConfig({
    ...credentials,
    LOGFIRE_BASE_URL: logfire.baseUrl,
    BROKER_UPSTREAM_TIMEOUT: '2s',
    BROKER_UPSTREAM_RETRIES: '2',
    BROKER_TABLE_NAME: db.tableName,
    BROKER_AUDIT_TABLE_NAME: db.auditTableName,
    ...NO_QUOTAS,
    ...options.env,
  });
  const clock = new TestClock();
  const logs: LogLine[] = [];
  const log = capturingLog(logs);
  // Retry waits are real but short: Retry-After is capped by the adapter, and tests send small values.
  const upstream = createUpstream(config, {
    log,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
  });
  const deps = wireBroker({
    config: { ...config, ...options.settings },
    doc: db.doc,
    upstream,
    log,
    clock,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
    stamp: stampIdentity, // as npm start wires it: used only in relay mode with stamping on
    admin: { otpSeed: async () => TEST_TOTP_SEED },
  });
  const handlers = Object.fromEntries(
    Object.entries(HANDLER_FACTORIES).map(([name, factory]) => [name, factory(() => deps)]),
  ) as Record<RouteName, ProxyHandler>;
  return {
    deps,
    handlers,
    store: deps.store,
    audit: deps.audit,
    logfire,
    db,
    clock,
    logs,
    close: async () => {
      await Promise.all([db.close(), logfire.close()]);
    },
  };
}
