import { BudgetSpentError } from './errors';

/**
 * One total time budget across the network steps of a run (lock, mint, heartbeat, refresh): each request
 * gets `AbortSignal.timeout(remaining)`, so the steps together never take longer than the budget. Uses a
 * monotonic clock, not the wall clock the cache logic may have injected.
 *
 * @example
 * const deadline = new Deadline(1500);
 * await fetch(url, { signal: deadline.signal('mint') });
 */
export class Deadline {
  private readonly end: number;

  constructor(
    readonly budgetMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.end = clock() + budgetMs;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.end - this.clock());
  }

  /**
   * An abort signal that fires when the budget runs out, or after `capMs` if that comes first (an attempt
   * that leaves room for a retry); throws if the budget is already spent.
   */
  signal(step: string, capMs = Infinity): AbortSignal {
    const left = Math.floor(this.remaining());
    if (left < 1) throw new BudgetSpentError(step, this.budgetMs);
    return AbortSignal.timeout(Math.max(1, Math.min(left, Math.floor(capMs))));
  }

  /** Waits `ms`, or what is left of the budget if that is less. */
  async sleep(ms: number): Promise<void> {
    const wait = Math.min(ms, this.remaining());
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
