import type * as pulumi from '@pulumi/pulumi';
import { auditTable, tokensTable } from '../functions/adapters/store/tables';
import { Storage } from './storage';
import { ofType, setupMocks, settle, type RecordedResource } from './testing/mocks';

const KMS = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** Builds a Storage under fresh mocks; records each resource's retainOnDelete option too. */
async function build(args: { kmsKeyArn?: string; protect: boolean }) {
  const resources = setupMocks();
  const retained: Record<string, boolean | undefined> = {};
  const record: pulumi.ResourceTransformation = ({ name, opts }) => {
    retained[name] = opts.retainOnDelete;
    return undefined;
  };
  new Storage(
    'storage',
    { tokensTableName: 'p-tokens', auditTableName: 'p-tokens-audit', ...args },
    { transformations: [record] },
  );
  await settle();
  const tables = ofType(resources, 'aws:dynamodb/table:Table');
  const table = (name: string) => tables.find((t) => t.inputs.name === name)!.inputs;
  return { tables, table, retained };
}

const indexesOf = (definition: ReturnType<typeof tokensTable>) =>
  definition.globalIndexes.map((index) => ({
    name: index.name,
    keySchemas: [
      { attributeName: index.hashKey, keyType: 'HASH' },
      ...(index.rangeKey ? [{ attributeName: index.rangeKey, keyType: 'RANGE' }] : []),
    ],
    projectionType: index.projection.type,
    ...(index.projection.type === 'INCLUDE' ? { nonKeyAttributes: index.projection.nonKeyAttributes } : {}),
  }));

describe('Storage', () => {
  it('builds both tables from the definitions the code uses: keys, attributes and indexes', async () => {
    const { tables, table } = await build({ protect: true });
    expect(tables).toHaveLength(2);
    for (const definition of [tokensTable('p-tokens'), auditTable('p-tokens-audit')]) {
      const inputs = table(definition.tableName);
      expect(inputs.hashKey).toBe(definition.hashKey);
      expect(inputs.rangeKey).toBe(definition.rangeKey);
      expect(inputs.attributes).toEqual(definition.attributes);
      expect(inputs.globalSecondaryIndexes).toEqual(indexesOf(definition));
    }
  });

  it('bills on demand, with point-in-time recovery and TTL on `ttl`', async () => {
    const { tables } = await build({ protect: true });
    for (const { inputs } of tables) {
      expect(inputs).toMatchObject({
        billingMode: 'PAY_PER_REQUEST',
        pointInTimeRecovery: { enabled: true },
        ttl: { attributeName: 'ttl', enabled: true },
      });
    }
  });

  it('encrypts with the AWS-owned key by default, and with the customer managed key when set', async () => {
    const owned = await build({ protect: true });
    for (const { inputs } of owned.tables) expect(inputs.serverSideEncryption).toEqual({ enabled: false });
    const cmk = await build({ protect: true, kmsKeyArn: KMS });
    for (const { inputs } of cmk.tables)
      expect(inputs.serverSideEncryption).toEqual({ enabled: true, kmsKeyArn: KMS });
  });

  it('protects the tables from deletion, and keeps them when the stack is destroyed', async () => {
    const { tables, retained } = await build({ protect: true });
    for (const { name, inputs } of tables) {
      expect(inputs.deletionProtectionEnabled).toBe(true);
      expect(retained[name]).toBe(true);
    }
  });

  it('lets a dev stack delete its tables', async () => {
    const { tables, retained } = await build({ protect: false });
    for (const { name, inputs } of tables as RecordedResource[]) {
      expect(inputs.deletionProtectionEnabled).toBe(false);
      expect(retained[name]).toBeFalsy();
    }
  });
});
