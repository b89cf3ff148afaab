/**
 * The local server's admin secrets, under the data folder (mode 0600, never a symlink):
 * - `admin-credentials`: the SigV4 key pair admin calls are signed with, in the AWS shared-credentials format
 *   (profile `logfire-broker-local`), so the admin CLI's standard credential chain reads it as it is:
 *   `AWS_SHARED_CREDENTIALS_FILE=<data>/admin-credentials AWS_PROFILE=logfire-broker-local`. Generated once,
 *   unless `BROKER_ADMIN_ACCESS_KEY_ID` and `BROKER_ADMIN_SECRET_ACCESS_KEY` are set.
 * - `admin-totp-seed`: the TOTP seed `otp enroll` wrote (base32), unless `BROKER_ADMIN_TOTP_SECRET` is set.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalConfig } from '../config';
import type { AdminCredentials } from './sigv4';

export const ADMIN_CREDENTIALS_FILE = 'admin-credentials';
export const ADMIN_PROFILE = 'logfire-broker-local';
export const TOTP_SEED_FILE = 'admin-totp-seed';

export interface LocalAdminCredentials extends AdminCredentials {
  /** Where they came from: the environment, or the file (`created` the first time). */
  source: 'env' | 'file' | 'created';
  file?: string;
}

/**
 * The local admin credentials: the environment's pair, else the file's, else a new pair written to the file.
 * @example const { accessKeyId, file } = localAdminCredentials(readLocalConfig(), dataDir);
 */
export function localAdminCredentials(local: LocalConfig, dataDir: string): LocalAdminCredentials {
  const { adminAccessKeyId: accessKeyId, adminSecretAccessKey: secretAccessKey } = local;
  // readLocalConfig checked that both or neither are set.
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey, source: 'env' };
  const file = join(dataDir, ADMIN_CREDENTIALS_FILE);
  const text = readPrivateFile(file);
  if (text !== undefined) {
    const parsed = parseCredentialsFile(text);
    if (!parsed)
      throw new Error(`${file} is not an AWS credentials file with both keys; delete it to start over`);
    return { ...parsed, source: 'file', file };
  }
  const created = {
    // The shape of an AWS access key id (20 upper-case letters and digits), marked as local by its prefix.
    accessKeyId: `LFBL${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  const content =
    `[${ADMIN_PROFILE}]\naws_access_key_id = ${created.accessKeyId}\n` +
    `aws_secret_access_key = ${created.secretAccessKey}\n`;
  try {
    writePrivateFile(file, content, { exclusive: true });
  } catch (error) {
    // Another broker on this folder created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return localAdminCredentials(local, dataDir);
  }
  return { ...created, source: 'created', file };
}

/** Both keys of the first profile in an AWS shared-credentials file, or undefined. */
export function parseCredentialsFile(text: string): AdminCredentials | undefined {
  const value = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(text)?.[1];
  const accessKeyId = value('aws_access_key_id');
  const secretAccessKey = value('aws_secret_access_key');
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}

/**
 * The local TOTP seed: `BROKER_ADMIN_TOTP_SECRET`, else the file `otp enroll` wrote, else undefined (the
 * second factor is not set up). Read at each check, so an enrollment takes effect without a restart.
 */
export function localTotpSeed(local: LocalConfig, dataDir: string): string | undefined {
  if (local.adminTotpSecret) return local.adminTotpSecret;
  return readPrivateFile(join(dataDir, TOTP_SEED_FILE))?.trim() || undefined;
}

/**
 * Stores a TOTP seed for the local server (what `otp enroll` does locally), replacing any earlier one.
 * @example writeLocalTotpSeed('.broker-data', createOtpSeed().secret);
 */
export function writeLocalTotpSeed(dataDir: string, seed: string): string {
  const file = join(dataDir, TOTP_SEED_FILE);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writePrivateFile(temp, `${seed}\n`, { exclusive: true });
  renameSync(temp, file);
  return file;
}

/**
 * A file's text, or undefined when there is none. Refuses a symlink (someone could point it at a file of
 * theirs) and a file others may read or write: these files hold admin secrets.
 */
function readPrivateFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new Error(`${file} is a symbolic link; refusing to read admin secrets from it`, {
        cause: error,
      });
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new Error(
        `${file} may be read by others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function writePrivateFile(file: string, content: string, options: { exclusive: boolean }): void {
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (options.exclusive ? constants.O_EXCL : 0);
  const fd = openSync(file, flags, 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}
