/**
 * The file operations under the client's cache (issue #8, point 7). Whatever sits at a cache path, the
 * client never follows a symlink, never blocks on a FIFO or a device, never reads a huge file and never
 * writes through anything:
 *
 * - a read opens with O_NOFOLLOW | O_NONBLOCK and judges what it opened (fstat on the fd), so nothing can be
 *   swapped in between a check and the use; Windows has no O_NOFOLLOW, so there an lstat comes first;
 * - a write goes to a fresh temp file (O_CREAT | O_EXCL, 0600, fsynced) renamed into place: a rename
 *   replaces the name itself, never what a symlink there points to;
 * - the directory must belong to the user and must not be writable by group or others: anyone who can
 *   write to it can plant a token cache that sends the CLI's telemetry elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CacheRefusedError } from './errors';

/** The token cache is under 1 KB, the preferences a few hundred bytes: anything this big is not ours. */
export const MAX_CACHE_FILE_BYTES = 64 * 1024;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
// Both are undefined on Windows (where FIFOs do not live in the file system).
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

export type FileRead =
  | { kind: 'text'; text: string }
  | { kind: 'missing' }
  | { kind: 'refused'; reason: string }
  | { kind: 'unreadable'; code: string };

export function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

/** What an entry is, in words: `a symbolic link`, `a FIFO`, `a file of 70000 bytes`… */
export function describeEntry(stat: fs.Stats): string {
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isFile()) return `a file of ${stat.size} bytes`;
  return 'a device';
}

/** The debug line for an entry the client refuses to use. */
export function refusedReason(file: string, entry: string, expected = 'a small regular file'): string {
  return `${file} is ${entry}, not ${expected}: the client leaves it alone (remove it to turn telemetry back on)`;
}

/** What is at `path` itself (a symlink is not followed), or undefined when nothing is. */
export function entryAt(path: string): fs.Stats | undefined {
  return fs.lstatSync(path, { throwIfNoEntry: false });
}

function refusalOf(file: string, stat: fs.Stats): string | undefined {
  if (stat.isFile() && stat.size <= MAX_CACHE_FILE_BYTES) return undefined;
  return refusedReason(file, describeEntry(stat));
}

/**
 * Reads a cache file if it is a small regular file, without following a symlink or waiting on a FIFO.
 * Never throws.
 *
 * @example
 * const read = readCacheFile(paths.tokenFile);
 * if (read.kind === 'refused') log(read.reason); // '… is a symbolic link, not a small regular file: …'
 */
export function readCacheFile(file: string): FileRead {
  let fd: number;
  try {
    if (!O_NOFOLLOW) {
      const refused = refusalOf(file, fs.lstatSync(file));
      if (refused) return { kind: 'refused', reason: refused };
    }
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return { kind: 'missing' };
    // open refuses a symlink under O_NOFOLLOW (ELOOP; EMLINK on FreeBSD), a socket (ENXIO), a directory
    // on Windows (EISDIR): say what is there. A regular file it cannot read (EACCES) is replaceable.
    try {
      const entry = entryAt(file);
      if (entry && !entry.isFile()) {
        return { kind: 'refused', reason: refusedReason(file, describeEntry(entry)) };
      }
    } catch {
      // cannot even look: unreadable, as open said
    }
    return { kind: 'unreadable', code };
  }
  try {
    const stat = fs.fstatSync(fd);
    const refused = refusalOf(file, stat);
    if (refused) return { kind: 'refused', reason: refused };
    // One byte more than it claims: a file that grew past the bound is refused, not read in full.
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_CACHE_FILE_BYTES) + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > MAX_CACHE_FILE_BYTES) {
      return { kind: 'refused', reason: refusedReason(file, `a file of over ${MAX_CACHE_FILE_BYTES} bytes`) };
    }
    return { kind: 'text', text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return { kind: 'unreadable', code: errorCode(error) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Why the cache directory must not be used, or undefined when it may (or is not there yet). With
 * `prepare`, a missing directory is created 0700 and a usable one tightened to 0700: it holds credentials.
 * A symlinked directory (dotfiles) is judged by what it points to. Windows has no owner or mode bits here.
 *
 * @example
 * const problem = cacheDirProblem(paths.dir, false); // 'the cache directory … is writable by group or others …'
 */
export function cacheDirProblem(dir: string, prepare: boolean): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT')
      return `the cache directory ${dir} cannot be read (${errorCode(error)})`;
    if (!prepare) return undefined;
    fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    stat = fs.statSync(dir);
  }
  if (!stat.isDirectory()) return `the cache directory ${dir} is ${describeEntry(stat)}, not a directory`;
  const uid = process.getuid?.();
  if (uid === undefined || process.platform === 'win32') return undefined;
  if (stat.uid !== uid) {
    return `the cache directory ${dir} belongs to uid ${stat.uid}, not to you (uid ${uid}): the client does not use it`;
  }
  if (stat.mode & 0o022) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    return `the cache directory ${dir} is writable by group or others (mode ${mode}): the client does not use it (chmod 700 it once you trust what is in it)`;
  }
  if (prepare && (stat.mode & 0o777) !== DIR_MODE) fs.chmodSync(dir, DIR_MODE);
  return undefined;
}

function preparedDir(file: string): void {
  const problem = cacheDirProblem(path.dirname(file), true);
  if (problem) throw new CacheRefusedError(problem);
}

/** A new file next to `file` holding `text`, 0600, fsynced; O_EXCL, so nothing planted there is reused. */
function writeTempFile(file: string, text: string): string {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, FILE_MODE);
  try {
    if (process.platform !== 'win32') fs.fchmodSync(fd, FILE_MODE); // exactly 0600, whatever the umask
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  return temp;
}

/**
 * Replaces `file` atomically (readers see the old or the new content, never a mix), mode 0600. Refuses
 * (`CacheRefusedError`) when the directory is not the user's or something other than a regular file is
 * at `file`; should one appear meanwhile, the rename replaces that entry, never what it points to.
 * Synchronous: a few hundred bytes, written only after a network step or a preference change.
 *
 * @example
 * writeCacheFile(paths.tokenFile, JSON.stringify(record));
 */
export function writeCacheFile(file: string, text: string): void {
  preparedDir(file);
  const existing = entryAt(file);
  if (existing && !existing.isFile())
    throw new CacheRefusedError(refusedReason(file, describeEntry(existing)));
  const temp = writeTempFile(file, text);
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Creates `file` only if nothing at all is at that path, atomically and complete: a temp file is
 * hard-linked into place, which fails if another process (or anything planted) got there first. Returns
 * false then. Several processes starting at once therefore agree on the first one's content.
 *
 * @example
 * if (!createCacheFile(paths.preferencesFile, text)) adoptWhatIsThere();
 */
export function createCacheFile(file: string, text: string): boolean {
  preparedDir(file);
  const temp = writeTempFile(file, text);
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return false;
    // A file system without hard links: an atomic rename instead (the last writer wins; the token flow
    // re-reads the install id under its lock, so processes still agree before anyone mints).
    const noHardLinks = code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS';
    if (noHardLinks && !entryAt(file)) {
      fs.renameSync(temp, file);
      return true;
    }
    if (noHardLinks) return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * Deletes a cache file (`reset()`); nothing there is fine. Anything but a regular file is left alone
 * (`CacheRefusedError`), as every other cache operation leaves it.
 *
 * @example
 * removeCacheFile(paths.tokenFile);
 */
export function removeCacheFile(file: string): void {
  const existing = entryAt(file);
  if (!existing) return;
  if (!existing.isFile()) throw new CacheRefusedError(refusedReason(file, describeEntry(existing)));
  fs.rmSync(file, { force: true });
}
