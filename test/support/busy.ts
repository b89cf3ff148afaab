/** Keeps the machine busy during a race test, so the race is also tried when the scheduler is slow. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * Starts `count` child processes that spin for at most `maxMs`, and resolves once all of them run;
 * `stop()` kills them, each by its own pid.
 *
 * @example const busy = await keepBusy(2, 20_000); try { await race(); } finally { busy.stop(); }
 */
export async function keepBusy(count: number, maxMs: number): Promise<{ stop: () => void }> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', `const end = Date.now() + ${maxMs}; while (Date.now() < end) {}`], {
      stdio: 'ignore',
    }),
  );
  await Promise.all(children.map((child) => once(child, 'spawn')));
  return { stop: () => children.forEach((child) => child.kill()) };
}
