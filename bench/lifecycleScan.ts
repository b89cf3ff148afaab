/**
 * The baseline of the lifecycle bench: the due sets found the way a job without sparse indexes would,
 * by a paginated Scan of the whole table with a FilterExpression on the same attributes.
 */
import { performance } from 'node:perf_hooks';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTR, TOKEN_PK_PREFIX } from '../functions/adapters/store/tables';

export interface ScanBaseline {
  ms: number;
  /** Items the Scan read (the whole table). */
  scanned: number;
  /** Items its filter kept: the due set. */
  found: number;
  requests: number;
  /** Read capacity units consumed (eventually consistent, as dynalite computes DynamoDB's). */
  capacity: number;
}

export interface ScanFilter {
  FilterExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/** The due sets as a Scan-based job would find them: read every item, filter on the same attributes. */
export function scanFilters(now: number, staleAfterMs: number): Record<'rotation' | 'sweep', ScanFilter> {
  const tokens = 'begins_with(#pk, :tok)';
  return {
    rotation: {
      FilterExpression: `${tokens} AND #status = :active AND #refreshAfter <= :now AND #expiresAt > :now`,
      ExpressionAttributeNames: {
        '#pk': ATTR.pk,
        '#status': 'status',
        '#refreshAfter': 'refreshAfter',
        '#expiresAt': 'expiresAt',
      },
      ExpressionAttributeValues: { ':tok': TOKEN_PK_PREFIX, ':active': 'active', ':now': now },
    },
    sweep: {
      FilterExpression:
        `${tokens} AND ((#seenAt < :staleBefore AND #expiresAt > :now) OR #expireAt <= :now ` +
        'OR (attribute_exists(#deleteShard) AND #deleteAt <= :now))',
      ExpressionAttributeNames: {
        '#pk': ATTR.pk,
        '#seenAt': ATTR.seenAt,
        '#expiresAt': 'expiresAt',
        '#expireAt': ATTR.expireAt,
        '#deleteShard': ATTR.deleteShard,
        '#deleteAt': ATTR.deleteAt,
      },
      ExpressionAttributeValues: {
        ':tok': TOKEN_PK_PREFIX,
        ':now': now,
        ':staleBefore': now - staleAfterMs,
      },
    },
  };
}

/** Scans the whole table page by page (1 MB each), counting what it read, kept and consumed. */
export async function scan(
  doc: DynamoDBDocumentClient,
  tableName: string,
  filter: ScanFilter,
): Promise<ScanBaseline> {
  const started = performance.now();
  const baseline = { ms: 0, scanned: 0, found: 0, requests: 0, capacity: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const reply = await doc.send(
      new ScanCommand({
        TableName: tableName,
        ...filter,
        ExclusiveStartKey: startKey,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    baseline.requests += 1;
    baseline.scanned += reply.ScannedCount ?? 0;
    baseline.found += reply.Count ?? 0;
    baseline.capacity += reply.ConsumedCapacity?.CapacityUnits ?? 0;
    startKey = reply.LastEvaluatedKey;
  } while (startKey);
  return { ...baseline, ms: performance.now() - started };
}
