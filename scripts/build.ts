/**
 * Builds one minified ESM bundle per Lambda handler: functions/lambda/<name>.ts → dist/functions/<name>/index.mjs,
 * with a manifest of what went into it that `pulumi up` checks (infra/bundles.ts).
 * The AWS SDK v3 is bundled too (issue #12 point 7, docs/architecture.md "The AWS SDK in the bundles"):
 * production then runs the SDK version the tests ran, and the measured cold init is shorter than with the
 * runtime's copy (bench/sdkBundling.ts), at ~560 KB more per bundle.
 */
import { build } from 'esbuild';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestPath, META_DIR, ROOT, sourceManifest } from '../infra/bundles';

export const LAMBDA_DIR = join(__dirname, '..', 'functions', 'lambda');
export const DIST_DIR = join(__dirname, '..', 'dist', 'functions');
/** esbuild's metafile per bundle (what each module weighs), kept out of the deployed folders. */
export { META_DIR };

/** The Lambda entry points: every .ts file in functions/lambda/ except helpers and tests. */
export function lambdaNames(): string[] {
  return readdirSync(LAMBDA_DIR)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.startsWith('_'))
    .map((file) => file.slice(0, -3))
    .sort();
}

/**
 * esbuild's options for one handler's bundle. `bundleSdk: false` leaves the AWS SDK to the runtime, the
 * way the stack deployed before issue #12; bench/sdkBundling.ts measures both.
 * @example await build(bundleOptions('mint', 'dist/functions/mint/index.mjs'))
 */
export function bundleOptions(name: string, outfile: string, { bundleSdk = true } = {}) {
  return {
    entryPoints: [join(LAMBDA_DIR, `${name}.ts`)],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: false,
    format: 'esm' as const,
    platform: 'node' as const,
    target: 'node22',
    external: bundleSdk ? [] : ['@aws-sdk/*', '@smithy/*'],
    // Some dependencies still call require(); give ESM bundles one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    metafile: true as const,
    // The metafile's input paths are relative to this; infra/bundles.ts reads them from the root.
    absWorkingDir: ROOT,
    logLevel: 'error' as const,
  };
}

export async function buildLambdas(): Promise<Record<string, number>> {
  rmSync(DIST_DIR, { recursive: true, force: true });
  mkdirSync(META_DIR, { recursive: true });
  const sizes: Record<string, number> = {};
  for (const name of lambdaNames()) {
    const result = await build(bundleOptions(name, join(DIST_DIR, name, 'index.mjs')));
    writeFileSync(join(META_DIR, `${name}.json`), JSON.stringify(result.metafile));
    // What `pulumi up` checks before it deploys this bundle (infra/bundles.ts).
    writeFileSync(
      manifestPath(name, META_DIR),
      JSON.stringify(sourceManifest(join(DIST_DIR, name, 'index.mjs'), Object.keys(result.metafile.inputs))),
    );
    sizes[name] = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  }
  return sizes;
}

if (require.main === module) {
  buildLambdas().then(
    (sizes) => {
      for (const [name, bytes] of Object.entries(sizes)) {
        console.log(`dist/functions/${name}/index.mjs  ${(bytes / 1024).toFixed(1)} KB`);
      }
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
