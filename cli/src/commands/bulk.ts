/**
 * Bulk pause and revoke by filter: a dry run counts the matching tokens first, the job is created with the
 * one-time code, then run page by page (`POST /v1/admin/bulk/{jobId}/run`) with a progress bar until done.
 * An interrupted job (Ctrl-C, a network failure) continues with `--job <jobId>`.
 */
import type { BulkAction, BulkJob } from '../api/types';
import type { Context } from '../context';
import { CliError, EXIT, UsageError, type ExitCode } from '../errors';
import { describeFilter, parseFilters } from '../filters';
import { note, printJson, printLine } from '../output';
import { otpCode } from '../otp';
import { progressBar } from '../progress';

export interface BulkOptions {
  filter?: string[];
  dryRun?: boolean;
  job?: string;
  reason?: string;
  otp?: string;
}

const DOING = { pause: 'pausing', revoke: 'revoking' } as const;
const DONE = { pause: 'paused', revoke: 'revoked' } as const;

/**
 * Runs a bulk job for `action`: `--dry-run` only counts; otherwise count, create with the code, run.
 * @example await runBulk(context, 'revoke', { filter: ['version=<2.0.0'], reason: 'leak', otp: '123456' });
 */
export async function runBulk(
  context: Context,
  action: BulkAction,
  options: BulkOptions,
): Promise<ExitCode | void> {
  const client = await context.client();
  if (options.job !== undefined) {
    if (options.dryRun) throw new UsageError('--dry-run and --job: a job already created is not a dry run.');
    const { job } = await client.request<{ job: BulkJob }>('GET', `bulk/${encodeURIComponent(options.job)}`);
    if (job.action !== action) {
      throw new UsageError(
        `Job ${job.jobId} is a bulk ${job.action}: continue it with \`${job.action} --job\`.`,
      );
    }
    return finish(context, await runJob(context, job));
  }

  const filter = parseFilters(options.filter ?? []);
  const request = { action, filter, reason: options.reason ?? '' };
  const { matched } = await client.request<{ matched: number }>('POST', 'bulk', {
    body: { ...request, dryRun: true },
  });
  if (options.dryRun) {
    if (context.json) printJson(context.io, { matched });
    else
      printLine(context.io, `${matched} tokens match ${describeFilter(filter)}; nothing changed (dry run)`);
    return;
  }
  if (matched === 0) {
    if (context.json) printJson(context.io, { matched });
    else printLine(context.io, `no token matches ${describeFilter(filter)}; nothing to ${action}`);
    return;
  }
  note(context.io, `${matched} tokens match ${describeFilter(filter)}`);
  const otp = await otpCode(context, options.otp, `${action} ${matched} tokens`);
  const { job } = await client.request<{ job: BulkJob }>('POST', 'bulk', { body: request, otp });
  return finish(context, await runJob(context, job));
}

/** Runs `job` until done; Ctrl-C stops after the page in flight and says how to continue. */
async function runJob(context: Context, first: BulkJob): Promise<BulkJob> {
  const client = await context.client();
  const bar = progressBar(context.io.stderr, DOING[first.action]);
  const resumeHint = `continue with: logfire-broker tokens ${first.action} --job ${first.jobId} --reason …`;
  let stopped = false;
  const onInterrupt = () => {
    stopped = true;
  };
  process.once('SIGINT', onInterrupt);
  let job = first;
  try {
    while (!job.done) {
      bar.update(job.processed, job.matched, `${DONE[job.action]} ${job.changed}`);
      if (stopped) {
        throw new CliError(
          `stopped after ${job.processed} of ${job.matched} tokens; ${resumeHint}`,
          EXIT.failed,
        );
      }
      try {
        ({ job } = await client.request<{ job: BulkJob }>(
          'POST',
          `bulk/${encodeURIComponent(job.jobId)}/run`,
        ));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const code = error instanceof CliError ? error.exitCode : EXIT.failed;
        throw new CliError(`${message}\njob ${job.jobId} is not finished; ${resumeHint}`, code, {
          cause: error,
        });
      }
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    bar.finish();
  }
  return job;
}

function finish(context: Context, job: BulkJob): void {
  if (context.json) return printJson(context.io, { job });
  printLine(
    context.io,
    `${DONE[job.action]} ${job.changed} of ${job.matched} matching tokens ` +
      `(${job.processed} looked at; job ${job.jobId})`,
  );
}
