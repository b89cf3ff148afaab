/**
 * The client's two files in the per-user config directory (issue #5, points 1, 2 and 7):
 *
 * - `<app>-<hash>.token.json`, one per (broker URL, app): the cached token, its client secret and timestamps;
 * - `<app>-<hash>.preferences.json`, one per app: the install id, the opt-out flag, when the notice was shown.
 *
 * Directory 0700, files 0600, every write atomic (temp file, fsync, rename). A file that is corrupt,
 * truncated, of another format or for another broker reads as an `invalid` problem, never as an exception:
 * the caller replaces it. Anything that is not a small regular file (a symlink, FIFO, directory…) reads as
 * `refused`: the caller turns telemetry off and leaves it alone (safeFiles.ts).
 */
import * as path from 'node:path';
import type { IssuedToken } from '../../../functions/core/contract';
import { createCacheFile, readCacheFile, writeCacheFile } from './safeFiles';

export const TOKEN_FORMAT = 'logfire-broker-client/token/1';
export const PREFERENCES_FORMAT = 'logfire-broker-client/preferences/1';

/** What the broker's mint or refresh reply left us, plus what the client tracks about it. */
export interface TokenCache extends Omit<IssuedToken, 'ingest'> {
  format: typeof TOKEN_FORMAT;
  brokerUrl: string;
  app: string;
  installId: string;
  ingestBaseUrl: string;
  lastHeartbeatAt: string;
  /** `paused` after a heartbeat said so: telemetry stays off until the next heartbeat is due. */
  status: 'active' | 'paused';
  /**
   * The remote client settings of the last mint, refresh or heartbeat (absent from older brokers and caches):
   * `telemetry: 'off'` keeps the run silent until a heartbeat says otherwise. Readers check it again.
   */
  settings?: IssuedToken['settings'];
}

export interface Preferences {
  format: typeof PREFERENCES_FORMAT;
  app: string;
  installId: string;
  disabled: boolean;
  noticeShownAt?: string;
}

export interface CachePaths {
  dir: string;
  tokenFile: string;
  preferencesFile: string;
}

/**
 * A cache file as read: its value, or a problem of one of three kinds: `missing` (nothing there yet),
 * `invalid` (corrupt, foreign or stale: replace it) or `refused` (not a file the client may use: leave it
 * alone, telemetry off).
 */
export type CacheRead<T> =
  | { value: T; kind?: undefined; problem?: undefined }
  | { value?: undefined; kind: 'missing' | 'invalid' | 'refused'; problem: string };

const INSTALL_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * A short, stable name hash (two FNV-1a rounds). Not `node:crypto`: loading it costs ~2.5 ms of start-up
 * on every run, and file names need no cryptographic strength (each file also names its broker and app).
 */
function digest(text: string, length: number): string {
  const fnv1a = (seed: number): string => {
    let hash = seed;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return hash.toString(16).padStart(8, '0');
  };
  return `${fnv1a(0x811c9dc5)}${fnv1a(0x9747b28c)}`.slice(0, length);
}

/**
 * Where an app's files live. The hashes keep apps whose names differ only in punctuation apart, and give
 * each broker URL its own token file.
 *
 * @example
 * cachePaths('/home/me/.config/logfire-broker', 'https://broker.example.com', '@acme/cli').tokenFile;
 * // '/home/me/.config/logfire-broker/acme-cli-3b1f0c2a9d4e.token.json'
 */
export function cachePaths(dir: string, brokerUrl: string, appName: string): CachePaths {
  const slug =
    appName
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 48) || 'app';
  return {
    dir,
    tokenFile: path.join(dir, `${slug}-${digest(`${brokerUrl}\n${appName}`, 12)}.token.json`),
    preferencesFile: path.join(dir, `${slug}-${digest(appName, 8)}.preferences.json`),
  };
}

function readJson(file: string, what: string): CacheRead<Record<string, unknown>> {
  const read = readCacheFile(file);
  if (read.kind === 'missing') return { kind: 'missing', problem: `no ${what} yet` };
  if (read.kind === 'refused') return { kind: 'refused', problem: read.reason };
  if (read.kind === 'unreadable') {
    return { kind: 'invalid', problem: `the ${what} cannot be read (${read.code}); replacing it` };
  }
  try {
    const value: unknown = JSON.parse(read.text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return { value: value as Record<string, unknown> };
    }
  } catch {
    // falls through: corrupt or truncated
  }
  return invalid(`the ${what} is corrupt or truncated; replacing it`);
}

const invalid = (problem: string) => ({ kind: 'invalid', problem }) as const;

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isTime = (value: unknown): value is string => isText(value) && Number.isFinite(Date.parse(value));

/**
 * Reads the cached token for this broker and app; anything else is a `problem` the caller replaces.
 *
 * @example
 * const { value, problem } = readTokenCache(paths.tokenFile, brokerUrl, app.name);
 */
export function readTokenCache(file: string, brokerUrl: string, appName: string): CacheRead<TokenCache> {
  const read = readJson(file, 'token cache');
  if (!read.value) return read;
  const record = read.value;
  if (record.format !== TOKEN_FORMAT) return invalid('the token cache has an unknown format; replacing it');
  if (record.brokerUrl !== brokerUrl || record.app !== appName) {
    return invalid('the token cache was written for another broker or app; replacing it');
  }
  const valid =
    isText(record.installId) &&
    INSTALL_ID.test(record.installId) &&
    isText(record.tokenId) &&
    isText(record.writeToken) &&
    isText(record.clientSecret) &&
    isTime(record.expiresAt) &&
    isTime(record.refreshAfter) &&
    isTime(record.lastHeartbeatAt) &&
    typeof record.heartbeatIntervalSeconds === 'number' &&
    record.heartbeatIntervalSeconds > 0 &&
    isText(record.ingestBaseUrl) &&
    (record.status === 'active' || record.status === 'paused');
  if (!valid) return invalid('the token cache is incomplete; replacing it');
  return { value: record as unknown as TokenCache };
}

/**
 * Reads an app's preferences (install id, opt-out, notice).
 *
 * @example
 * const prefs = readPreferences(paths.preferencesFile, 'hello-cli').value;
 */
export function readPreferences(file: string, appName: string): CacheRead<Preferences> {
  const read = readJson(file, 'preferences file');
  if (!read.value) return read;
  const prefs = read.value;
  const valid =
    prefs.format === PREFERENCES_FORMAT &&
    prefs.app === appName &&
    isText(prefs.installId) &&
    INSTALL_ID.test(prefs.installId) &&
    typeof prefs.disabled === 'boolean' &&
    (prefs.noticeShownAt === undefined || isTime(prefs.noticeShownAt));
  if (!valid) return invalid('the preferences file is not valid; replacing it');
  return { value: prefs as unknown as Preferences };
}

function serialize(value: object): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Replaces a cache file atomically with mode 0600 (readers see the old or the new content, never a mix);
 * throws `CacheRefusedError` rather than replace anything but a regular file.
 *
 * @example
 * writePrivateJson(paths.tokenFile, record);
 */
export function writePrivateJson(file: string, value: object): void {
  writeCacheFile(file, serialize(value));
}

/**
 * Creates a cache file only if nothing is at its path yet (atomically, complete); false if something is.
 * Two processes starting at once therefore agree on one install id.
 *
 * @example
 * if (!createPrivateJsonExclusive(paths.preferencesFile, prefs)) prefs = readPreferences(...).value;
 */
export function createPrivateJsonExclusive(file: string, value: object): boolean {
  return createCacheFile(file, serialize(value));
}
