/**
 * The credentials that sign admin calls: the standard AWS chain (environment, profile, SSO, instance role),
 * or, for `npm start`, the local admin pair the server generated under its data folder (`--data-dir`).
 */
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors';

/**
 * The local server's admin pair under its data folder, an AWS shared-credentials file (mode 0600) with one
 * profile (functions/local/adminSecrets.ts writes it).
 */
export const LOCAL_CREDENTIALS_FILE = 'admin-credentials';
export const LOCAL_PROFILE = 'logfire-broker-local';

export interface CredentialOptions {
  /** `--data-dir`: sign with the local server's admin pair from this data folder. */
  dataDir?: string;
  /** `--profile`: the AWS profile for the standard chain. */
  profile?: string;
}

/**
 * A provider of the signing credentials. Finding none is a usage error that says what to set.
 * @example const credentials = credentialProvider({ dataDir: './.broker-data' });
 */
export function credentialProvider(options: CredentialOptions): AwsCredentialIdentityProvider {
  if (options.dataDir !== undefined) {
    const file = join(options.dataDir, LOCAL_CREDENTIALS_FILE);
    if (!existsSync(file)) {
      throw new UsageError(
        `${file} does not exist: start the broker (npm start) with this data folder first.`,
      );
    }
    // The file as the SDK reads any credentials file; it doubles as the config file so that no profile of
    // the same name in ~/.aws/config is mixed in.
    return explained(fromIni({ filepath: file, configFilepath: file, profile: LOCAL_PROFILE }), file);
  }
  return explained(fromNodeProviderChain(options.profile ? { profile: options.profile } : {}));
}

function explained(provider: AwsCredentialIdentityProvider, file?: string): AwsCredentialIdentityProvider {
  return async () => {
    try {
      return await provider();
    } catch (error) {
      // The SDK's message names what it tried; it never holds a secret key.
      const why = (error as Error).message.split('\n')[0];
      throw new UsageError(
        file
          ? `${file} holds no usable admin credentials (${why}).`
          : 'No AWS credentials to sign with: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ' +
              `or pass --data-dir for a local broker (${why}).`,
      );
    }
  };
}
