/**
 * Keeps the machine's cores busy for timing and race tests: CPU-bound child processes, each ending by
 * itself after `ms` (so a crashed test leaves nothing running), and stopped early by `stop()`.
 *
 * @example
 * const busy = keepMachineBusy(8000);
 * try { ...the timing-sensitive part... } finally { busy.stop(); }
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

export function keepMachineBusy(ms: number, processes = availableParallelism()): { stop(): void } {
  const loop = `const end = Date.now() + ${Math.round(ms)}; while (Date.now() < end) {}`;
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }),
  );
  return { stop: () => children.forEach((child) => child.kill()) };
}
