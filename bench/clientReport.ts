/** The client library section of docs/benchmarks.md. Pure: everything it prints is passed in. */
import { MAX_STARTUP_RATIO, clientPasses, type ClientBenchResult } from './clientLibrary';
import { fmt, median, percentile } from './stats';
import { startupTable } from './startupTwins';

const COMMAND = '`npm run bench`';
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const us = (ms: number) => fmt(ms * 1000);

/** The names of the client targets this run missed. */
export function clientFailures(result: ClientBenchResult): string[] {
  if (clientPasses(result)) return [];
  const { startup, getWriteToken } = result;
  return [
    ...(startup.ratio > MAX_STARTUP_RATIO ? ['startup of the example CLI with the client'] : []),
    ...(startup.failures.length ? [`${startup.failures.length} failed example CLI runs`] : []),
    ...(startup.brokerRequests ? ['broker requests from warm-cache CLI runs'] : []),
    ...(startup.batches !== 2 * startup.withClient.length
      ? ['spans of the example CLI runs reaching the dev upstream']
      : []),
    ...(getWriteToken.networkCalls ? ['network calls from warm-cache getWriteToken()'] : []),
  ];
}

export function clientSection(result: ClientBenchResult, sectionNumber: number): string[] {
  const { bundle, getWriteToken: token, startup } = result;
  return [
    `## ${sectionNumber}. Client library (clients/node/)`,
    '',
    'bench/clientLibrary.ts. **Bundle**: esbuild of `clients/node/src/index.ts`, minified CommonJS for Node 20, with',
    'every dependency inlined (what a CLI author who bundles ships); Node built-ins are not counted.',
    '',
    row(['bundle', 'size KB', 'gzip KB', 'what is in it (KB in bundle)', 'command']),
    row(['---', '--:', '--:', '---', '---']),
    row([
      '`clients/node/src/index.ts`, minified, dependencies included',
      kb(bundle.bytes),
      kb(bundle.gzipBytes),
      bundle.modules.map((m) => `${m.module} ${kb(m.bytes)}`).join(', '),
      COMMAND,
    ]),
    '',
    `**Warm-cache \`getWriteToken()\`**, in the bench process, ${token.freshClient.length} calls each, after a first`,
    'call minted from a local broker and wrote the cache file. "New client" builds a client and calls once, as',
    'every CLI run does (the cache file is read and parsed); "same client" calls again on one client. Every',
    `call went through a counting \`fetch\`: ${token.networkCalls} network calls were made by the timed calls.`,
    '',
    row(['call', 'calls', 'median µs', 'p99 µs', 'network calls', 'command']),
    row(['---', '--:', '--:', '--:', '--:', '---']),
    row([
      'new client, then `getWriteToken()`',
      token.freshClient.length,
      us(median(token.freshClient)),
      us(percentile(token.freshClient, 99)),
      token.networkCalls,
      COMMAND,
    ]),
    row([
      '`getWriteToken()` again on the same client',
      token.sameClient.length,
      us(median(token.sameClient)),
      us(percentile(token.sameClient, 99)),
      token.networkCalls,
      COMMAND,
    ]),
    '',
    '**Startup of the example CLI.** `clients/node/examples/hello-cli.ts` (broker client, warm cache) against',
    '`clients/node/examples/hello-cli-hardcoded.ts` (the same CLI with its write token in the environment, no client),',
    'both bundled by esbuild the same way (OpenTelemetry SDK and OTLP/protobuf exporter included) and run as',
    `fresh \`node\` processes, ${startup.withClient.length} each, interleaved with the order alternating, after`,
    'one first run (notice, mint) and three warm-ups. Each run greets, records one span and exports it',
    '(OTLP/protobuf) to the dev upstream of `npm start` before it exits; the time is spawn to exit. A counting',
    `proxy in front of the broker's API saw ${startup.brokerRequests} requests during the timed runs (no mint,`,
    `heartbeat or refresh), and the dev upstream logged ${startup.batches} trace batches for the`,
    `${startup.withClient.length + startup.hardcoded.length} timed runs.`,
    '',
    ...startupTable(startup, 'hello-cli', MAX_STARTUP_RATIO, clientPasses(result)),
    '',
    'The difference in milliseconds is what the client adds to any CLI with a warm cache; the ratio depends on',
    'the rest of the CLI (here Node start-up, the OpenTelemetry SDK and one export over loopback).',
    '',
    ...(startup.failures.length
      ? ['Failed runs:', '', ...startup.failures.map((failure) => `- ${failure}`), '']
      : []),
  ];
}
