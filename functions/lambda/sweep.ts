/**
 * Scheduled Lambda (EventBridge Scheduler, every 15 minutes): finishes chain revocations, reclaims silent
 * tokens, expires overdue ones and performs the queued upstream deletions. It stops taking new pages before
 * its timeout; the next run resumes from the indexes. Returns the run's report.
 */
import type { Context } from 'aws-lambda';
import { lambdaJobBudgetMs } from '../core/jobs';
import { runSweep, type SweepReport } from '../core/sweep';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();

export const handler = (
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SweepReport> =>
  runSweep(deps, { budgetMs: lambdaJobBudgetMs(context.getRemainingTimeInMillis()) });
