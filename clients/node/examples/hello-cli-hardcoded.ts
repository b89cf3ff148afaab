/**
 * The twin of hello-cli.ts WITHOUT the broker client: the write token and the ingest URL come from the
 * environment, as they would if the author had baked a token into the package (what the broker exists to
 * avoid). Same work, same span, same OpenTelemetry setup (./tracing.ts), so `npm run bench` can compare
 * the startup time of the two and attribute the difference to the client alone.
 *
 *   HELLO_WRITE_TOKEN=<token> HELLO_INGEST_URL=http://127.0.0.1:8787/dev-logfire \
 *     node_modules/.bin/tsx clients/node/examples/hello-cli-hardcoded.ts world --exit-code 0
 */
import { startTracing } from './tracing';

const APP = { name: 'hello-cli', version: '1.0.0' };

function parse(argv: string[]): { name: string; exitCode: number } {
  const command = { name: 'world', exitCode: 0 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--exit-code') command.exitCode = Number(argv[++i]);
    else command.name = argv[i]!;
  }
  return command;
}

async function main(): Promise<void> {
  const command = parse(process.argv.slice(2));
  const budgetMs = Number(process.env.HELLO_BROKER_BUDGET_MS ?? 1500);
  const token = process.env.HELLO_WRITE_TOKEN;
  const startedAt = Date.now();

  console.log(`Hello, ${command.name}!`);
  process.exitCode = command.exitCode;

  if (!token || !process.env.HELLO_INGEST_URL) return;
  const tracing = startTracing({
    tracesUrl: `${process.env.HELLO_INGEST_URL}/v1/traces`,
    headers: async () => ({ Authorization: token }),
    resource: { 'service.name': APP.name, 'service.version': APP.version },
    budgetMs,
  });
  tracing.recordSpan('hello', startedAt, { 'hello.name': command.name, 'hello.exit_code': command.exitCode });
  // The same bound the client's flush() applies, so both twins wait for the export alike.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    // A failed export must not fail the CLI, as with the client's flush().
    tracing.shutdown().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, budgetMs).unref())),
  ]);
  clearTimeout(timer);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
