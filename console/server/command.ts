/**
 * `logfire-broker console`: starts the console's local server with the CLI's signing client (the same
 * endpoint, region and credentials options as every other command), prints its URL, opens it in the
 * browser unless `--no-open`, and serves until Ctrl-C.
 */
import type { Command } from 'commander';
import type { Context } from '../../cli/src/context';
import { CliError, EXIT } from '../../cli/src/errors';
import { note, printLine } from '../../cli/src/output';
import type { Act } from '../../cli/src/program';
import { AssetsMissing, loadAssets } from './assets';
import { startConsoleServer } from './consoleServer';
import { openBrowser } from './openBrowser';

export function registerConsoleCommand(program: Command, act: Act): void {
  program
    .command('console')
    .description(
      'open the admin console: a web page over the admin API, served on 127.0.0.1 (Ctrl-C stops it)',
    )
    .option('--no-open', 'print the URL without opening a browser')
    .action(act(runConsole));
}

async function runConsole(
  context: Context,
  _args: string[],
  options: Record<string, unknown>,
): Promise<void> {
  let assets;
  try {
    assets = loadAssets();
  } catch (error) {
    if (error instanceof AssetsMissing) throw new CliError(error.message, EXIT.failed);
    throw error;
  }
  const client = await context.client();
  const server = await startConsoleServer({ client, assets, log: (line) => note(context.io, line) });
  printLine(context.io, `logfire-broker console for ${client.endpoint.origin} on ${server.url}`);
  note(context.io, "the URL holds this start's key: keep it to yourself. Ctrl-C stops the console.");
  if (options.open !== false && !(await openBrowser(server.url))) {
    note(context.io, 'no browser could be opened: open the URL above yourself');
  }
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}
