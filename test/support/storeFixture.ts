/**
 * A DynamoTokenStore on its own dynalite for the duration of a test file, with the two helpers the store
 * tests share. Call `useStore()` at the top of the file; it registers beforeAll/afterAll.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTokenStore } from '../../functions/adapters/store/dynamoTokenStore';
import { KEY } from '../../functions/adapters/store/tables';
import type { TokenRecord } from '../../functions/core/model';
import { startDynalite, tokenRecord, type TestDynamo } from './dynalite';

export interface StoreFixture {
  readonly db: TestDynamo;
  readonly store: DynamoTokenStore;
  /** The item as stored, internal attributes included. */
  rawItem(tokenId: string): Promise<Record<string, unknown> | undefined>;
  /** Stores a valid record with the given overrides and returns it. */
  created(overrides?: Partial<TokenRecord>): Promise<TokenRecord>;
}

export function useStore(): StoreFixture {
  let db: TestDynamo | undefined;
  let store: DynamoTokenStore | undefined;
  beforeAll(async () => {
    db = await startDynalite();
    store = new DynamoTokenStore({ client: db.doc, tableName: db.tableName });
  });
  afterAll(() => db?.close());
  const fixture: StoreFixture = {
    get db() {
      return db!;
    },
    get store() {
      return store!;
    },
    rawItem: async (tokenId) => {
      const reply = await db!.doc.send(
        new GetCommand({ TableName: db!.tableName, Key: KEY.token(tokenId), ConsistentRead: true }),
      );
      return reply.Item;
    },
    created: async (overrides = {}) => {
      const record = tokenRecord(overrides);
      await store!.createToken(record);
      return record;
    },
  };
  return fixture;
}
