/**
 * hello-cli: the smallest command-line tool that sends its telemetry to Logfire through the broker. It
 * greets, records one span ("hello") and exports it with the write token the broker client holds for this
 * installation. Telemetry never changes what the CLI prints on stdout or the exit code it returns, and
 * never holds it longer than the client's time budget.
 *
 * Run it against `npm start` (the dev upstream prints one line per batch it receives):
 *
 *   HELLO_BROKER_URL=http://127.0.0.1:8787 node_modules/.bin/tsx clients/node/examples/hello-cli.ts world
 *   node_modules/.bin/tsx clients/node/examples/hello-cli.ts world --exit-code 3   # exits 3, telemetry or not
 *   node_modules/.bin/tsx clients/node/examples/hello-cli.ts telemetry disable     # or enable, status
 *   node_modules/.bin/tsx clients/node/examples/hello-cli.ts telemetry reset       # revokes the token, forgets it
 *
 * Environment: HELLO_BROKER_URL (default http://127.0.0.1:8787), HELLO_BROKER_BUDGET_MS (default 1500),
 * and the client's conventions: DO_NOT_TRACK=1 or HELLO_CLI_TELEMETRY=0 turn telemetry off,
 * HELLO_CLI_TELEMETRY_DEBUG=1 prints the span instead of sending it.
 *
 * This file uses the plain OpenTelemetry SDK (./tracing.ts). With `@pydantic/logfire-node` the whole
 * integration is two lines:
 *
 *   const client = createBrokerClient({ brokerUrl, app: { name: 'hello-cli', version: '1.0.0' } });
 *   logfire.configure({ ...(await client.logfireOptions()) });
 *
 * (`logfireOptions()` gives `token` as a function, which Logfire re-reads at each export, the matching
 * `advanced.baseUrl`, and the resource attributes; flush at exit with
 * `await client.flush(() => logfire.forceFlush())`.)
 */
import { createBrokerClient, type BrokerClient } from '../src';
import { startTracing, type Tracing } from './tracing';

const APP = { name: 'hello-cli', version: '1.0.0' };
const USAGE = 'usage: hello-cli [name] [--exit-code N] | hello-cli telemetry enable|disable|status|reset';

interface Command {
  kind: 'greet' | 'telemetry';
  name: string;
  exitCode: number;
  telemetry?: 'enable' | 'disable' | 'status' | 'reset';
}

function parse(argv: string[]): Command | string {
  if (argv[0] === 'telemetry') {
    const sub = argv[1];
    if (sub !== 'enable' && sub !== 'disable' && sub !== 'status' && sub !== 'reset') return USAGE;
    return { kind: 'telemetry', name: '', exitCode: 0, telemetry: sub };
  }
  const command: Command = { kind: 'greet', name: 'world', exitCode: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--exit-code') {
      const code = Number(argv[++i]);
      if (!Number.isInteger(code) || code < 0 || code > 255) return USAGE;
      command.exitCode = code;
    } else if (arg.startsWith('-')) {
      return USAGE;
    } else {
      command.name = arg;
    }
  }
  return command;
}

/**
 * Everything telemetry needs, or undefined when it is off for this run (opted out, notice not shown
 * yet, broker unreachable within the budget…). Never throws: the client's calls do not.
 */
async function setUpTracing(client: BrokerClient, budgetMs: number): Promise<Tracing | undefined> {
  if (!client.enabled) return undefined;
  const token = await client.getWriteToken();
  const baseUrl = token === undefined ? undefined : await client.getIngestBaseUrl();
  if (token !== undefined && baseUrl !== undefined) {
    return startTracing({
      tracesUrl: `${baseUrl}/v1/traces`,
      // Read at every export: the client hands out the current token (it may refresh it).
      headers: async () => ({ Authorization: (await client.getWriteToken()) ?? token }),
      resource: await client.resourceAttributes(),
      budgetMs,
      // The broker operator's sample rate for this app and version (1 unless a rule says otherwise).
      sampleRate: await client.traceSampleRate(),
    });
  }
  // HELLO_CLI_TELEMETRY_DEBUG=1 is a dry run (no token, no network): print the span instead.
  if (client.debug) {
    return startTracing({
      tracesUrl: '',
      headers: async () => ({}),
      resource: await client.resourceAttributes(),
      budgetMs,
      debug: process.stderr,
    });
  }
  return undefined;
}

async function main(): Promise<void> {
  const command = parse(process.argv.slice(2));
  if (typeof command === 'string') {
    console.error(command);
    process.exitCode = 2;
    return;
  }
  const budgetMs = Number(process.env.HELLO_BROKER_BUDGET_MS ?? 1500);
  const client = createBrokerClient({
    brokerUrl: process.env.HELLO_BROKER_URL ?? 'http://127.0.0.1:8787',
    app: APP,
    budgetMs,
  });

  if (command.kind === 'telemetry') {
    if (command.telemetry === 'reset') {
      await client.reset();
      console.log('telemetry token revoked and forgotten');
      return;
    }
    if (command.telemetry === 'disable') client.disable();
    if (command.telemetry === 'enable') client.enable();
    console.log(`telemetry is ${client.enabled ? 'enabled' : 'disabled'}`);
    return;
  }

  // First: the notice (once per user), before any telemetry leaves the machine.
  client.noticeOnce();
  const startedAt = Date.now();
  // Token lookup runs while the CLI works; on a warm cache it is a file read.
  const tracing = setUpTracing(client, budgetMs);

  // The CLI's own work.
  console.log(`Hello, ${command.name}!`);
  process.exitCode = command.exitCode;

  const ready = await tracing;
  if (ready) {
    ready.recordSpan('hello', startedAt, { 'hello.name': command.name, 'hello.exit_code': command.exitCode });
    // Sends the span; gives up after the budget rather than keep the user waiting.
    await client.flush(() => ready.shutdown());
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
