/**
 * Deploy what was built: `pulumi up` after a `git pull` must not ship bundles built from older sources.
 * `npm run build` records, next to each bundle, a SHA-256 of the bundle and of every file esbuild put in it
 * (its metafile's inputs: the handler's sources and the node_modules files it bundles); the program
 * refuses to run when any of them differs now. Content, not modification times: a checkout, an archive
 * or a copy can set any mtime. No Pulumi import.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUNDLE_DIR, bundlePath, type HandlerSpec } from './handlers';

/** The repository root: esbuild's working directory, to which the recorded input paths are relative. */
export const ROOT = join(__dirname, '..');
/** Where `npm run build` writes esbuild's metafiles and these manifests. */
export const META_DIR = join(ROOT, 'dist', 'meta');

export interface SourceManifest {
  /** SHA-256 of the bundle as built. */
  bundle: string;
  /** Path relative to ROOT → SHA-256 of the file as it was bundled. */
  inputs: Record<string, string>;
}

/**
 * What `npm run build` writes beside a bundle (scripts/build.ts).
 * @example sourceManifest(bundlePath('mint'), Object.keys(metafile.inputs))
 */
export function sourceManifest(bundle: string, inputs: readonly string[], root = ROOT): SourceManifest {
  return {
    bundle: sha256Of(bundle),
    inputs: Object.fromEntries([...inputs].sort().map((input) => [input, sha256Of(join(root, input))])),
  };
}

export function manifestPath(name: string, metaDir = META_DIR): string {
  return join(metaDir, `${name}.sources.json`);
}

/**
 * Why each handler's bundle cannot be deployed as it is: missing, built by an older build (no manifest),
 * changed after the build, or built from sources that have changed since. Empty: deploy.
 * @example bundleProblems(HANDLERS) // ['mint: functions/core/mint.ts changed since `npm run build`']
 */
export function bundleProblems(
  handlers: readonly HandlerSpec[],
  dirs: { bundleDir?: string; metaDir?: string; root?: string } = {},
): string[] {
  const { bundleDir = BUNDLE_DIR, metaDir = META_DIR, root = ROOT } = dirs;
  const problems: string[] = [];
  for (const { name } of handlers) {
    const bundle = bundlePath(name, bundleDir);
    if (!existsSync(bundle)) {
      problems.push(`${name}: ${relative(root, bundle)} is missing`);
      continue;
    }
    const path = manifestPath(name, metaDir);
    if (!existsSync(path)) {
      problems.push(`${name}: ${relative(root, path)} is missing (a build older than this check)`);
      continue;
    }
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as SourceManifest;
    if (sha256Of(bundle) !== manifest.bundle) {
      problems.push(`${name}: ${relative(root, bundle)} changed after it was built`);
      continue;
    }
    const changed = Object.entries(manifest.inputs).filter(
      ([input, hash]) => !existsSync(join(root, input)) || sha256Of(join(root, input)) !== hash,
    );
    for (const [input] of changed.slice(0, 3)) problems.push(`${name}: ${input} changed since the build`);
    if (changed.length > 3) problems.push(`${name}: and ${changed.length - 3} more changed sources`);
  }
  return problems;
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
