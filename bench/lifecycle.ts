/**
 * The lifecycle jobs at scale (issue #4, "Must hold"): a table of 100,000 tokens with 1% due for rotation
 * and 1% for the sweep. The rotation and sweep runs must read at most 2× the due count (they page through
 * sparse indexes, never a Scan); their time is set against a full-table Scan that finds the same due sets.
 * Requests and the items they returned are also counted on the wire, beside what the jobs report.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { formatDuration, readConfig } from '../functions/config';
import { createLog } from '../functions/adapters/logger';
import { createDynamoClient, toDocumentClient } from '../functions/adapters/store/dynamoClient';
import { ensureTables } from '../functions/adapters/store/ensureTables';
import { defaultAuditTableName } from '../functions/adapters/store/tables';
import { wireBroker } from '../functions/adapters/wiring';
import type { Page, Upstream, UpstreamToken } from '../functions/core/ports';
import { runRotation, type RotationReport } from '../functions/core/rotation';
import { runSweep, type SweepReport } from '../functions/core/sweep';
import { countRequests, type RequestCounter } from '../test/support/requestCounter';
import {
  BENCH_SETTINGS,
  ROTATION_DUE,
  SWEEP_DUE,
  countKinds,
  loadTable,
  startDynaliteProcess,
  type LoadResult,
} from './lifecycleData';
import { scan, scanFilters, type ScanBaseline } from './lifecycleScan';

export const LIFECYCLE_TOKENS = 100_000;
/** Items read per due token a job may use (issue #4). */
export const MAX_READ_RATIO = 2;
const LOAD_IN_FLIGHT = 16;
const TABLE = 'bench-lifecycle-tokens';

export interface JobMeasurement {
  job: 'rotation' | 'sweep';
  /** Tokens due at the start (by construction, and confirmed by the Scan). */
  due: number;
  report: RotationReport | SweepReport;
  /** The whole run: finding the due tokens and acting on each. */
  ms: number;
  /** Finding alone: paging through the same index listings as the run, before it (nothing written). */
  findMs: number;
  /** Index entries that listing read, and the read capacity it consumed. */
  findItems: number;
  findCapacity: number;
  /** Requests of the run by DynamoDB operation, on the wire. */
  requests: Record<string, number>;
  /** Items the run's Query requests returned (ScannedCount summed on the wire). */
  queryItems: number;
  scan: ScanBaseline;
  /** Due tokens a second Scan still finds after the run: 0 when the run did all its work. */
  dueAfter: number;
}

export interface LifecycleResult {
  tokens: number;
  load: LoadResult;
  jobs: JobMeasurement[];
  /** Upstream deletions the sweep asked of the (counting, no-op) upstream. */
  upstreamDeletes: number;
}

/** Logfire stand-in for the sweep: deletes nothing, counts each call, never fails. */
class CountingUpstream implements Upstream {
  readonly kind = 'api-key' as const;
  readonly canRevoke = true;
  readonly ingestBaseUrl = 'http://127.0.0.1:9/unused';
  deletes = 0;
  createWriteToken(): Promise<UpstreamToken> {
    return Promise.reject(new Error('the lifecycle bench mints nothing'));
  }
  deleteWriteToken(): Promise<void> {
    this.deletes += 1;
    return Promise.resolve();
  }
}

interface QueryCounter {
  /** Index entries the Query replies returned (their ScannedCount). */
  items: number;
  /** Read capacity units they consumed, as dynalite computes DynamoDB's. */
  capacity: number;
  reset(): void;
}

/** Counts, on the wire, what every Query reply returned and the read capacity it consumed. */
function countQueries(client: DynamoDBClient): QueryCounter {
  const counter: QueryCounter = {
    items: 0,
    capacity: 0,
    reset: () => Object.assign(counter, { items: 0, capacity: 0 }),
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'QueryCommand') return next(args);
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const output = result.output as {
        ScannedCount?: number;
        ConsumedCapacity?: { CapacityUnits?: number };
      };
      counter.items += output.ScannedCount ?? 0;
      counter.capacity += output.ConsumedCapacity?.CapacityUnits ?? 0;
      return result;
    },
    { step: 'initialize', name: 'benchQueryCounter', override: true },
  );
  return counter;
}

type Listing = (cursor: string | undefined) => Promise<Page<unknown>>;

/** Pages through each listing to its end, as a job does before it acts; returns the time and entries read. */
async function find(
  listings: Listing[],
  queries: QueryCounter,
): Promise<{ findMs: number; findItems: number; findCapacity: number }> {
  queries.reset();
  const started = performance.now();
  let findItems = 0;
  for (const list of listings) {
    let cursor: string | undefined;
    do {
      const page = await list(cursor);
      findItems += page.scannedCount;
      cursor = page.cursor;
    } while (cursor);
  }
  return { findMs: performance.now() - started, findItems, findCapacity: queries.capacity };
}

async function measureJob<R extends RotationReport | SweepReport>(
  job: JobMeasurement['job'],
  due: number,
  baseline: ScanBaseline,
  counters: { requests: RequestCounter; queries: QueryCounter },
  listings: Listing[],
  run: () => Promise<R>,
): Promise<Omit<JobMeasurement, 'dueAfter'>> {
  const found = await find(listings, counters.queries);
  counters.requests.reset();
  counters.queries.reset();
  const started = performance.now();
  const report = await run();
  const ms = performance.now() - started;
  return {
    job,
    due,
    report,
    ms,
    ...found,
    requests: { ...counters.requests.counts },
    queryItems: counters.queries.items,
    scan: baseline,
  };
}

/**
 * Loads the table, takes the Scan baselines, runs rotation then sweep once each at the same `now`, and
 * scans again to confirm nothing due is left.
 */
export async function measureLifecycle(tokens = LIFECYCLE_TOKENS): Promise<LifecycleResult> {
  const dynalite = await startDynaliteProcess();
  const client = createDynamoClient({ endpoint: dynalite.endpoint });
  try {
    const doc = toDocumentClient(client);
    await ensureTables(client, TABLE);
    const now = Date.now();
    const load = await loadTable(doc, TABLE, { total: tokens, now, inFlight: LOAD_IN_FLIGHT });
    console.log(`  loaded ${tokens} tokens in ${(load.ms / 1000).toFixed(1)} s`);

    const filters = scanFilters(now, BENCH_SETTINGS.staleAfterMs);
    const baselines = {
      rotation: await scan(doc, TABLE, filters.rotation),
      sweep: await scan(doc, TABLE, filters.sweep),
    };
    const due = { rotation: countKinds(tokens, ROTATION_DUE), sweep: countKinds(tokens, SWEEP_DUE) };
    for (const job of ['rotation', 'sweep'] as const) {
      if (baselines[job].found !== due[job]) {
        throw new Error(
          `bench: the Scan finds ${baselines[job].found} tokens due for ${job}, not ${due[job]}`,
        );
      }
    }

    const config = readConfig({
      BROKER_UPSTREAM: 'dev',
      BROKER_TABLE_NAME: TABLE,
      BROKER_AUDIT_TABLE_NAME: defaultAuditTableName(TABLE),
      BROKER_TOKEN_TTL: formatDuration(BENCH_SETTINGS.tokenTtlMs),
      BROKER_ROTATE_AFTER: formatDuration(BENCH_SETTINGS.rotateAfterMs),
      BROKER_ROTATION_GRACE: formatDuration(BENCH_SETTINGS.rotationGraceMs),
      BROKER_STALE_AFTER: formatDuration(BENCH_SETTINGS.staleAfterMs),
      BROKER_LOG_LEVEL: 'WARN',
    });
    const upstream = new CountingUpstream();
    const deps = wireBroker({
      config,
      doc,
      upstream,
      log: createLog(config.logLevel, 'bench'),
      clock: { now: () => now },
    });
    const counters = { requests: countRequests(client), queries: countQueries(client) };
    const { store } = deps;
    const page = 100;
    const measured = [
      await measureJob(
        'rotation',
        due.rotation,
        baselines.rotation,
        counters,
        [(cursor) => store.listDueForRotation(now, page, cursor)],
        () => runRotation(deps, { now }),
      ),
      await measureJob(
        'sweep',
        due.sweep,
        baselines.sweep,
        counters,
        [
          (cursor) => store.listChainRevocations(page, cursor),
          (cursor) => store.listStale(now - BENCH_SETTINGS.staleAfterMs, page, cursor),
          (cursor) => store.listExpired(now, page, cursor),
          (cursor) => store.listPendingUpstreamDeletions(now, page, cursor),
        ],
        () => runSweep(deps, { now }),
      ),
    ];
    const jobs: JobMeasurement[] = [];
    for (const job of measured) {
      const after = await scan(doc, TABLE, filters[job.job]);
      jobs.push({ ...job, dueAfter: after.found });
    }
    return { tokens, load, jobs, upstreamDeletes: upstream.deletes };
  } finally {
    client.destroy();
    dynalite.close();
  }
}

/** True when a job read at most MAX_READ_RATIO items per due token and left nothing due. */
export function jobPasses(job: JobMeasurement): boolean {
  return job.report.itemsRead <= MAX_READ_RATIO * job.due && job.dueAfter === 0 && job.report.done;
}
