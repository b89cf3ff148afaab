/** The Python client library section of docs/benchmarks.md. Pure: everything it prints is passed in. */
import { MAX_PYTHON_STARTUP_RATIO, pythonClientPasses, type PythonClientBenchResult } from './pythonClient';
import { fmt, median, percentile } from './stats';
import { startupTable } from './startupTwins';

const COMMAND = '`npm run bench`';
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const us = (ms: number) => fmt(ms * 1000);

/** The names of the Python client targets this run missed. */
export function pythonClientFailures(result: PythonClientBenchResult | undefined): string[] {
  if (!result || pythonClientPasses(result)) return [];
  const { startup, writeToken } = result;
  return [
    ...(startup.ratio > MAX_PYTHON_STARTUP_RATIO
      ? ['startup of the Python example CLI with the client']
      : []),
    ...(startup.failures.length ? [`${startup.failures.length} failed Python example CLI runs`] : []),
    ...(startup.brokerRequests ? ['broker requests from warm-cache Python CLI runs'] : []),
    ...(startup.batches !== 2 * startup.withClient.length
      ? ['spans of the Python CLI runs reaching the dev upstream']
      : []),
    ...(writeToken.networkCalls ? ['network calls from warm-cache write_token()'] : []),
  ];
}

export function pythonClientSection(
  result: PythonClientBenchResult | undefined,
  sectionNumber: number,
): string[] {
  if (!result) return [];
  const { importMs, writeToken, startup } = result;
  return [
    `## ${sectionNumber}. Python client library (clients/python/)`,
    '',
    `bench/pythonClient.ts, ${result.python}, bytecode compiled (as after \`pip install\`). **Import**: \`import`,
    `logfire_broker_client\` in ${importMs.length} fresh processes (the network modules load only when a run`,
    `needs the broker). **Warm-cache \`write_token()\`**: a new client per call, ${writeToken.freshClient.length} calls`,
    `after a first call minted from a local broker; ${writeToken.networkCalls} network calls by the timed calls.`,
    '',
    row(['measure', 'samples', 'median', 'p99', 'command']),
    row(['---', '--:', '--:', '--:', '---']),
    row(['import time (ms)', importMs.length, fmt(median(importMs)), fmt(percentile(importMs, 99)), COMMAND]),
    row([
      'new client, then `write_token()` (µs)',
      writeToken.freshClient.length,
      us(median(writeToken.freshClient)),
      us(percentile(writeToken.freshClient, 99)),
      COMMAND,
    ]),
    '',
    '**Startup of the example CLI.** `clients/python/examples/hello_cli.py` (broker client, warm cache) against',
    '`hello_cli_hardcoded.py` (the same argparse CLI and OTLP/JSON exporter with its token in the environment),',
    `fresh \`python3\` processes, ${startup.withClient.length} each, interleaved, after one first run and three`,
    'warm-ups; each sends its span to the dev upstream of `npm start` before it exits (spawn to exit). The',
    `counting proxy saw ${startup.brokerRequests} broker requests during the timed runs; the dev upstream logged`,
    `${startup.batches} trace batches for ${startup.withClient.length + startup.hardcoded.length} timed runs.`,
    '',
    ...startupTable(startup, 'hello_cli', MAX_PYTHON_STARTUP_RATIO, pythonClientPasses(result)),
    '',
    ...(startup.failures.length ? ['Failed runs:', '', ...startup.failures.map((f) => `- ${f}`), ''] : []),
  ];
}
