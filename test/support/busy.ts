/**
 * Keeps the machine's cores busy for timing and race tests, so a race is also tried while the scheduler is
 * slow: CPU-bound child processes, each ending by itself after `maxMs` (a crashed test leaves nothing
 * running), and stopped early by `stop()`, each by its own pid.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';

/**
 * Starts `count` spinning child processes (one per core by default) and resolves once all of them run.
 * @example const busy = await keepBusy(20_000); try { await race(); } finally { busy.stop(); }
 */
export async function keepBusy(maxMs: number, count = availableParallelism()): Promise<{ stop: () => void }> {
  const loop = `const end = Date.now() + ${Math.round(maxMs)}; while (Date.now() < end) {}`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }),
  );
  await Promise.all(children.map((child) => once(child, 'spawn')));
  return { stop: () => children.forEach((child) => child.kill()) };
}
