/**
 * What is in each Lambda bundle: its size on disk (as `npm run build` wrote it), the AWS SDK packages it
 * imports (none since the SDK is bundled, issue #12; a bundle built with `bundleSdk: false` lists them) and the modules that weigh most,
 * from the esbuild metafile of that build.
 */
import type { Metafile } from 'esbuild';
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DIST_DIR, META_DIR, lambdaNames } from '../scripts/build';

export const ROOT = join(__dirname, '..');

export interface BundleInfo {
  name: string;
  path: string;
  bytes: number;
  /** Static imports of `@aws-sdk/*` packages, with the names imported from each. */
  sdkImports: Record<string, string[]>;
  /** Heaviest contributors (package or source folder) by bytes in the output, largest first. */
  top: { module: string; bytes: number }[];
  /** Bytes from the AWS SDK (`@aws-sdk/*`, `@smithy/*`, `@aws-crypto/*`): the rest is the broker's own. */
  sdkBytes: number;
  /** The SDK's client packages inside the bundle (`@aws-sdk/client-*`, `@aws-sdk/lib-*`), when it carries them. */
  sdkClients: string[];
}

const SDK_PACKAGE = /^@(aws-sdk|smithy|aws-crypto)\//;

/** `import{A as x,B as y}from"@aws-sdk/pkg"` in esbuild's minified output (namespace imports too). */
const SDK_IMPORT = /import\s*(?:\{([^}]*)\}|\*\s*as\s+[\w$]+)\s*from\s*["'](@aws-sdk\/[^"']+)["']/g;

export function sdkImportsOf(code: string): Record<string, string[]> {
  const imports: Record<string, Set<string>> = {};
  for (const match of code.matchAll(SDK_IMPORT)) {
    const names = match[1] ? match[1].split(',').map((part) => part.trim().split(/\s+as\s+/)[0]!) : ['*'];
    for (const name of names) (imports[match[2]!] ??= new Set()).add(name);
  }
  return Object.fromEntries(Object.entries(imports).map(([pkg, names]) => [pkg, [...names].sort()]));
}

/** node_modules/@scope/pkg/... → @scope/pkg; functions/core/x.ts → functions/core. */
function moduleOf(input: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (inPackage) return inPackage[1]!;
  return input.split('/').slice(0, -1).join('/') || input;
}

/** The heaviest modules of one bundle and the SDK's share, from the metafile `npm run build` wrote beside it. */
function breakdown(name: string): Pick<BundleInfo, 'top' | 'sdkBytes' | 'sdkClients'> {
  const meta = JSON.parse(readFileSync(join(META_DIR, `${name}.json`), 'utf8')) as Metafile;
  const output = Object.values(meta.outputs)[0]!;
  const byModule: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    byModule[moduleOf(input)] = (byModule[moduleOf(input)] ?? 0) + bytesInOutput;
  }
  const modules = Object.entries(byModule).map(([module, bytes]) => ({ module, bytes }));
  return {
    top: [...modules].sort((a, b) => b.bytes - a.bytes).slice(0, 5),
    sdkBytes: modules.filter((m) => SDK_PACKAGE.test(m.module)).reduce((n, m) => n + m.bytes, 0),
    sdkClients: modules
      .map((m) => m.module)
      .filter((module) => /^@aws-sdk\/(client|lib)-/.test(module))
      .sort(),
  };
}

export async function inspectBundles(): Promise<BundleInfo[]> {
  const infos: BundleInfo[] = [];
  for (const name of lambdaNames()) {
    const path = join(DIST_DIR, name, 'index.mjs');
    const bytes = statSync(path).size;
    infos.push({
      name,
      path: relative(ROOT, path),
      bytes,
      sdkImports: sdkImportsOf(readFileSync(path, 'utf8')),
      ...breakdown(name),
    });
  }
  return infos;
}
