import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { KEY } from '../../functions/adapters/store/tables';
import { startDynalite, type TestDynamo } from './dynalite';
import { countRequests } from './requestCounter';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(() => db.close());

describe('Function: countRequests', () => {
  it('counts DocumentClient requests by operation name, failed ones included, and resets', async () => {
    const requests = countRequests(db.client);
    await db.doc.send(new GetCommand({ TableName: db.tableName, Key: KEY.token('a') }));
    await db.doc.send(new GetCommand({ TableName: db.tableName, Key: KEY.token('b') }));
    await expect(
      db.doc.send(
        new UpdateCommand({
          TableName: db.tableName,
          Key: KEY.token('a'),
          UpdateExpression: 'SET x = :x',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':x': 1 },
        }),
      ),
    ).rejects.toThrow();
    expect(requests.counts).toEqual({ GetItem: 2, UpdateItem: 1 });
    expect(requests.total()).toBe(3);
    requests.reset();
    expect(requests.total()).toBe(0);
  });
});
