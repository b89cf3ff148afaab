/**
 * Measures identity stamping for docs/relay-stamping.md: the esbuild-minified size of
 * functions/relay/stampIdentity.ts with its dependencies, its load and first-call time in a fresh Node
 * process, and the time to stamp a 100-span batch as the real exporters send it (median of many runs).
 * Run: `npx tsx test/relay-stamping.bench.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { stampIdentity } from '../functions/relay/stampIdentity';
import { runTraceExporter, startOtlpServer, type ExporterFormat } from './support/otlpExporters';

const ENTRY = join(__dirname, '..', 'functions', 'relay', 'stampIdentity.ts');
const RUNS = 500;
const identity = { installId: 'install-5d6e7f80', serviceName: 'mycli', serviceVersion: '2.4.1' };

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    platform: 'node',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const code = result.outputFiles[0]!.text;
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const name = path.includes('node_modules/') ? path.split('node_modules/')[1]!.split('/')[0]! : path;
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const heaviest = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 4);
  console.log(`bundle: ${code.length} bytes minified, ${gzipSync(code).length} gzipped`);
  console.log(
    `  heaviest: ${heaviest.map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KB`).join(', ')}`,
  );
  return code;
}

/** Load and first stamp in a fresh process (what a cold Lambda pays on top of Node itself). */
function coldStart(code: string, body: Buffer): void {
  const dir = mkdtempSync(join(tmpdir(), 'stamp-bench-'));
  try {
    writeFileSync(join(dir, 'bundle.js'), code);
    writeFileSync(join(dir, 'body.bin'), body);
    const probe = `
      const t0 = process.hrtime.bigint();
      const { stampIdentity } = require('./bundle.js');
      const t1 = process.hrtime.bigint();
      stampIdentity('traces', { bytes: require('fs').readFileSync('./body.bin'), contentType: 'application/x-protobuf' },
        ${JSON.stringify(identity)});
      const t2 = process.hrtime.bigint();
      console.log(JSON.stringify({ load: Number(t1 - t0) / 1e6, first: Number(t2 - t1) / 1e6 }));`;
    const samples = Array.from({ length: 15 }, () =>
      JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: dir, encoding: 'utf8' })),
    ) as Array<{ load: number; first: number }>;
    console.log(
      `cold: load ${median(samples.map((s) => s.load)).toFixed(1)} ms, first stamp ${median(samples.map((s) => s.first)).toFixed(1)} ms (medians of 15 processes)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A 100-span batch exactly as the real exporter of that format sends it. */
async function capturedBatch(format: ExporterFormat, gzip: boolean) {
  let captured: { bytes: Buffer; contentType: string; contentEncoding?: string } | undefined;
  const server = await startOtlpServer((request) => {
    captured = {
      bytes: request.body,
      contentType: request.headers['content-type'] ?? '',
      contentEncoding: request.headers['content-encoding'],
    };
    return format === 'json'
      ? { status: 200, contentType: 'application/json', body: Buffer.from('{}') }
      : { status: 200, contentType: 'application/x-protobuf', body: Buffer.alloc(0) };
  });
  try {
    const resource = { 'service.name': 'mycli', 'service.version': '2.4.1', 'host.arch': 'x64' };
    await runTraceExporter({ format, gzip, url: `${server.url}/v1/traces`, resource, spans: 100 });
  } finally {
    await server.close();
  }
  return captured!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const code = await bundle();
  for (const format of ['protobuf', 'json'] as ExporterFormat[]) {
    for (const gzip of [false, true]) {
      const body = await capturedBatch(format, gzip);
      if (format === 'protobuf' && !gzip) coldStart(code, body.bytes);
      for (let warm = 0; warm < 50; warm += 1) stampIdentity('traces', body, identity);
      const times = Array.from({ length: RUNS }, () => {
        const started = process.hrtime.bigint();
        stampIdentity('traces', body, identity);
        return Number(process.hrtime.bigint() - started) / 1e6;
      });
      const sorted = [...times].sort((a, b) => a - b);
      console.log(
        `${format}${gzip ? ' + gzip' : ''}: 100 spans, ${body.bytes.length} bytes: median ${median(times).toFixed(3)} ms, p95 ${sorted[Math.floor(RUNS * 0.95)]!.toFixed(3)} ms (${RUNS} runs)`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
