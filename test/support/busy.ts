/**
 * Keeps the machine's cores busy for timing and race tests, so a race or a timeout is also tried the way it
 * meets a loaded laptop or CI runner: CPU-bound child processes, each ending by itself after `maxMs` (a
 * crashed test leaves nothing running), and stopped early by `stop()`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';

/**
 * Starts `count` spinning child processes (one per core by default) and resolves once all of them run;
 * `stop()` kills them and resolves once they are gone.
 * @example const busy = await keepBusy(20_000); try { await race(); } finally { await busy.stop(); }
 */
export async function keepBusy(
  maxMs: number,
  count = availableParallelism(),
): Promise<{ stop: () => Promise<void> }> {
  const loop = `const end = Date.now() + ${Math.round(maxMs)}; while (Date.now() < end) {}`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }),
  );
  await Promise.all(children.map((child) => once(child, 'spawn')));
  const gone = (child: (typeof children)[number]) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : once(child, 'exit').then(() => undefined);
  return {
    stop: async () => {
      const exits = children.map(gone);
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(exits);
    },
  };
}
