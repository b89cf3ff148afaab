/**
 * Cold init of each Lambda bundle against a BARE handler: a fresh `node` process per sample imports the
 * module with the environment the Lambda would have, and reports how long the import took. The bare
 * handler imports the same AWS SDK packages and builds the same clients at init, and nothing else, so
 * bundle − bare is the broker's own init cost.
 */
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, percentile } from './stats';
import { ROOT, type BundleInfo } from './bundles';
import { bundleOptions } from '../scripts/build';

/** Inside dist/ so `@aws-sdk/*` resolves from the repository's node_modules, as it does for the bundles. */
export const WORK_DIR = join(ROOT, 'dist', 'bench');

export const LAMBDA_ENV: Record<string, string> = {
  BROKER_UPSTREAM: 'api-key',
  BROKER_UPSTREAM_SECRET_ID:
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:logfire-broker-upstream-AbCdEf',
  LOGFIRE_PROJECT_ID: '00000000-0000-4000-8000-000000000000',
  LOGFIRE_BASE_URL: 'https://logfire-us.pydantic.dev',
  BROKER_TABLE_NAME: 'logfire-broker-tokens',
  AWS_REGION: 'us-east-1',
  // Dummy credentials, as Lambda provides real ones in the environment: the SDK never goes looking (no IMDS).
  AWS_ACCESS_KEY_ID: 'AKIABENCHBENCHBENCH0',
  AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
  AWS_SESSION_TOKEN: 'bench-session-token',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'logfire-broker-bench',
};

/**
 * Records performance.now() (ms since process start) around `await import(module)`. Sockets are refused
 * and counted, so a module that reached for the network at import shows up instead of silently waiting.
 */
export const RUNNER = `import net from 'node:net';
import { performance } from 'node:perf_hooks';
let network = 0;
net.Socket.prototype.connect = function () { network++; queueMicrotask(() => this.destroy(new Error('bench: network refused'))); return this; };
const before = performance.now();
await import(process.argv[2]);
const after = performance.now();
await new Promise((resolve) => setTimeout(resolve, 50)); // let a stray connection attempt surface
process.stdout.write(JSON.stringify({ importMs: after - before, loadedAtMs: after, network }));
process.exit(0);
`;

/** The bare handler for a set of SDK imports: the same packages, the same clients built at module scope. */
function bareSource(sdkImports: Record<string, string[]>): string {
  const packages = Object.keys(sdkImports).sort();
  const lines = packages.map((pkg, i) => `import * as sdk${i} from '${pkg}';`);
  const ns = (pkg: string) => `sdk${packages.indexOf(pkg)}`;
  // As functions/lambda/_deps.ts does at init; the Secrets Manager client is built on first use, in both.
  if (packages.includes('@aws-sdk/client-dynamodb')) {
    lines.push(`const client = new ${ns('@aws-sdk/client-dynamodb')}.DynamoDBClient({});`);
    if (packages.includes('@aws-sdk/lib-dynamodb')) {
      lines.push(
        `const doc = ${ns('@aws-sdk/lib-dynamodb')}.DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });`,
        'export const deps = { doc };',
      );
    }
  }
  // What the broker imports from each package stays in a bundled bare handler too (esbuild drops the unused).
  packages.forEach((pkg, i) => {
    const names = sdkImports[pkg]!.filter((name) => name !== '*');
    if (names.length) lines.push(`export const uses${i} = [${names.map((n) => `sdk${i}.${n}`).join(', ')}];`);
  });
  lines.push(`export const handler = async () => ({ statusCode: 200, body: '{}' });`);
  return lines.join('\n') + '\n';
}

export interface InitSample {
  importMs: number;
  loadedAtMs: number;
  network: number;
}

export interface InitFigures {
  label: string;
  module: string;
  samples: InitSample[];
  importMedian: number;
  importP90: number;
  loadedMedian: number;
}

export interface ColdInitResult {
  bare: InitFigures[];
  bundles: (InitFigures & { bare: InitFigures; ratio: number; overheadMs: number })[];
  runs: number;
  runner: string;
}

export function sample(runner: string, module: string): InitSample {
  const result = spawnSync(process.execPath, [runner, pathToFileURL(module).href], {
    cwd: ROOT,
    // Only what a Lambda has: no AWS_PROFILE or other credentials from this shell.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...LAMBDA_ENV },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0)
    throw new Error(`bench: cold init of ${module} failed: ${result.stderr || result.error}`);
  return JSON.parse(result.stdout) as InitSample;
}

export function figures(label: string, module: string, samples: InitSample[]): InitFigures {
  const imports = samples.map((s) => s.importMs);
  return {
    label,
    module: relative(ROOT, module),
    samples,
    importMedian: median(imports),
    importP90: percentile(imports, 90),
    loadedMedian: median(samples.map((s) => s.loadedAtMs)),
  };
}

/** What the broker uses of each SDK client package it bundles (functions/adapters/store, secrets.ts). */
const SDK_CLIENT_NAMES: Record<string, string[]> = {
  '@aws-sdk/client-dynamodb': ['DynamoDBClient'],
  '@aws-sdk/lib-dynamodb': ['DynamoDBDocumentClient'],
  '@aws-sdk/client-secrets-manager': ['SecretsManagerClient', 'GetSecretValueCommand'],
};
/** A bundle that carries the SDK is compared with a bare handler bundled with the same SDK clients. */
const bareKey = (bundle: BundleInfo) =>
  Object.keys(bundle.sdkImports).length
    ? Object.keys(bundle.sdkImports).sort().join(' ')
    : `${bundle.sdkClients.join(' ')} (bundled)`;

export function measureColdInit(bundles: BundleInfo[], runs: number): ColdInitResult {
  mkdirSync(WORK_DIR, { recursive: true });
  const runner = join(WORK_DIR, 'init-runner.mjs');
  writeFileSync(runner, RUNNER);
  // One bare handler per distinct set of SDK packages the bundles import from the runtime; a bundle that
  // carries the SDK inside (issue #12) is compared with a bare handler built the same way (BUNDLED_BARE).
  const bareFor = new Map<string, string>();
  for (const bundle of bundles) {
    const key = bareKey(bundle);
    if (bareFor.has(key)) continue;
    const file = join(WORK_DIR, `bare-${bareFor.size + 1}.mjs`);
    if (!Object.keys(bundle.sdkImports).length) {
      const source = join(WORK_DIR, `bare-${bareFor.size + 1}-source.mjs`);
      const clients = Object.fromEntries(
        bundle.sdkClients.map((pkg) => [pkg, SDK_CLIENT_NAMES[pkg] ?? ['*']]),
      );
      writeFileSync(source, bareSource(clients));
      buildSync({ ...bundleOptions('bare', file), entryPoints: [source] });
    } else {
      writeFileSync(file, bareSource(bundle.sdkImports));
    }
    bareFor.set(key, file);
  }
  const modules = [...new Set([...bareFor.values(), ...bundles.map((b) => join(ROOT, b.path))])];
  const samples = new Map<string, InitSample[]>(modules.map((m) => [m, []]));
  for (const module of modules) sample(runner, module); // warm-up: the OS file cache, not part of the figures
  for (let run = 0; run < runs; run++) {
    // Interleaved, and rotated each run, so drift and position effects fall on every module alike.
    for (let i = 0; i < modules.length; i++) {
      const module = modules[(i + run) % modules.length]!;
      samples.get(module)!.push(sample(runner, module));
    }
  }
  const bare = [...bareFor.entries()].map(([key, file]) =>
    figures(key.replace(/@aws-sdk\//g, ''), file, samples.get(file)!),
  );
  return {
    bare,
    runs,
    runner: relative(ROOT, runner),
    bundles: bundles.map((bundle) => {
      const module = join(ROOT, bundle.path);
      const own = figures(bundle.name, module, samples.get(module)!);
      const file = bareFor.get(bareKey(bundle))!;
      const base = bare.find((b) => b.module === relative(ROOT, file))!;
      return {
        ...own,
        bare: base,
        ratio: own.importMedian / base.importMedian,
        overheadMs: own.importMedian - base.importMedian,
      };
    }),
  };
}
