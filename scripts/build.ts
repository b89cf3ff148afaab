/**
 * Builds one minified ESM bundle per Lambda handler: functions/lambda/<name>.ts → dist/functions/<name>/index.mjs,
 * with a manifest of what went into it that `pulumi up` checks (infra/bundles.ts).
 * The AWS SDK v3 stays outside the bundles: the nodejs22.x runtime ships it, and bundling it would add
 * ~550 KB per function (see docs/benchmarks.md).
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

export async function buildLambdas(): Promise<Record<string, number>> {
  rmSync(DIST_DIR, { recursive: true, force: true });
  mkdirSync(META_DIR, { recursive: true });
  const sizes: Record<string, number> = {};
  for (const name of lambdaNames()) {
    const result = await build({
      entryPoints: [join(LAMBDA_DIR, `${name}.ts`)],
      outfile: join(DIST_DIR, name, 'index.mjs'),
      bundle: true,
      minify: true,
      sourcemap: false,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      external: ['@aws-sdk/*', '@smithy/*'],
      // Some dependencies still call require(); give ESM bundles one.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      metafile: true,
      // The metafile's input paths are relative to this; infra/bundles.ts reads them from the root.
      absWorkingDir: ROOT,
      logLevel: 'error',
    });
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
