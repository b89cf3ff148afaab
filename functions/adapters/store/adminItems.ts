/**
 * The admin API's items in the tokens table (docs/data-model.md):
 * - a bulk job, `pk = bulkjob#<jobId>`: its filter and progress, advanced one page at a time under a page
 *   counter, so two runs of the same page count it once;
 * - the second factor's state, `pk = admin#otp`: the last TOTP step used (a code is single-use) and the
 *   recent failures and lock, each changed by one conditional write, so concurrent attempts cannot pass
 *   the limit.
 * Neither carries an index attribute.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { BulkJob, OtpState } from '../../core/adminPorts';
import { KEY } from './tables';
import { isConditionFailure, type Item } from './tokenItems';
import type { Target } from './tokenQueries';

/** Bulk jobs are kept 30 days (the audit trail keeps what they did for longer). */
const JOB_RETENTION_S = 30 * 86_400;

export async function createBulkJob(target: Target, job: BulkJob): Promise<void> {
  const { createdAt, ...rest } = job;
  await target.doc.send(
    new PutCommand({
      TableName: target.tableName,
      Item: {
        ...KEY.bulkJob(job.jobId),
        ...rest,
        // Not `createdAt`: the tokens table's indexes take that name as a number.
        jobCreatedAt: createdAt,
        ttl: Math.ceil(Date.parse(createdAt) / 1000) + JOB_RETENTION_S,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

export async function getBulkJob(target: Target, jobId: string): Promise<BulkJob | undefined> {
  const { Item: item } = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: KEY.bulkJob(jobId), ConsistentRead: true }),
  );
  return item ? jobOf(item) : undefined;
}

export async function advanceBulkJob(
  target: Target,
  jobId: string,
  pages: number,
  page: { matched: number; processed: number; changed: number; cursor?: string },
): Promise<BulkJob | undefined> {
  const next = page.cursor === undefined ? 'REMOVE #cursor' : '';
  try {
    const reply = await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.bulkJob(jobId),
        UpdateExpression:
          'SET #pages = :next, #done = :done' +
          (page.cursor === undefined ? '' : ', #cursor = :cursor') +
          ' ADD #matched :matched, #processed :processed, #changed :changed ' +
          next,
        ConditionExpression: '#pages = :pages AND #done = :false',
        ExpressionAttributeNames: {
          '#pages': 'pages',
          '#done': 'done',
          '#cursor': 'cursor',
          '#matched': 'matched',
          '#processed': 'processed',
          '#changed': 'changed',
        },
        ExpressionAttributeValues: {
          ':pages': pages,
          ':next': pages + 1,
          ':done': page.cursor === undefined,
          ':false': false,
          ':matched': page.matched,
          ':processed': page.processed,
          ':changed': page.changed,
          ...(page.cursor === undefined ? {} : { ':cursor': page.cursor }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return jobOf(reply.Attributes!);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

function jobOf(item: Item): BulkJob {
  const { pk: _pk, sk: _sk, ttl: _ttl, jobCreatedAt, ...job } = item;
  return { ...job, createdAt: jobCreatedAt } as unknown as BulkJob;
}

const NOT_LOCKED = '(attribute_not_exists(#lockedUntil) OR #lockedUntil <= :now)';

/**
 * One attempt of the failure window: counted in the current window, or a new window begun when the last one
 * is over. Two conditional writes at most; refused while locked or with the window's attempts all taken.
 */
export async function takeOtpAttempt(
  target: Target,
  now: number,
  limits: { windowMs: number; maxFailures: number },
): Promise<{ taken: true; failures: number } | { taken: false; retryAt: number }> {
  const floor = now - limits.windowMs;
  const inWindow = await updateOtp(target, {
    update: 'ADD #failures :one',
    condition: `#failures < :max AND #failWindowStart > :floor AND ${NOT_LOCKED}`,
    values: { ':one': 1, ':max': limits.maxFailures, ':floor': floor, ':now': now },
  });
  if (inWindow) return { taken: true, failures: inWindow.failures as number };
  const fresh = await updateOtp(target, {
    update: 'SET #failures = :one, #failWindowStart = :now',
    condition: `(attribute_not_exists(#failWindowStart) OR #failWindowStart <= :floor) AND ${NOT_LOCKED}`,
    values: { ':one': 1, ':floor': floor, ':now': now },
  });
  if (fresh) return { taken: true, failures: 1 };
  const state = await getOtpState(target);
  const windowEnds = (state.failWindowStart ?? now) + limits.windowMs;
  return { taken: false, retryAt: Math.max(state.lockedUntil ?? 0, windowEnds, now + 1000) };
}

export async function useOtpStep(target: Target, step: number, now: number): Promise<boolean> {
  const used = await updateOtp(target, {
    update: 'SET #lastStep = :step ADD #failures :minus',
    condition: `(attribute_not_exists(#lastStep) OR #lastStep < :step) AND ${NOT_LOCKED}`,
    values: { ':step': step, ':minus': -1, ':now': now },
  });
  return used !== undefined;
}

export async function lockOtp(target: Target, until: number): Promise<void> {
  await updateOtp(target, {
    update: 'SET #lockedUntil = :until',
    condition: 'attribute_not_exists(#lockedUntil) OR #lockedUntil < :until',
    values: { ':until': until },
  });
}

export async function getOtpState(target: Target): Promise<OtpState> {
  const { Item: item } = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: KEY.otpState(), ConsistentRead: true }),
  );
  return {
    lastStep: item?.lastStep as number | undefined,
    failures: (item?.failures as number | undefined) ?? 0,
    failWindowStart: item?.failWindowStart as number | undefined,
    lockedUntil: item?.lockedUntil as number | undefined,
  };
}

async function updateOtp(
  target: Target,
  write: { update: string; condition: string; values: Record<string, unknown> },
): Promise<Item | undefined> {
  const names: Record<string, string> = {};
  for (const [, name] of `${write.update} ${write.condition}`.matchAll(/#(\w+)/g)) names[`#${name}`] = name!;
  try {
    const reply = await target.doc.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: KEY.otpState(),
        UpdateExpression: write.update,
        ConditionExpression: write.condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: write.values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return reply.Attributes ?? {};
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}
