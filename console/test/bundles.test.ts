/**
 * The console is an operator's tool: none of it, and none of its front-end stack, may reach what runs in
 * Lambda or what CLI authors install. Read from esbuild's metafiles of the Lambda bundles (written by
 * `npm run build`, which `npm test` runs first) and from a bundle of the Node client built the way its
 * package builds it.
 */
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { META_DIR } from '../../scripts/build';
import { REPO_ROOT } from './browser';

/** The console's own code, the CLI it plugs into, and the packages only they use. */
const CONSOLE_ONLY = [
  /(^|\/)console\//,
  /(^|\/)cli\//,
  /node_modules\/(preact|uplot|vite|playwright-core|commander|qrcode)\//,
];
const CONSOLE_PACKAGES = ['preact', 'uplot', 'vite', 'playwright-core'];

function consoleInputs(inputs: string[]): string[] {
  return inputs.filter((input) => CONSOLE_ONLY.some((pattern) => pattern.test(input)));
}

it('adds nothing to any Lambda bundle', () => {
  if (!existsSync(META_DIR)) throw new Error(`${META_DIR} is missing: run \`npm run build\` first`);
  const metafiles = readdirSync(META_DIR).filter((file) => file.endsWith('.json'));
  expect(metafiles.length).toBeGreaterThan(0);
  for (const file of metafiles) {
    const meta = JSON.parse(readFileSync(join(META_DIR, file), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    expect([file, consoleInputs(Object.keys(meta.inputs))]).toEqual([file, []]);
  }
});

it('adds nothing to the Node client library, neither bundled nor as a dependency', async () => {
  const clientDir = join(REPO_ROOT, 'clients', 'node');
  const result = await build({
    entryPoints: [join(clientDir, 'src', 'index.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
  });
  const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
  expect(consoleInputs(Object.keys(result.metafile.inputs))).toEqual([]);
  expect(imports.filter((path) => CONSOLE_PACKAGES.some((name) => path.startsWith(name)))).toEqual([]);
  const manifest = JSON.parse(readFileSync(join(clientDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  expect(Object.keys(manifest.dependencies ?? {}).filter((name) => CONSOLE_PACKAGES.includes(name))).toEqual(
    [],
  );
});
