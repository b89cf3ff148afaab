/**
 * Creates the broker's tables where they are missing: the local server calls this at start against its
 * embedded dynalite, and the tests against theirs. In AWS the Pulumi stack owns the tables instead.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { auditTable, defaultAuditTableName, tokensTable, type TableDefinition } from './tables';

export interface EnsureTablesOptions {
  /** Defaults to `<tableName>-audit`. */
  auditTableName?: string;
  /** How long to wait for a table to become ACTIVE. */
  timeoutMs?: number;
}

/**
 * The CreateTable request for a definition (on-demand billing).
 * @example await client.send(new CreateTableCommand(toCreateTableInput(tokensTable('t'))))
 */
export function toCreateTableInput(definition: TableDefinition): CreateTableCommandInput {
  const keySchema = (hashKey: string, rangeKey?: string) => [
    { AttributeName: hashKey, KeyType: 'HASH' as const },
    ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: definition.tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: definition.attributes.map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
    KeySchema: keySchema(definition.hashKey, definition.rangeKey),
    GlobalSecondaryIndexes: definition.globalIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: keySchema(index.hashKey, index.rangeKey),
      Projection:
        index.projection.type === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: index.projection.nonKeyAttributes }
          : { ProjectionType: index.projection.type },
    })),
  };
}

/**
 * Creates the tokens and audit tables if they do not exist, and waits until they are ACTIVE. Idempotent;
 * safe when two processes start at once. Throws if an existing table lacks an index this code needs
 * (dynalite cannot add indexes to a table: delete the local data folder).
 * @example await ensureTables(new DynamoDBClient({ endpoint: 'http://127.0.0.1:4567' }), 'logfire-broker-tokens')
 */
export async function ensureTables(
  client: DynamoDBClient,
  tableName: string,
  options: EnsureTablesOptions = {},
): Promise<void> {
  const definitions = [
    tokensTable(tableName),
    auditTable(options.auditTableName ?? defaultAuditTableName(tableName)),
  ];
  await Promise.all(
    definitions.map((definition) => ensureTable(client, definition, options.timeoutMs ?? 60_000)),
  );
}

async function ensureTable(
  client: DynamoDBClient,
  definition: TableDefinition,
  timeoutMs: number,
): Promise<void> {
  let table = await describe(client, definition.tableName);
  if (!table) {
    try {
      await client.send(new CreateTableCommand(toCreateTableInput(definition)));
    } catch (error) {
      // Another process created it between our describe and create.
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
    table = await waitUntilActive(client, definition.tableName, timeoutMs);
    await enableTtl(client, definition);
  } else if (!isActive(table)) {
    table = await waitUntilActive(client, definition.tableName, timeoutMs);
  }
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const missing = definition.globalIndexes
    .filter((index) => !present.has(index.name))
    .map((index) => index.name);
  if (missing.length > 0) {
    throw new Error(
      `Table ${definition.tableName} exists without the index(es) ${missing.join(', ')}; ` +
        'delete the local data folder (BROKER_DATA_DIR) or add the indexes',
    );
  }
}

async function enableTtl(client: DynamoDBClient, definition: TableDefinition): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: definition.tableName,
        TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite has no TTL at all; the store checks expiry in code anyway (DESIGN §8).
    if ((error as Error).name !== 'UnknownOperationException') throw error;
  }
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    const reply = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return reply.Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function isActive(table: TableDescription): boolean {
  return (
    table.TableStatus === 'ACTIVE' &&
    (table.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')
  );
}

// A small poll instead of the SDK waiter, whose first retry comes only after 20 s.
async function waitUntilActive(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs: number,
): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 1000)) {
    const table = await describe(client, tableName);
    if (table && isActive(table)) return table;
    if (Date.now() > deadline)
      throw new Error(`Table ${tableName} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
