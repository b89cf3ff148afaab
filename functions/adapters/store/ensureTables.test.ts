import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite, tokenRecord } from '../../../test/support/dynalite';
import { DynamoTokenStore } from './dynamoTokenStore';
import { ensureTables, toCreateTableInput } from './ensureTables';
import { tokensTable } from './tables';

describe('Function: ensureTables', () => {
  it('creates both tables with every index ACTIVE, and a second run (even concurrent) changes nothing', async () => {
    const db = await startDynalite();
    try {
      await Promise.all([ensureTables(db.client, db.tableName), ensureTables(db.client, db.tableName)]);
      for (const name of [db.tableName, db.auditTableName]) {
        const { Table } = await db.client.send(new DescribeTableCommand({ TableName: name }));
        expect(Table?.TableStatus).toBe('ACTIVE');
        expect(Table?.GlobalSecondaryIndexes?.every((index) => index.IndexStatus === 'ACTIVE')).toBe(true);
      }
    } finally {
      await db.close();
    }
  });

  it('names the missing index when an existing table is older than the code', async () => {
    const db = await startDynalite();
    try {
      const old = tokensTable('old-tokens');
      old.globalIndexes = old.globalIndexes.slice(0, 1);
      old.attributes = old.attributes.filter((a) => ['pk', 'sk', 'installId', 'createdAt'].includes(a.name));
      await db.client.send(new CreateTableCommand(toCreateTableInput(old)));
      await expect(ensureTables(db.client, 'old-tokens')).rejects.toThrow(
        /old-tokens exists without .*byChain/,
      );
    } finally {
      await db.close();
    }
  });

  it('keeps the data of a dynalite persisted on disk across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broker-dynalite-'));
    try {
      const record = tokenRecord();
      const first = await startDynalite({ path: dir, tableName: 'persisted' });
      await new DynamoTokenStore({ client: first.doc, tableName: 'persisted' }).createToken(record);
      await first.close();

      const second = await startDynalite({ path: dir, tableName: 'persisted' });
      try {
        expect(
          await new DynamoTokenStore({ client: second.doc, tableName: 'persisted' }).getToken(record.tokenId),
        ).toEqual(record);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
