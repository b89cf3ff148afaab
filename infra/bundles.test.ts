import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleProblems, manifestPath, sourceManifest } from './bundles';
import { bundlePath, handlerNamed } from './handlers';

/** A repository in a temporary folder: one source, its bundle and the manifest `npm run build` writes. */
function builtRepository() {
  const root = mkdtempSync(join(tmpdir(), 'bundles-'));
  const dirs = { root, bundleDir: join(root, 'dist', 'functions'), metaDir: join(root, 'dist', 'meta') };
  mkdirSync(join(root, 'functions'), { recursive: true });
  mkdirSync(join(dirs.bundleDir, 'mint'), { recursive: true });
  mkdirSync(dirs.metaDir, { recursive: true });
  writeFileSync(join(root, 'functions', 'mint.ts'), 'export const v = 1;\n');
  writeFileSync(bundlePath('mint', dirs.bundleDir), 'const v=1;\n');
  const manifest = sourceManifest(bundlePath('mint', dirs.bundleDir), ['functions/mint.ts'], root);
  writeFileSync(manifestPath('mint', dirs.metaDir), JSON.stringify(manifest));
  return dirs;
}

describe('Function: bundleProblems', () => {
  const mint = [handlerNamed('mint')];
  let dirs: ReturnType<typeof builtRepository>;
  beforeEach(() => {
    dirs = builtRepository();
  });
  afterEach(() => rmSync(dirs.root, { recursive: true, force: true }));

  it('passes a bundle built from the sources as they are', () => {
    expect(bundleProblems(mint, dirs)).toEqual([]);
  });

  it('refuses a bundle whose sources changed since the build (a git pull without npm run build)', () => {
    writeFileSync(join(dirs.root, 'functions', 'mint.ts'), 'export const v = 2;\n');
    expect(bundleProblems(mint, dirs)).toEqual(['mint: functions/mint.ts changed since the build']);
  });

  it('refuses a bundle whose source is gone, a bundle changed after the build, and a missing bundle', () => {
    rmSync(join(dirs.root, 'functions', 'mint.ts'));
    expect(bundleProblems(mint, dirs)).toEqual(['mint: functions/mint.ts changed since the build']);
    writeFileSync(bundlePath('mint', dirs.bundleDir), 'const v=3;\n');
    expect(bundleProblems(mint, dirs)).toEqual([
      'mint: dist/functions/mint/index.mjs changed after it was built',
    ]);
    rmSync(bundlePath('mint', dirs.bundleDir));
    expect(bundleProblems(mint, dirs)).toEqual(['mint: dist/functions/mint/index.mjs is missing']);
  });

  it('refuses a bundle without a manifest (built before this check existed)', () => {
    rmSync(manifestPath('mint', dirs.metaDir));
    expect(bundleProblems(mint, dirs)).toEqual([
      'mint: dist/meta/mint.sources.json is missing (a build older than this check)',
    ]);
  });

  it('does not depend on modification times: touching a source without changing it is fine', () => {
    writeFileSync(join(dirs.root, 'functions', 'mint.ts'), 'export const v = 1;\n');
    expect(bundleProblems(mint, dirs)).toEqual([]);
  });
});
