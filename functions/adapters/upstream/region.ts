/**
 * Which Logfire to talk to. Logfire encodes the region in its keys and tokens (`pylf_v1_eu_...`); the
 * official clients read it the same way, and `LOGFIRE_BASE_URL` overrides it (self-hosted, tests).
 */
import { ConfigError } from '../../config';

export const LOGFIRE_REGIONS: Readonly<Record<string, string>> = {
  us: 'https://logfire-us.pydantic.dev',
  eu: 'https://logfire-eu.pydantic.dev',
};

const REGION_PREFIX = /^pylf_v\d+_([a-z]+)_/;

/**
 * The base URL for a credential. A credential without the `pylf_v<n>_<region>_` prefix predates regions
 * and belongs to the US region, as Logfire's own clients assume; an unknown region is an error rather
 * than a guess, because the credential would be sent to the wrong place.
 * @example logfireBaseUrl('pylf_v1_eu_...') // 'https://logfire-eu.pydantic.dev'
 * @example logfireBaseUrl(key, 'http://127.0.0.1:9000/') // 'http://127.0.0.1:9000'
 */
export function logfireBaseUrl(credential: string, override?: string): string {
  if (override) return override.replace(/\/+$/, '');
  const match = REGION_PREFIX.exec(credential.trim());
  if (!match) return LOGFIRE_REGIONS.us!;
  const region = match[1]!;
  const url = LOGFIRE_REGIONS[region];
  if (!url) {
    throw new ConfigError(
      'LOGFIRE_BASE_URL',
      `the Logfire credential is for region "${region}", which this broker does not know (known: ${Object.keys(LOGFIRE_REGIONS).join(', ')}); set LOGFIRE_BASE_URL to that region's URL`,
    );
  }
  return url;
}

/**
 * The credential and the base URL that goes with it, resolved on first use (in AWS the credential comes
 * from Secrets Manager) and again on each call, so a rotated credential is picked up.
 */
export class LogfireAccess {
  private knownBaseUrl?: string;

  constructor(
    private readonly loadCredential: () => Promise<string>,
    private readonly baseUrlOverride?: string,
  ) {
    this.knownBaseUrl = baseUrlOverride?.replace(/\/+$/, '');
  }

  async resolve(): Promise<{ credential: string; baseUrl: string }> {
    const credential = (await this.loadCredential()).trim();
    const baseUrl = logfireBaseUrl(credential, this.baseUrlOverride);
    this.knownBaseUrl = baseUrl;
    return { credential, baseUrl };
  }

  /** The base URL, known once the credential was loaded or when `LOGFIRE_BASE_URL` is set. */
  get baseUrl(): string {
    if (!this.knownBaseUrl) {
      throw new Error(
        'The Logfire base URL comes from the credential, which has not been loaded yet: await upstream.prepare() first, or set LOGFIRE_BASE_URL.',
      );
    }
    return this.knownBaseUrl;
  }
}
