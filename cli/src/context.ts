/**
 * What every command gets: where to write, whether to print JSON, and the signing client, built on first use
 * from the global options (so `--help` and usage errors need no endpoint or credentials).
 */
import { createAdminClient, type AdminClient } from './api/client';
import { credentialProvider } from './api/credentials';
import { resolveEndpoint, resolveRegion } from './api/endpoint';
import type { Io } from './output';

/** The options every command takes (commander's `optsWithGlobals()`). */
export interface GlobalOptions {
  endpoint?: string;
  stack?: string;
  region?: string;
  profile?: string;
  dataDir?: string;
  json?: boolean;
}

export interface Context {
  io: Io;
  env: NodeJS.ProcessEnv;
  json: boolean;
  options: GlobalOptions;
  client(): Promise<AdminClient>;
}

export function createContext(io: Io, env: NodeJS.ProcessEnv, options: GlobalOptions): Context {
  let client: Promise<AdminClient> | undefined;
  return {
    io,
    env,
    json: options.json === true,
    options,
    client: () =>
      (client ??= (async () => {
        const endpoint = await resolveEndpoint({ endpoint: options.endpoint, stack: options.stack, env });
        const region = await resolveRegion(endpoint, {
          region: options.region,
          profile: options.profile,
          env,
        });
        const credentials = credentialProvider({ dataDir: options.dataDir, profile: options.profile });
        return createAdminClient({ endpoint, region, credentials });
      })()),
  };
}
