import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startDynalite } from '../../../test/support/dynalite';
import { createDocumentClient } from './dynamoClient';
import { KEY } from './tables';

describe('Function: createDocumentClient', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env = { ...saved };
  });
  afterAll(() => {
    process.env = saved;
  });

  it('talks to a local endpoint with dummy credentials, whatever the environment says', async () => {
    process.env.AWS_PROFILE = 'profile-that-does-not-exist';
    const db = await startDynalite();
    const doc = createDocumentClient({ endpoint: db.endpoint });
    try {
      expect(await doc.config.region()).toBe('us-east-1');
      const reply = await doc.send(new GetCommand({ TableName: db.tableName, Key: KEY.token('none') }));
      expect(reply.Item).toBeUndefined();
    } finally {
      doc.destroy();
      await db.close();
    }
  });

  it('uses the given region and the real endpoint in AWS', async () => {
    const doc = createDocumentClient({ region: 'eu-west-1' });
    expect(await doc.config.region()).toBe('eu-west-1');
    expect(doc.config.endpoint).toBeUndefined();
    doc.destroy();
  });
});
