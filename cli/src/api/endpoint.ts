/**
 * Where the broker is and which AWS region signs for it: `--endpoint`, else `LOGFIRE_BROKER_ENDPOINT`, else the
 * Pulumi stack's `apiUrl` output (`pulumi stack output --json`, run in the folder of Pulumi.yaml). Shared by
 * the CLI and the admin console.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { CliError, EXIT, UsageError } from '../errors';

/** The repository root, where Pulumi.yaml is. */
export const PROJECT_DIR = resolve(__dirname, '..', '..', '..');
export const ENDPOINT_ENV = 'LOGFIRE_BROKER_ENDPOINT';
/** The stack output with the API's base URL (infra/index.ts). */
export const ENDPOINT_OUTPUT = 'apiUrl';

export interface EndpointOptions {
  /** `--endpoint`. */
  endpoint?: string;
  /** `--stack`: the Pulumi stack to read outputs from (Pulumi's selected stack when absent). */
  stack?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The broker's base URL, without a trailing slash (an API Gateway URL keeps its stage path).
 * @example await resolveEndpoint({ endpoint: 'http://127.0.0.1:8787' }) // 'http://127.0.0.1:8787'
 */
export async function resolveEndpoint(options: EndpointOptions): Promise<URL> {
  const env = options.env ?? process.env;
  if (options.endpoint !== undefined) return checkedUrl(options.endpoint, '--endpoint');
  const fromEnv = env[ENDPOINT_ENV];
  if (fromEnv) return checkedUrl(fromEnv, ENDPOINT_ENV);
  const outputs = await stackOutputs(options.stack, env);
  const url = outputs[ENDPOINT_OUTPUT];
  if (typeof url !== 'string') {
    throw new UsageError(`The Pulumi stack has no \`${ENDPOINT_OUTPUT}\` output: pass --endpoint.`);
  }
  return checkedUrl(url, `the stack output ${ENDPOINT_OUTPUT}`);
}

function checkedUrl(text: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${source}: "${text}" is not a URL such as https://api.example.com.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${source}: use an http:// or https:// URL.`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new UsageError(`${source}: give the base URL only, without a query, fragment or user.`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/**
 * The outputs of the Pulumi stack, from `pulumi stack output --json`. A missing Pulumi CLI is a usage error
 * that names the other way to give what was asked for (`instead`).
 * @example (await stackOutputs('prod')).apiUrl
 */
export function stackOutputs(
  stack: string | undefined,
  env: NodeJS.ProcessEnv,
  instead = `pass --endpoint <url>, set ${ENDPOINT_ENV},`,
): Promise<Record<string, unknown>> {
  const args = ['stack', 'output', '--json', ...(stack ? ['--stack', stack] : [])];
  return new Promise((done, fail) => {
    execFile('pulumi', args, { cwd: PROJECT_DIR, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        return fail(
          new UsageError(
            `The Pulumi CLI is not installed: ${instead} or install it (https://www.pulumi.com/docs/install/) ` +
              'so the stack outputs can be read.',
          ),
        );
      }
      if (error) {
        const said = stderr.trim().split('\n').slice(0, 5).join('\n');
        return fail(new CliError(`pulumi stack output failed${said ? `:\n${said}` : ''}`, EXIT.failed));
      }
      try {
        const parsed: unknown = JSON.parse(stdout);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          return done(parsed as Record<string, unknown>);
        }
      } catch {
        // Reported below.
      }
      fail(new CliError('pulumi stack output --json did not print a JSON object.', EXIT.failed));
    });
  });
}

/** `<api>.execute-api.<region>.amazonaws.com` (or `.amazonaws.com.cn`). */
const EXECUTE_API_HOST = /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/** Signing for a loopback broker (npm start) needs some region; the local server takes the one signed. */
export const LOCAL_REGION = 'us-east-1';

/**
 * The region to sign for: `--region`, else the one an API Gateway host names (it cannot be another), else the
 * standard chain (AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`), else `us-east-1` for a loopback
 * broker.
 * @example await resolveRegion(new URL('https://abc.execute-api.eu-west-1.amazonaws.com/prod'), {}) // 'eu-west-1'
 */
export async function resolveRegion(
  endpoint: URL,
  options: { region?: string; profile?: string; env?: NodeJS.ProcessEnv },
): Promise<string> {
  if (options.region) return options.region;
  const fromHost = EXECUTE_API_HOST.exec(endpoint.hostname)?.[1];
  if (fromHost) return fromHost;
  const env = options.env ?? process.env;
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  if (isLoopback(endpoint)) return LOCAL_REGION;
  const fromProfile = await profileRegion(options.profile);
  if (fromProfile) return fromProfile;
  throw new UsageError(
    `Cannot tell which AWS region ${endpoint.host} is in: pass --region or set AWS_REGION.`,
  );
}

/** The profile's region as the AWS SDK resolves it (shared config files), or undefined. */
async function profileRegion(profile: string | undefined): Promise<string | undefined> {
  // Loaded only here: most calls know the region from the host or the environment.
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  try {
    return await new SecretsManagerClient(profile ? { profile } : {}).config.region();
  } catch {
    return undefined;
  }
}

/** A broker on this machine (npm start), by address or `localhost`. */
export function isLoopback(endpoint: URL): boolean {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
