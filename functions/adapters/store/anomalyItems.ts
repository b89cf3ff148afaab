/**
 * The anomaly phase's items in the tokens table (docs/anomalies.md, docs/data-model.md):
 * - the cursor, `pk = anomalies#cursor`: the end of the last evaluated window, only ever moved forward;
 * - one item per anomaly action, `pk = anomaly#<actionId>`, created with a condition so the same evidence
 *   is acted on once, and kept 60 days (the undo needs it; the token records it names live that long).
 * Neither carries `installId`, `chainId`, `shard` or any `gsi*` attribute, so no index ever lists them.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AnomalyActionRecord } from '../../core/anomalies/ports';
import { isConditionFailure, ttlSeconds, type Item } from './tokenItems';
import type { Page } from '../../core/ports';
import { batchGet, queryNotes, type Target } from './tokenQueries';

const ACTION_RETENTION_MS = 60 * 86_400_000;

/** The reserved chain id under which byChain lists the actions (no token id starts with `#`). */
export const ANOMALY_ACTIONS_PARTITION = '#anomaly-actions';

/**
 * The anomaly actions, newest first, a page at a time (the admin API's list).
 * @example const { items, cursor } = await listAnomalyActions(target, 50);
 */
export async function listAnomalyActions(
  target: Target,
  limit: number,
  cursor?: string,
): Promise<Page<AnomalyActionRecord>> {
  const page = await queryNotes(target, ANOMALY_ACTIONS_PARTITION, { limit, cursor, newestFirst: true });
  const keys = page.keys.map((entry) => ({ pk: entry.pk, sk: entry.sk }));
  const found = keys.length ? await batchGet(target, keys) : new Map<string, Item>();
  const items = keys
    .map((key) => found.get(String(key.pk)))
    .filter((item): item is Item => item !== undefined)
    .map(fromItem);
  return { items, scannedCount: page.scannedCount, cursor: page.cursor };
}

export const ANOMALY_KEYS = {
  cursor: () => ({ pk: 'anomalies#cursor', sk: 'cursor' }),
  action: (actionId: string) => ({ pk: `anomaly#${actionId}`, sk: 'anomaly' }),
} as const;

/** @example const until = await getAnomalyCursor(target); // undefined before the first run */
export async function getAnomalyCursor(target: Target): Promise<number | undefined> {
  const { Item: item } = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: ANOMALY_KEYS.cursor(), ConsistentRead: true }),
  );
  return typeof item?.evaluatedUntil === 'number' ? item.evaluatedUntil : undefined;
}

/** Moves the cursor to `evaluatedUntil` unless it is already there or further (an overlapping run). */
export async function advanceAnomalyCursor(target: Target, evaluatedUntil: number): Promise<void> {
  await ignoreConditionFailure(
    target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: ANOMALY_KEYS.cursor(),
        UpdateExpression: 'SET #until = :until',
        ConditionExpression: 'attribute_not_exists(#until) OR #until < :until',
        ExpressionAttributeNames: { '#until': 'evaluatedUntil' },
        ExpressionAttributeValues: { ':until': evaluatedUntil },
      }),
    ),
  );
}

/** One conditional PutItem; on a clash, the existing record (read consistently). */
export async function claimAnomalyAction(
  target: Target,
  record: AnomalyActionRecord,
): Promise<{ created: true } | { created: false; existing: AnomalyActionRecord }> {
  try {
    await target.doc.send(
      new PutCommand({
        TableName: target.tableName,
        Item: toItem(record),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { created: true };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  const existing = await getAnomalyAction(target, record.actionId);
  if (!existing) throw new Error(`anomaly action ${record.actionId} vanished after a clash`);
  return { created: false, existing };
}

/** A pending action claimed before `claimedBefore` (its run died) is handed to the caller. */
export async function takeOverAnomalyAction(
  target: Target,
  actionId: string,
  claimedBefore: number,
  now: number,
): Promise<boolean> {
  return updateAction(target, actionId, {
    update: 'SET #claimedAt = :now',
    condition: '#state = :pending AND #claimedAt < :before',
    values: { ':now': now, ':pending': 'pending', ':before': claimedBefore },
  });
}

export async function completeAnomalyAction(
  target: Target,
  actionId: string,
  tokenIds: string[],
): Promise<void> {
  await updateAction(target, actionId, {
    update: 'SET #state = :applied, #tokenIds = :tokenIds',
    condition: '#state = :pending',
    values: { ':applied': 'applied', ':pending': 'pending', ':tokenIds': tokenIds },
  });
}

export async function markAnomalyActionUndone(
  target: Target,
  actionId: string,
  now: number,
): Promise<boolean> {
  return updateAction(target, actionId, {
    update: 'SET #state = :undone, #undoneAt = :now',
    condition: '#state = :applied',
    values: { ':undone': 'undone', ':applied': 'applied', ':now': now },
  });
}

export async function getAnomalyAction(
  target: Target,
  actionId: string,
): Promise<AnomalyActionRecord | undefined> {
  const { Item: item } = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: ANOMALY_KEYS.action(actionId), ConsistentRead: true }),
  );
  return item ? fromItem(item) : undefined;
}

function toItem(record: AnomalyActionRecord): Item {
  const { createdAt, ...rest } = record;
  return {
    ...ANOMALY_KEYS.action(record.actionId),
    ...rest,
    // `claimedAt` moves when a run takes a dead one over; `createdAt` stays, under the reserved chain id that
    // lists every action through byChain, newest first (listAnomalyActions).
    claimedAt: createdAt,
    chainId: ANOMALY_ACTIONS_PARTITION,
    createdAt,
    ttl: ttlSeconds(record.windowEnd + ACTION_RETENTION_MS),
  };
}

function fromItem(item: Item): AnomalyActionRecord {
  const { pk: _pk, sk: _sk, ttl: _ttl, chainId: _chain, claimedAt, ...rest } = item;
  return { ...(rest as Omit<AnomalyActionRecord, 'createdAt'>), createdAt: claimedAt as number };
}

/** One conditional UpdateItem on an action; false when the condition failed. */
async function updateAction(
  target: Target,
  actionId: string,
  write: { update: string; condition: string; values: Record<string, unknown> },
): Promise<boolean> {
  const names: Record<string, string> = {};
  for (const [, name] of `${write.update} ${write.condition}`.matchAll(/#(\w+)/g)) names[`#${name}`] = name!;
  try {
    await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: ANOMALY_KEYS.action(actionId),
        UpdateExpression: write.update,
        ConditionExpression: write.condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: write.values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

async function ignoreConditionFailure(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
