/**
 * The ingest relay's items (docs/relay.md): its usage counters, folded into each token's own item, and the
 * upstream pool, one item of its own.
 *
 * Counters are named after their window: `relayRequests_2026-12-01T10:20` counts the requests of that UTC
 * minute, `relayBytes_2026-12-01` the bytes of that UTC day. A window that begins is a new, absent
 * attribute, which counts from zero, so ONE UpdateItem can check the credential, the status and both quotas,
 * count the request, and drop the previous window's counters, with no read first and no reset race. A
 * token silent for two windows or more leaves an older counter behind; the charge reports it and the relay
 * removes it while the batch travels (`forgetRelayWindows`).
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TokenRecord } from '../../core/model';
import type { Page, RelayCharge, RelayCharged, RelayUsage, StoredPool } from '../../core/ports';
import type { QuotaCounter } from '../../core/quota';
import { ATTR, INDEX, KEY, shardOf } from './tables';
import { fromTokenItem, isConditionFailure, tokenIdOf, type Item } from './tokenItems';
import { batchGet, pageSize, queryShards, type Target } from './tokenQueries';

const DAY_MS = 86_400_000;

/** The pool item: one per table, beside the tokens (no token id starts with `pool`). */
export const UPSTREAM_POOL_KEY = { pk: 'pool#upstream', sk: 'pool' } as const;

/**
 * What every charge checks besides the status: the credential, expiry and both quotas. `NOT #n >= :limit`
 * holds while the window's counter is still absent (a comparison with a missing attribute is false), so it
 * says what `attribute_not_exists(#n) OR #n < :limit` says. The condition is these checks with each status
 * case, `(checks AND live) OR (checks AND refreshed within the grace)`, with no parentheses at all: dynalite's
 * parser backtracks over every parenthesized OR, on every batch (docs/relay.md).
 */
const CHARGE_CHECKS =
  '#hash = :hash AND #expiresAt > :now AND NOT #requests >= :requestLimit AND NOT #bytes >= :byteLimit';

const REQUESTS = 'relayRequests_';
const BYTES = 'relayBytes_';

/**
 * The attribute that counts `counter`'s window, and the one of the window before it.
 * @example windowAttribute(REQUESTS, quotaCounter('relay:requests', id, 'minute', 60, Date.parse('2026-12-01T10:20:30Z')))
 * // { name: 'relayRequests_2026-12-01T10:20', previous: 'relayRequests_2026-12-01T10:19' }
 */
export function windowAttribute(prefix: string, counter: QuotaCounter): { name: string; previous: string } {
  const length = counter.endsAt - counter.startsAt;
  // A day is labelled by its date, a minute by its date and time.
  const digits = length >= 86_400_000 ? 10 : 16;
  const label = (at: number) => new Date(at).toISOString().slice(0, digits);
  return {
    name: `${prefix}${label(counter.startsAt)}`,
    previous: `${prefix}${label(counter.startsAt - length)}`,
  };
}

/**
 * Charges one relayed request (RelayStore.chargeRelayUse): exactly one UpdateItem.
 * @example const charged = await chargeRelayUse(target, 4, { tokenId, relayTokenHash, now, bytes, minute, day, refreshedAfter });
 */
export async function chargeRelayUse(
  target: Target,
  shards: number,
  charge: RelayCharge,
): Promise<RelayCharged | undefined> {
  const requests = windowAttribute(REQUESTS, charge.minute);
  const bytes = windowAttribute(BYTES, charge.day);
  try {
    const reply = await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.token(charge.tokenId),
        UpdateExpression:
          'ADD #requests :one, #bytes :size, #requestsTotal :one, #bytesTotal :size ' +
          'SET #lastAt = :now, #firstAt = if_not_exists(#firstAt, :now), #relayShard = :relayShard ' +
          'REMOVE #requestsBefore, #bytesBefore',
        ConditionExpression:
          `${CHARGE_CHECKS} AND #status IN (:active, :rotate, :refreshing) OR ` +
          `${CHARGE_CHECKS} AND #status = :refreshed AND #refreshedAt > :refreshedAfter`,
        ExpressionAttributeNames: {
          '#hash': 'relayTokenHash',
          '#expiresAt': 'expiresAt',
          '#status': 'status',
          '#refreshedAt': 'refreshedAt',
          '#requests': requests.name,
          '#requestsBefore': requests.previous,
          '#bytes': bytes.name,
          '#bytesBefore': bytes.previous,
          '#requestsTotal': 'relayRequestsTotal',
          '#bytesTotal': 'relayBytesTotal',
          '#lastAt': 'relayLastAt',
          // The byRelayAt index (tables.ts): the anomaly rule lists the tokens that relayed lately.
          '#firstAt': 'relayFirstAt',
          '#relayShard': ATTR.relayShard,
        },
        ExpressionAttributeValues: {
          ':hash': charge.relayTokenHash,
          ':now': charge.now,
          ':active': 'active',
          ':rotate': 'rotate',
          ':refreshing': 'refreshing',
          ':refreshed': 'refreshed',
          ':refreshedAfter': charge.refreshedAfter,
          ':requestLimit': charge.minute.limit,
          ':byteLimit': charge.day.limit,
          ':one': 1,
          ':size': charge.bytes,
          // A value, not `#shard`: dynalite reads a path on the right of SET slowly. Any shard below
          // `shards` is one the byRelayAt query reads.
          ':relayShard': shardOf(charge.tokenId, shards),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = reply.Attributes ?? {};
    const staleWindows = Object.keys(item).filter(
      (name) => isWindowCounter(name) && name !== requests.name && name !== bytes.name,
    );
    return { ...relayState(item, requests.name, bytes.name), staleWindows };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** RelayStore.getRelayState: one consistent GetItem. */
export async function getRelayState(
  target: Target,
  tokenId: string,
  windows: { minute: QuotaCounter; day: QuotaCounter },
): Promise<{ record: TokenRecord; usage: RelayUsage } | undefined> {
  const reply = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: KEY.token(tokenId), ConsistentRead: true }),
  );
  if (!reply.Item) return undefined;
  return relayState(
    reply.Item,
    windowAttribute(REQUESTS, windows.minute).name,
    windowAttribute(BYTES, windows.day).name,
  );
}

/** RelayStore.forgetRelayWindows: one UpdateItem, only on an existing token. */
export async function forgetRelayWindows(
  target: Target,
  tokenId: string,
  windows: readonly string[],
): Promise<void> {
  const names = windows.filter(isWindowCounter);
  if (!names.length) return;
  try {
    await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.token(tokenId),
        UpdateExpression: `REMOVE ${names.map((_, i) => `#w${i}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          ...Object.fromEntries(names.map((name, i) => [`#w${i}`, name])),
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** RelayStore.getUpstreamPool: one consistent GetItem. */
export async function getUpstreamPool(target: Target): Promise<StoredPool | undefined> {
  const reply = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: UPSTREAM_POOL_KEY, ConsistentRead: true }),
  );
  if (!reply.Item) return undefined;
  const { version, current, previous, updatedAt } = reply.Item as Item & StoredPool;
  return { version, current, previous, updatedAt };
}

/**
 * RelayStore.putUpstreamPool: one conditional PutItem. The current token's Logfire id is also a top-level
 * `upstreamId`, so the byUpstreamId index counts it as recorded and the sweep's reconciliation of crashed
 * mints can never take it for an orphan.
 */
export async function putUpstreamPool(
  target: Target,
  pool: StoredPool,
  expectedVersion?: number,
): Promise<boolean> {
  try {
    await target.doc.send(
      new PutCommand({
        TableName: target.tableName,
        Item: { ...UPSTREAM_POOL_KEY, ...pool, upstreamId: pool.current.upstreamId },
        ...(expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

function isWindowCounter(name: string): boolean {
  return name.startsWith(REQUESTS) || name.startsWith(BYTES);
}

/** The record without its window counters, and the usage those counters say. */
function relayState(
  item: Item,
  requestsName: string,
  bytesName: string,
): { record: TokenRecord; usage: RelayUsage } {
  const usage = {
    requestsThisMinute: Number(item[requestsName] ?? 0),
    bytesToday: Number(item[bytesName] ?? 0),
  };
  const record = fromTokenItem(
    Object.fromEntries(Object.entries(item).filter(([name]) => !isWindowCounter(name))),
  );
  return { record, usage };
}

/**
 * The tokens that relayed since `since`, with today's bytes and their usual bytes per day before today
 * (through the sparse byRelayAt index, never a Scan): what the relay-volume anomaly rule reads.
 * @example const { items } = await listRelayUsage(target, 4, windowStart, 100);
 */
export async function listRelayUsage(
  target: Target,
  shards: number,
  since: number,
  limit: number,
  cursor?: string,
): Promise<Page<{ tokenId: string; bytesToday: number; bytesBaseline: number }>> {
  const page = await queryShards(target, {
    index: INDEX.byRelayAt,
    hashKey: ATTR.relayShard,
    rangeKey: 'relayLastAt',
    comparison: '>=',
    bound: since,
    shards,
    limit: Math.min(pageSize(limit), 100), // BatchGet takes at most 100 keys
    cursor,
  });
  const found = page.items.length
    ? await batchGet(
        target,
        page.items.map((item) => ({ pk: item.pk, sk: item.sk })),
      )
    : new Map<string, Item>();
  const items = [...found.values()].map((item) => {
    const lastAt = item.relayLastAt as number;
    const today = `${BYTES}${new Date(lastAt).toISOString().slice(0, 10)}`;
    const bytesToday = Number(item[today] ?? 0);
    const startOfToday = Math.floor(lastAt / DAY_MS) * DAY_MS;
    const firstDay = Math.floor(Number(item.relayFirstAt ?? lastAt) / DAY_MS) * DAY_MS;
    const daysBefore = (startOfToday - firstDay) / DAY_MS; // whole UTC days it relayed on before today
    const before = Number(item.relayBytesTotal ?? 0) - bytesToday;
    return {
      tokenId: tokenIdOf(item.pk),
      bytesToday,
      // Its average over the days before today; 0 for a token that began relaying today.
      bytesBaseline: daysBefore > 0 ? Math.round(before / daysBefore) : 0,
    };
  });
  return { items, scannedCount: page.scannedCount, cursor: page.cursor };
}
