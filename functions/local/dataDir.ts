/**
 * The data folder of `npm start` (BROKER_DATA_DIR): the embedded DynamoDB's files and the dev upstream's
 * token file. It holds token records, so only its owner may read it.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Creates the folder (0700 when it is new) and the given sub-folders, and sets each sub-folder to 0700,
 * also one an older version created open (LevelDB creates its folder 0755). An existing data folder keeps
 * its mode: it may be one the user chose to share, such as a mounted volume.
 * @example const dataDir = prepareDataDir('./.broker-data', ['dynamodb']);
 */
export function prepareDataDir(path: string, subfolders: readonly string[]): string {
  const dataDir = resolve(path);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  for (const name of subfolders) {
    const folder = join(dataDir, name);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chmodSync(folder, 0o700);
  }
  return dataDir;
}
