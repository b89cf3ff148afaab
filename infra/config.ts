/**
 * The stack's configuration, read once: `logfire-broker:*` from `pulumi config`, validated by
 * infra/settings.ts. A bad value throws here, at import, so `pulumi preview` stops before any resource with
 * a message that names the key.
 */
import * as pulumi from '@pulumi/pulumi';
import { HANDLERS } from './handlers';
import { NAMESPACE, SettingsError, parseSettings, type StackSettings } from './settings';

/** The one setting that is a Pulumi secret: it is read as an Output and never as text. */
const CREDENTIAL_KEY = 'upstreamCredential';

export interface StackConfig {
  settings: StackSettings;
  /**
   * The Logfire credential, only when the operator opted in with
   * `pulumi config set --secret upstreamCredential ...`; otherwise it is put in Secrets Manager by hand.
   */
  upstreamCredential?: pulumi.Output<string>;
}

/**
 * Reads and validates the current stack's configuration.
 * @example const { settings } = loadConfig(); // throws SettingsError on a bad value
 */
export function loadConfig(): StackConfig {
  const config = new pulumi.Config(NAMESPACE);
  const prefix = `${NAMESPACE}:`;
  const raw: Record<string, string | undefined> = {};
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    // Unknown keys go through too, so parseSettings can name a typo.
    if (key !== CREDENTIAL_KEY) raw[key] = config.get(key);
  }
  const settings = parseSettings(raw, {
    stack: pulumi.getStack(),
    project: pulumi.getProject(),
    awsRegion: new pulumi.Config('aws').get('region'),
    handlerNames: HANDLERS.map((handler) => handler.name),
  });
  if (config.get(CREDENTIAL_KEY) !== undefined && !isSecretConfig(prefix + CREDENTIAL_KEY)) {
    // Set without --secret, the credential sits in plain text in Pulumi.<stack>.yaml (often committed).
    throw new SettingsError(
      CREDENTIAL_KEY,
      'is set in plain text; it must be a secret: pulumi config rm upstreamCredential && pulumi config set --secret upstreamCredential <credential>',
    );
  }
  return { settings, upstreamCredential: config.getSecret(CREDENTIAL_KEY) };
}

/**
 * Whether `pulumi config` holds the key as a secret. The SDK knows (the engine lists the secret keys in
 * PULUMI_CONFIG_SECRET_KEYS) but keeps `isConfigSecret` out of its typings; without it, nothing is refused.
 */
function isSecretConfig(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  return runtime.isConfigSecret ? runtime.isConfigSecret(fullKey) : true;
}
