/**
 * Bulk pause and revoke by filter (R3, docs/admin-api.md): a dry run counts, a job does the work one page
 * per call, so no request outlives API Gateway's 29 s and an interrupted job resumes where it stopped. The
 * job is authorized once, when it is created (with the second factor); its pages act as its creator.
 */
import { randomBytes } from 'node:crypto';
import { appliesTo, changeToken, checkContext, type AdminContext, type AdminResult } from './admin';
import type { AdminFilter, BulkJob } from './adminPorts';
import { compileAdminFilter } from './adminTokens';
import type { AuditActor } from './audit';
import type { BrokerDeps } from './deps';
import { InvalidRequest, NotFound } from './errors';
import { appendAudit, forEachLimited } from './jobs';

export type BulkAction = BulkJob['action'];

/** Tokens read per page: one BatchGet's worth. */
export const BULK_PAGE_SIZE = 100;

export function checkBulkAction(action: unknown): BulkAction {
  if (action !== 'pause' && action !== 'revoke') {
    throw new InvalidRequest('action: expected "pause" or "revoke".');
  }
  return action;
}

/**
 * How many tokens the action would apply to now (the dry run): every page is read, nothing is written.
 * @example const matched = await countBulkMatches(deps, 'revoke', { app: 'hello', version: '<1.2.0' });
 */
export async function countBulkMatches(
  deps: BrokerDeps,
  action: BulkAction,
  filter: AdminFilter,
): Promise<number> {
  const { matches, read } = compileAdminFilter(filter, { forBulk: true });
  if (!read) return 0;
  let matched = 0;
  let cursor: string | undefined;
  do {
    const page = await read(deps, BULK_PAGE_SIZE, cursor);
    matched += page.items.filter((record) => appliesTo(action, record.status) && matches(record)).length;
    cursor = page.cursor;
  } while (cursor);
  return matched;
}

/**
 * Creates a job (after the caller checked the second factor); its first page runs at the first `runBulkJob`.
 * @example const job = await createBulkJob(deps, 'revoke', { app: 'hello', version: '<1.2.0' }, context);
 */
export async function createBulkJob(
  deps: BrokerDeps,
  action: BulkAction,
  filter: AdminFilter,
  context: AdminContext,
): Promise<BulkJob> {
  checkContext(context);
  compileAdminFilter(filter, { forBulk: true });
  const now = deps.clock.now();
  const job: BulkJob = {
    jobId: `job_${randomBytes(12).toString('base64url')}`,
    action,
    filter,
    reason: context.reason.trim(),
    matched: 0,
    processed: 0,
    changed: 0,
    done: false,
    createdBy: context.actor,
    createdAt: new Date(now).toISOString(),
    pages: 0,
  };
  await deps.store.createBulkJob(job);
  await appendAudit(deps, [
    {
      at: now,
      action: 'admin.bulk_created',
      actor: context.actor,
      sourceIp: context.sourceIp,
      reason: job.reason,
      details: { jobId: job.jobId, action, filter: JSON.stringify(filter) },
    },
  ]);
  return job;
}

/**
 * Runs the job's next page and returns it as it is now. Idempotent: a page run twice (two callers at once)
 * changes each token once and is counted once.
 * @example for (let job = await runBulkJob(deps, id); !job.done; job = await runBulkJob(deps, id)) {}
 */
export async function runBulkJob(
  deps: BrokerDeps,
  jobId: string,
): Promise<{ job: BulkJob; results: AdminResult[] }> {
  const job = await getJob(deps, jobId);
  if (job.done) return { job, results: [] };
  const { matches, read } = compileAdminFilter(job.filter, { forBulk: true });
  const page = read
    ? await read(deps, BULK_PAGE_SIZE, job.cursor)
    : { items: [], scannedCount: 0, cursor: undefined };
  const targets = page.items.filter((record) => appliesTo(job.action, record.status) && matches(record));
  const context: AdminContext = {
    actor: job.createdBy as AuditActor,
    reason: `${job.reason} (bulk job ${job.jobId})`.slice(0, 500),
  };
  const results: AdminResult[] = [];
  await forEachLimited(deps, `bulk ${job.action}`, targets, 4, async (record) => {
    results.push(await changeToken(deps, job.action, record.tokenId, context));
  });
  const advanced = await deps.store.advanceBulkJob(jobId, job.pages, {
    matched: targets.length,
    processed: page.items.length,
    changed: results.filter((result) => result.outcome === 'changed').length,
    cursor: page.cursor,
  });
  // Another run advanced it first: its counts stand, and the writes above were no-ops or the same.
  return { job: advanced ?? (await getJob(deps, jobId)), results };
}

/** @example const job = await getJob(deps, 'job_…'); // NotFound (404) when there is none */
export async function getJob(deps: BrokerDeps, jobId: string): Promise<BulkJob> {
  const job = /^job_[A-Za-z0-9_-]{16}$/.test(jobId) ? await deps.store.getBulkJob(jobId) : undefined;
  if (!job) throw new NotFound('No bulk job with this id.');
  return job;
}

/** The job as the API shows it: without its internal page counter and cursor. */
export function jobView(job: BulkJob): Omit<BulkJob, 'pages' | 'cursor'> {
  const { pages: _pages, cursor: _cursor, ...view } = job;
  return view;
}
