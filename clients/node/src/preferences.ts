import {
  createPrivateJsonExclusive,
  PREFERENCES_FORMAT,
  readPreferences,
  readTokenCache,
  writePrivateJson,
  type Preferences,
} from './cacheFiles';
import { randomUUID } from './lazy';
import { cacheDirProblem, errorCode } from './safeFiles';

export interface PreferenceFiles {
  /** The cache directory, checked once before any file in it is read. */
  dir: string;
  preferencesFile: string;
  tokenFile: string;
  brokerUrl: string;
  appName: string;
  /** False where there is no config directory: preferences then live in memory for the run. */
  persist: boolean;
  log: (line: string) => void;
}

/**
 * An app's per-user preferences (issue #5, points 2 and 5): the install id (random, generated once per
 * user and app, never derived from the machine or the person), the persistent opt-out and when the
 * notice was shown. Read lazily, kept in memory for the run; a file that cannot be written leaves the
 * in-memory value in force for this run.
 *
 * The file on disk is the truth: a valid file is never overwritten with another install id, so
 * processes starting at once agree on the first one's (issue #8, point 7). A cache that is refused (its
 * directory, or something other than a regular file at the path) is neither read nor written again.
 *
 * @example
 * const prefs = new PreferenceStore(files);
 * prefs.get().installId; // created on first use
 */
export class PreferenceStore {
  private current: Preferences | undefined;
  private loaded = false;
  private refusedBecause: string | undefined;
  private dirChecked = false;

  constructor(private readonly files: PreferenceFiles) {}

  /** The preferences if they exist, without creating anything. */
  peek(): Preferences | undefined {
    if (!this.loaded) {
      this.loaded = true;
      this.reload();
    }
    return this.current;
  }

  /** Why the cache must not be used this run (its directory, or what is at the preferences path), if so. */
  refusal(): string | undefined {
    this.peek();
    return this.refusedBecause;
  }

  /**
   * Reads the file again and adopts it if it is valid; returns the install id now in force, if any. The
   * token flow calls it under the lock, so no process mints for an install id another one replaced.
   */
  reload(): string | undefined {
    if (!this.files.persist || this.refusedBecause) return this.current?.installId;
    if (!this.dirChecked) {
      this.dirChecked = true;
      this.refusedBecause = cacheDirProblem(this.files.dir, false);
      if (this.refusedBecause) return undefined;
    }
    const read = readPreferences(this.files.preferencesFile, this.files.appName);
    if (read.kind === 'refused') this.refusedBecause = read.problem;
    else if (read.kind === 'invalid') this.files.log(read.problem);
    if (read.value) this.current = read.value;
    return this.current?.installId;
  }

  /** The preferences, created with a new install id if there are none yet. */
  get(): Preferences {
    const existing = this.peek();
    if (existing) return existing;
    const created: Preferences = {
      format: PREFERENCES_FORMAT,
      app: this.files.appName,
      installId: this.adoptableInstallId() ?? randomUUID(),
      disabled: false,
    };
    this.current = created;
    if (!this.files.persist || this.refusedBecause) return created;
    try {
      const read = readPreferences(this.files.preferencesFile, this.files.appName);
      if (read.kind === 'missing') {
        // Exclusive create: when several processes start at once, the first one's install id wins.
        if (!createPrivateJsonExclusive(this.files.preferencesFile, created)) this.reload();
      } else if (read.kind === 'invalid') {
        // Replaces a corrupt or foreign file, then adopts what is there: a process doing the same at
        // once may have won (the token flow re-reads it under its lock before it mints).
        writePrivateJson(this.files.preferencesFile, created);
        this.reload();
      } else {
        // Someone wrote it since we looked, or something was planted there: theirs stands.
        this.reload();
      }
    } catch (error) {
      this.files.log(
        `could not write the preferences file (${errorCode(error)}); the install id serves this run only`,
      );
    }
    return this.current;
  }

  /** Changes and persists the opt-out flag or the notice time, on top of what the file holds now. */
  update(change: Partial<Pick<Preferences, 'disabled' | 'noticeShownAt'>>): void {
    this.get();
    this.reload(); // another process may have changed the file since this one read it
    const next: Preferences = { ...this.get(), ...change };
    this.current = next;
    if (!this.files.persist) return;
    if (this.refusedBecause) {
      this.files.log(`${this.refusedBecause}; the change holds for this run only`);
      return;
    }
    try {
      writePrivateJson(this.files.preferencesFile, next);
    } catch (error) {
      this.files.log(
        `could not write the preferences file (${errorCode(error)}); the change holds for this run only`,
      );
    }
  }

  /** A token cache left by an earlier run (its preferences file lost) keeps its install id. */
  private adoptableInstallId(): string | undefined {
    if (!this.files.persist || this.refusedBecause) return undefined;
    return readTokenCache(this.files.tokenFile, this.files.brokerUrl, this.files.appName).value?.installId;
  }
}
