/**
 * Keeps the machine busy while a timing-sensitive test runs, so a race or a timeout is exercised the way
 * it meets a loaded laptop or CI runner: `count` child processes spin for at most `ms` each.
 *
 * @example
 * const busy = keepMachineBusy();
 * try { ... } finally { await busy.stop(); }
 */
import { spawn, type ChildProcess } from 'node:child_process';

export function keepMachineBusy(count = 2, ms = 20_000): { stop(): Promise<void> } {
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], {
      stdio: 'ignore',
    }),
  );
  return {
    stop: () =>
      Promise.all(
        children.map(
          (child) =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGKILL');
            }),
        ),
      ).then(() => undefined),
  };
}
