/**
 * Where the dev upstream keeps its live tokens across restarts: `<dataDir>/dev-upstream-tokens.json`, mode
 * 0600, replaced atomically on every change. Only each token's SHA-256 is kept, never the token.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Log } from '../../core/ports';

export interface DevTokenEntry {
  upstreamId: string;
  tokenHash: string;
  /** The start of the token, as Logfire's `token_prefix` (absent in files written before it existed). */
  tokenPrefix?: string;
  createdAt: number;
  expiresAt: number;
}

export const DEV_TOKENS_FILE = 'dev-upstream-tokens.json';
/** The temp file of a write: `<file>.<pid>.<random>.tmp`. */
const TEMP_FILE = new RegExp(`^${DEV_TOKENS_FILE.replace(/\./g, '\\.')}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);

/**
 * @example
 * const file = new DevTokenFile('.broker-data', log);
 * const entries = file.load(Date.now());
 * await file.save(entries);
 */
export class DevTokenFile {
  readonly path: string;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly log: Log,
  ) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    removeInterruptedWrites(dataDir, log);
    this.path = join(dataDir, DEV_TOKENS_FILE);
  }

  /** The entries not yet expired at `now`; none when there is no file or it does not parse. */
  load(now: number): DevTokenEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const stored = JSON.parse(text) as { tokens?: DevTokenEntry[] };
      return (stored.tokens ?? []).filter(
        (entry) =>
          typeof entry.tokenHash === 'string' &&
          typeof entry.upstreamId === 'string' &&
          entry.expiresAt > now,
      );
    } catch {
      // Dev data only: start empty; clients get 401 and mint again.
      this.log.warn('dev upstream token file is unreadable; starting with no tokens', { file: this.path });
      return [];
    }
  }

  /** Writes are chained, so the file always ends with the latest state even when calls overlap. */
  save(entries: DevTokenEntry[]): Promise<void> {
    const snapshot = JSON.stringify({ version: 1, tokens: entries }, null, 2);
    const write = this.writes.then(() => writeFileAtomically(this.path, snapshot));
    this.writes = write.catch(() => undefined);
    return write;
  }
}

/** Temp file + rename: a crash mid-write leaves the old file, never half a file. */
async function writeFileAtomically(file: string, data: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { mode: 0o600 });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Removes the temp files a crash left between write and rename. One whose writer still runs (this
 * process, or another broker on the same folder with an external DynamoDB) is left alone.
 */
function removeInterruptedWrites(dataDir: string, log: Log): void {
  for (const name of readdirSync(dataDir)) {
    const pid = Number(TEMP_FILE.exec(name)?.[1]);
    if (!pid || pid === process.pid || isRunning(pid)) continue;
    try {
      unlinkSync(join(dataDir, name));
      log.debug('removed the temp file of an interrupted write', { file: name });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
