/**
 * The broker's DynamoDB tables, built from the same definitions the local server and the tests create in
 * dynalite (functions/adapters/store/tables.ts), so the deployed keys and indexes cannot drift from the code.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { auditTable, tokensTable, type TableDefinition } from '../functions/adapters/store/tables';

export interface StorageArgs {
  tokensTableName: string;
  auditTableName: string;
  /** Customer managed key; unset = DynamoDB's AWS-owned key (no KMS cost, no key policy to keep). */
  kmsKeyArn?: string;
  /** Deletion protection in DynamoDB, and the tables stay in AWS when the stack is destroyed. */
  protect: boolean;
}

export class Storage extends pulumi.ComponentResource {
  readonly tokens: aws.dynamodb.Table;
  readonly audit: aws.dynamodb.Table;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:storage:Storage', name, {}, opts);
    const { tokensTableName, auditTableName, kmsKeyArn, protect } = args;
    if (tokensTableName === auditTableName) throw new Error('Storage: the two tables need different names');

    this.tokens = this.table(`${name}-tokens`, tokensTable(tokensTableName), kmsKeyArn, protect);
    this.audit = this.table(`${name}-audit`, auditTable(auditTableName), kmsKeyArn, protect);
    this.registerOutputs({ tokensTableName: this.tokens.name, auditTableName: this.audit.name });
  }

  private table(
    resourceName: string,
    definition: TableDefinition,
    kmsKeyArn: string | undefined,
    protect: boolean,
  ): aws.dynamodb.Table {
    return new aws.dynamodb.Table(
      resourceName,
      { ...tableArgs(definition, kmsKeyArn), deletionProtectionEnabled: protect },
      { parent: this, retainOnDelete: protect },
    );
  }
}

/**
 * The `aws.dynamodb.Table` arguments for a definition of tables.ts: on-demand, PITR, SSE, TTL.
 * @example tableArgs(tokensTable('logfire-broker-prod-tokens')).globalSecondaryIndexes // byInstall, ...
 */
export function tableArgs(definition: TableDefinition, kmsKeyArn?: string): aws.dynamodb.TableArgs {
  return {
    // An explicit name: the code finds the audit table as `<tokens table>-audit`, and operators find both.
    name: definition.tableName,
    billingMode: 'PAY_PER_REQUEST',
    hashKey: definition.hashKey,
    rangeKey: definition.rangeKey,
    attributes: definition.attributes.map((attribute) => ({ name: attribute.name, type: attribute.type })),
    globalSecondaryIndexes: definition.globalIndexes.map((index) => ({
      name: index.name,
      // keySchemas, not the deprecated per-index hashKey/rangeKey.
      keySchemas: [
        { attributeName: index.hashKey, keyType: 'HASH' },
        ...(index.rangeKey ? [{ attributeName: index.rangeKey, keyType: 'RANGE' }] : []),
      ],
      projectionType: index.projection.type,
      ...(index.projection.type === 'INCLUDE' ? { nonKeyAttributes: index.projection.nonKeyAttributes } : {}),
    })),
    pointInTimeRecovery: { enabled: true },
    // enabled=false is DynamoDB's AWS-owned key; enabled=true with a key ARN is the customer managed key.
    serverSideEncryption: kmsKeyArn ? { enabled: true, kmsKeyArn } : { enabled: false },
    // DynamoDB deletes items some time after `ttl` (epoch seconds); the code never relies on when.
    ttl: { attributeName: definition.ttlAttribute, enabled: true },
  };
}
