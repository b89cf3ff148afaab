/**
 * Issue #12 point 7: cold init of each Lambda bundle with the AWS SDK left to the runtime (as deployed
 * before: `@aws-sdk/*` and `@smithy/*` resolved from node_modules, as the nodejs22.x runtime resolves them
 * from /var/runtime/node_modules) against the same bundle with the SDK inside (as deployed now), measured as
 * bench/coldInit.ts does: a fresh `node` per sample, import time of the module, interleaved runs.
 *
 *   npx tsx bench/sdkBundling.ts [runs]      # default 15 runs per variant
 */
import { build } from 'esbuild';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleOptions, lambdaNames } from '../scripts/build';
import { figures, RUNNER, sample, WORK_DIR, type InitSample } from './coldInit';

const VARIANTS = ['provided', 'bundled'] as const;
type Variant = (typeof VARIANTS)[number];

export interface SdkBundlingRow {
  name: string;
  variant: Variant;
  kb: number;
  importMedian: number;
  importP90: number;
}

export async function measureSdkBundling(runs: number, names = lambdaNames()): Promise<SdkBundlingRow[]> {
  const dir = join(WORK_DIR, 'sdk');
  mkdirSync(dir, { recursive: true });
  const runner = join(WORK_DIR, 'init-runner.mjs');
  writeFileSync(runner, RUNNER);
  const modules: { name: string; variant: Variant; path: string }[] = [];
  for (const name of names) {
    for (const variant of VARIANTS) {
      const path = join(dir, variant, name, 'index.mjs');
      await build({ ...bundleOptions(name, path, { bundleSdk: variant === 'bundled' }), metafile: false });
      modules.push({ name, variant, path });
    }
  }
  const samples = new Map<string, InitSample[]>(modules.map((m) => [m.path, []]));
  for (const { path } of modules) sample(runner, path); // warm-up: the OS file cache
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < modules.length; i++) {
      const { path } = modules[(i + run) % modules.length]!;
      samples.get(path)!.push(sample(runner, path));
    }
  }
  return modules.map(({ name, variant, path }) => {
    const figure = figures(`${name} ${variant}`, path, samples.get(path)!);
    return {
      name,
      variant,
      kb: Math.round(statSync(path).size / 1024),
      importMedian: Math.round(figure.importMedian * 10) / 10,
      importP90: Math.round(figure.importP90 * 10) / 10,
    };
  });
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 15);
  measureSdkBundling(runs).then(
    (rows) => {
      console.log(
        `cold init, ${runs} runs per variant (median / p90 ms of the import), node ${process.version}`,
      );
      console.log('| handler | SDK | bundle KB | import median ms | import p90 ms |');
      console.log('| --- | --- | ---: | ---: | ---: |');
      for (const row of rows)
        console.log(`| ${row.name} | ${row.variant} | ${row.kb} | ${row.importMedian} | ${row.importP90} |`);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
