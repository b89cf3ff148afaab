/**
 * The one place that builds the DynamoDB clients. It is in every Lambda bundle, so it imports only the
 * two client classes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DocumentClientOptions {
  /** A local DynamoDB (dynalite) URL; unset in AWS. */
  endpoint?: string;
  region?: string;
}

/**
 * Builds a DocumentClient. With a custom endpoint it uses fixed dummy credentials and `us-east-1`, so the
 * SDK never looks for real credentials (no IMDS call, no ~/.aws read); in AWS it uses the Lambda's defaults.
 * @example const doc = createDocumentClient({ endpoint: config.dynamodbEndpoint });
 */
export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  return toDocumentClient(createDynamoClient(options));
}

/**
 * The plain client, for table management (`ensureTables`); same endpoint and credential rules.
 * @example await ensureTables(createDynamoClient({ endpoint }), tableName);
 */
export function createDynamoClient(options: DocumentClientOptions = {}): DynamoDBClient {
  return options.endpoint
    ? new DynamoDBClient({
        endpoint: options.endpoint,
        region: options.region ?? 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      })
    : new DynamoDBClient(options.region ? { region: options.region } : {});
}

/**
 * Wraps a plain client the way the store expects: undefined values (optional record fields) are dropped.
 * @example const doc = toDocumentClient(new DynamoDBClient({}));
 */
export function toDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
