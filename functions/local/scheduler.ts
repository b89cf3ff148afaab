/**
 * The local server's stand-in for EventBridge Scheduler: runs rotation, then the sweep, every
 * BROKER_SCHEDULE_INTERVAL. Runs never overlap (the next is timed from the end of the previous), a failed
 * run is logged and the schedule goes on, and the timer is unref'd so it never keeps the process alive.
 */
import type { BrokerDeps } from '../core/deps';
import { errorName } from '../core/errors';
import type { Log } from '../core/ports';
import { runRotation } from '../core/rotation';
import { runSweep } from '../core/sweep';

export interface Schedules {
  /** Cancels the next run and waits for the one in flight, if any. */
  stop(): Promise<void>;
}

/**
 * @example
 * const schedules = startSchedules(deps, local.scheduleIntervalMs, log);
 * process.on('SIGTERM', () => void schedules.stop().then(() => process.exit(0)));
 */
export function startSchedules(deps: BrokerDeps, intervalMs: number, log: Log): Schedules {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const runJobs = async () => {
    try {
      // A run may take up to an interval; a long backlog is finished by the following runs.
      const budgetMs = Math.max(intervalMs, 1000);
      const rotation = await runRotation(deps, { budgetMs });
      const sweep = await runSweep(deps, { budgetMs });
      log.debug('scheduled jobs ran', { rotation, sweep });
    } catch (error) {
      log.error('scheduled jobs failed; retrying at the next interval', { cause: errorName(error) });
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runJobs().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
