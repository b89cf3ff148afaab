/**
 * A real DynamoDB wire protocol for tests: an in-process dynalite server on 127.0.0.1 (random port) with the
 * broker's tables created by `ensureTables`, under a table name unique to the call so parallel tests
 * never share data.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TokenRecord } from '../../functions/core/model';
import { toDocumentClient } from '../../functions/adapters/store/dynamoClient';
import { ensureTables } from '../../functions/adapters/store/ensureTables';
import { defaultAuditTableName } from '../../functions/adapters/store/tables';
import { startEmbeddedDynamo } from '../../functions/local/embeddedDynamo';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** The tokens table; the audit table is `auditTableName`. */
  tableName: string;
  auditTableName: string;
  close(): Promise<void>;
}

let tables = 0;

/**
 * Starts dynalite and creates the tables. In memory unless `path` names a folder (LevelDB on disk).
 * @example
 * let db: TestDynamo;
 * beforeAll(async () => { db = await startDynalite(); });
 * afterAll(() => db.close());
 */
export async function startDynalite(
  options: { path?: string; tableName?: string } = {},
): Promise<TestDynamo> {
  const { endpoint, close } = await startEmbeddedDynamo({ path: options.path });
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1, // a test should see a failure, not a retry that hides it
  });
  tables += 1;
  const tableName =
    options.tableName ?? `tokens-${process.pid}-${tables}-${Math.random().toString(36).slice(2, 8)}`;
  const auditTableName = defaultAuditTableName(tableName);
  await ensureTables(client, tableName, { auditTableName });
  return {
    endpoint,
    client,
    doc: toDocumentClient(client),
    tableName,
    auditTableName,
    close: async () => {
      client.destroy();
      await close();
    },
  };
}

/**
 * What points a `npm start` broker (test/support/localBroker.ts) at these tables.
 * @example const broker = await startLocalBroker({ env: { ...tablesEnv(db), BROKER_HEARTBEAT_INTERVAL: '1s' } });
 */
export function tablesEnv(db: TestDynamo): Record<string, string> {
  return {
    BROKER_DYNAMODB_ENDPOINT: db.endpoint,
    BROKER_TABLE_NAME: db.tableName,
    BROKER_AUDIT_TABLE_NAME: db.auditTableName,
  };
}

const DAY = 86_400_000;
let records = 0;

/**
 * A valid active token record (API-key mode) with a unique id; override what the test is about.
 * @example await store.createToken(tokenRecord({ status: 'paused' }))
 */
export function tokenRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  records += 1;
  const tokenId =
    overrides.tokenId ?? `tok_${process.pid}_${records}_${Math.random().toString(36).slice(2, 8)}`;
  const createdAt = overrides.createdAt ?? 1_700_000_000_000;
  return {
    tokenId,
    chainId: tokenId,
    upstreamId: `up_${tokenId}`,
    upstreamKind: 'api-key',
    installId: 'install-1',
    appName: 'acme-cli',
    appVersion: '1.2.3',
    platform: 'linux-x64',
    sourceIp: '127.0.0.1',
    createdAt,
    expiresAt: createdAt + 14 * DAY,
    refreshAfter: createdAt + 7 * DAY,
    status: 'active',
    updatedAt: createdAt,
    secretHash: `hash-${tokenId}`,
    ...overrides,
  };
}
