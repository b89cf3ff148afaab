import * as fs from 'node:fs';
import { loadProperLockfile } from './lazy';
import type { Deadline } from './deadline';
import { BudgetSpentError, CacheRefusedError } from './errors';
import { describeEntry, entryAt, refusedReason } from './safeFiles';

/**
 * A lock whose holder stopped refreshing it (a crashed or killed process) is taken over after this long.
 * proper-lockfile refreshes the lock's mtime every `stale / 2` while the holder lives, and a holder keeps
 * it at most one time budget, so a short value is safe; the library's floor is 2 s.
 */
export const LOCK_STALE_MS = 3000;
const RETRY_MS = 25;

/**
 * proper-lockfile's file system, made not to follow a symlink at the lock path: it judges staleness with
 * lstat and refreshes the lock's mtime with lutimes (mkdir and rmdir never follow one anyway).
 */
const noFollowFs = { ...fs, stat: fs.lstat, utimes: fs.lutimes };

/**
 * Runs `fn` holding the inter-process lock on `target` (a `<target>.lock` directory), so several CLI
 * processes starting at once with an empty cache mint exactly once (issue #5, point 3). Waits for the
 * lock within the deadline; a crashed holder's lock goes stale after {@link LOCK_STALE_MS}.
 *
 * @example
 * const token = await withLock(paths.tokenFile, deadline, async () => mintOrReuse());
 */
export async function withLock<T>(target: string, deadline: Deadline, fn: () => Promise<T>): Promise<T> {
  // A lock is a directory; anything else there (a symlink, a FIFO, a file) was planted: refuse at once,
  // rather than wait the whole budget for it to go stale, or take it over.
  const lockPath = `${target}.lock`;
  const planted = entryAt(lockPath);
  if (planted && !planted.isDirectory()) {
    throw new CacheRefusedError(refusedReason(lockPath, describeEntry(planted), 'a lock directory'));
  }
  const lockfile = loadProperLockfile();
  let release: (() => Promise<void>) | undefined;
  while (!release) {
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        fs: noFollowFs,
        stale: LOCK_STALE_MS,
        retries: 0,
        // The default throws from a timer, which would crash the host; our writes are atomic anyway.
        onCompromised: () => undefined,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (deadline.remaining() <= RETRY_MS) {
        throw new BudgetSpentError(
          'waiting for another process to update the token cache',
          deadline.budgetMs,
        );
      }
      await deadline.sleep(RETRY_MS + Math.random() * RETRY_MS);
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
