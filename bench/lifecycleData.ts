/**
 * The token table of the lifecycle bench: 100,000 token items of which 1% are due for rotation and 1%
 * for the sweep, made by the store's own item mapping (`toTokenItem`, so shards and sparse index
 * attributes are what the broker writes) and loaded into dynalite with parallel BatchWriteItem requests.
 * dynalite runs in a child process (this file, forked), so loading and the jobs use both cores.
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTR } from '../functions/adapters/store/tables';
import { toTokenItem, type Item } from '../functions/adapters/store/tokenItems';
import type { TokenRecord, TokenStatus } from '../functions/core/model';
import { startEmbeddedDynamo } from '../functions/local/embeddedDynamo';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The token settings the population is built around (the bench's broker uses the same). */
export const BENCH_SETTINGS = {
  tokenTtlMs: 14 * DAY,
  rotateAfterMs: 7 * DAY,
  rotationGraceMs: DAY,
  /**
   * 3 days, not the 30-day default: with a 14-day TTL a token expires long before it can be 30 days
   * silent, so the default leaves the sweep no stale token to find.
   */
  staleAfterMs: 3 * DAY,
} as const;

/** What one item is for. `due*` kinds are what the jobs must act on; the rest they must not read. */
export type Kind =
  | 'dueRotation'
  | 'stale'
  | 'expired'
  | 'deletionRevoked'
  | 'deletionAfterGrace'
  | 'active'
  | 'paused'
  | 'inGrace'
  | 'superseded';

export const ROTATION_DUE: readonly Kind[] = ['dueRotation'];
export const SWEEP_DUE: readonly Kind[] = ['stale', 'expired', 'deletionRevoked', 'deletionAfterGrace'];

/**
 * The kind of item `i`, spread evenly over the table: i % 100 = 0 is due for rotation, = 1 due for the
 * sweep (4 in 10 stale, 3 expired, 3 upstream deletions: half revoked, half refreshed past their grace),
 * = 2 paused, = 3 refreshed within the grace, = 4 superseded, the other 95 active and not due.
 * @example kindOf(100) // 'dueRotation'
 */
export function kindOf(i: number): Kind {
  switch (i % 100) {
    case 0:
      return 'dueRotation';
    case 1: {
      const sweep = Math.floor(i / 100) % 10;
      if (sweep < 4) return 'stale';
      if (sweep < 7) return 'expired';
      return Math.floor(i / 1000) % 2 === 0 ? 'deletionRevoked' : 'deletionAfterGrace';
    }
    case 2:
      return 'paused';
    case 3:
      return 'inGrace';
    case 4:
      return 'superseded';
    default:
      return 'active';
  }
}

/** How many of `total` items are of the given kinds. */
export function countKinds(total: number, kinds: readonly Kind[]): number {
  let count = 0;
  for (let i = 0; i < total; i++) if (kinds.includes(kindOf(i))) count += 1;
  return count;
}

/** A fraction in [0, 1) that depends only on `i` and `salt` (the table is the same on every run). */
function spread(i: number, salt: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35);
  x ^= x >>> 13;
  x = Math.imul(x, 0x27d4eb2f);
  x ^= x >>> 16;
  return (x >>> 0) / 2 ** 32;
}

/**
 * The DynamoDB item of token `i` as the store would hold it at `now`: `toTokenItem` of its record, plus
 * the deletion-queue time that `completeRefresh` / `revokeToken` would have set.
 */
export function benchItem(i: number, now: number): Item {
  const kind = kindOf(i);
  const { tokenTtlMs, rotateAfterMs, rotationGraceMs, staleAfterMs } = BENCH_SETTINGS;
  const within = (from: number, to: number, salt: number) => from + (to - from) * spread(i, salt);
  let age = within(0, rotateAfterMs - HOUR, 1); // not yet due for rotation
  let seenAgo = within(0, 6 * HOUR, 2);
  let status: TokenStatus = 'active';
  let deleteAt: number | undefined;
  switch (kind) {
    case 'dueRotation':
      age = within(rotateAfterMs + 1, rotateAfterMs + DAY, 3);
      break;
    case 'stale': // told to rotate, and the client never came back
      status = 'rotate';
      age = within(staleAfterMs + DAY, tokenTtlMs - DAY, 3);
      seenAgo = within(staleAfterMs + HOUR, age, 4);
      break;
    case 'expired': // heard from until an hour before it expired
      status = 'paused';
      age = within(tokenTtlMs + HOUR, tokenTtlMs + 6 * HOUR, 3);
      seenAgo = age - tokenTtlMs + HOUR;
      break;
    case 'deletionRevoked':
      status = 'revoked';
      deleteAt = now - within(0, HOUR, 5);
      break;
    case 'deletionAfterGrace':
      status = 'refreshed';
      age = within(rotateAfterMs, tokenTtlMs - DAY, 3);
      deleteAt = now - within(0, HOUR, 5);
      break;
    case 'inGrace':
      status = 'refreshed';
      deleteAt = now + within(HOUR, rotationGraceMs, 5);
      break;
    case 'paused':
      status = 'paused';
      break;
    case 'superseded':
      status = 'superseded';
      break;
  }
  const createdAt = Math.round(now - age);
  const tokenId = `tok_bench_${i.toString(36).padStart(6, '0')}_${Math.floor(spread(i, 6) * 2 ** 32).toString(16)}`;
  const record: TokenRecord = {
    tokenId,
    chainId: tokenId,
    upstreamId: `up_${tokenId}`,
    upstreamKind: 'api-key',
    installId: `bench-install-${i}`,
    appName: 'bench-cli',
    appVersion: '1.0.0',
    platform: 'linux-x64',
    sourceIp: '127.0.0.1',
    createdAt,
    expiresAt: createdAt + tokenTtlMs,
    refreshAfter: createdAt + rotateAfterMs,
    lastHeartbeatAt: Math.round(Math.max(createdAt, now - seenAgo)),
    status,
    updatedAt: createdAt,
    secretHash: 'x'.repeat(43),
  };
  const item = toTokenItem(record, { shards: 4, retentionMs: 30 * DAY });
  if (deleteAt !== undefined) item[ATTR.deleteAt] = Math.round(deleteAt);
  return item;
}

export interface LoadResult {
  items: number;
  requests: number;
  ms: number;
}

/**
 * Writes items 0 … total-1 with BatchWriteItem, 25 per request and `inFlight` requests at a time,
 * resending what DynamoDB hands back unprocessed.
 */
export async function loadTable(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: { total: number; now: number; inFlight: number },
): Promise<LoadResult> {
  const started = performance.now();
  let next = 0;
  let requests = 0;
  const worker = async () => {
    while (next < options.total) {
      const first = next;
      next = Math.min(options.total, next + 25);
      const puts = [];
      for (let i = first; i < next; i++) puts.push({ PutRequest: { Item: benchItem(i, options.now) } });
      let pending: Record<string, typeof puts> | undefined = { [tableName]: puts };
      while (pending && Object.keys(pending).length > 0) {
        requests += 1;
        const reply = await doc.send(new BatchWriteCommand({ RequestItems: pending }));
        pending = reply.UnprocessedItems as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  return { items: options.total, requests, ms: performance.now() - started };
}

export interface DynaliteProcess {
  endpoint: string;
  close(): void;
}

/** Starts an in-memory dynalite in a child process (this file); tsx's loader comes along in execArgv. */
export function startDynaliteProcess(): Promise<DynaliteProcess> {
  const child = fork(__filename, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench: dynalite process exited (${code})`)));
    child.once('message', (message) => {
      child.removeAllListeners('exit');
      resolve({ endpoint: (message as { endpoint: string }).endpoint, close: () => child.kill() });
    });
  });
}

if (require.main === module) {
  startEmbeddedDynamo().then(
    ({ endpoint }) => process.send!({ endpoint }),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
  process.on('disconnect', () => process.exit(0));
}
