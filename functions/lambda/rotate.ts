/**
 * Scheduled Lambda (EventBridge Scheduler, hourly): marks the tokens due for rotation. It stops taking new
 * pages before its timeout; the next run resumes from the index. Returns the run's report.
 */
import type { Context } from 'aws-lambda';
import { lambdaJobBudgetMs } from '../core/jobs';
import { runRotation, type RotationReport } from '../core/rotation';
import { lambdaDeps } from './_deps';

const deps = lambdaDeps();

export const handler = (
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<RotationReport> =>
  runRotation(deps, { budgetMs: lambdaJobBudgetMs(context.getRemainingTimeInMillis()) });
