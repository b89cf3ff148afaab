import {
  createPrivateJsonExclusive,
  PREFERENCES_FORMAT,
  readPreferences,
  readTokenCache,
  writePrivateJsonSync,
  type Preferences,
} from './cacheFiles';
import { randomUUID } from './lazy';

export interface PreferenceFiles {
  preferencesFile: string;
  tokenFile: string;
  brokerUrl: string;
  appName: string;
  /** False where there is no config directory: preferences then live in memory for the run. */
  persist: boolean;
  log: (line: string) => void;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * An app's per-user preferences (issue #5, points 2 and 5): the install id (random, generated once per
 * user and app, never derived from the machine or the person), the persistent opt-out and when the
 * notice was shown. Read lazily, kept in memory for the run; a file that cannot be written leaves the
 * in-memory value in force for this run.
 *
 * @example
 * const prefs = new PreferenceStore(files);
 * prefs.get().installId; // created on first use
 */
export class PreferenceStore {
  private current: Preferences | undefined;
  private loaded = false;

  constructor(private readonly files: PreferenceFiles) {}

  /** The preferences if they exist, without creating anything. */
  peek(): Preferences | undefined {
    if (!this.loaded && this.files.persist) {
      this.loaded = true;
      const read = readPreferences(this.files.preferencesFile, this.files.appName);
      this.current = read.value;
      if (read.problem && !read.problem.startsWith('no ')) this.files.log(read.problem);
    }
    return this.current;
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
    if (!this.files.persist) return created;
    try {
      if (readPreferences(this.files.preferencesFile, this.files.appName).problem?.startsWith('no ')) {
        // Exclusive create: when several processes start at once, the first one's install id wins.
        if (!createPrivateJsonExclusive(this.files.preferencesFile, created)) {
          this.current = readPreferences(this.files.preferencesFile, this.files.appName).value ?? created;
        }
      } else {
        writePrivateJsonSync(this.files.preferencesFile, created); // replaces an invalid file
      }
    } catch (error) {
      this.files.log(
        `could not write the preferences file (${errorCode(error)}); the install id serves this run only`,
      );
    }
    return this.current;
  }

  /** Changes and persists the opt-out flag or the notice time. */
  update(change: Partial<Pick<Preferences, 'disabled' | 'noticeShownAt'>>): void {
    const next: Preferences = { ...this.get(), ...change };
    this.current = next;
    if (!this.files.persist) return;
    try {
      writePrivateJsonSync(this.files.preferencesFile, next);
    } catch (error) {
      this.files.log(
        `could not write the preferences file (${errorCode(error)}); the change holds for this run only`,
      );
    }
  }

  /** A token cache left by an earlier run (its preferences file lost) keeps its install id. */
  private adoptableInstallId(): string | undefined {
    if (!this.files.persist) return undefined;
    return readTokenCache(this.files.tokenFile, this.files.brokerUrl, this.files.appName).value?.installId;
  }
}
