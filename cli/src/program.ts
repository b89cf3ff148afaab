/**
 * The `logfire-broker` command line (commander): global options, the command groups, and exit codes that
 * scripts can rely on: 0 ok, 1 failed, 2 usage, 3 refused by policy or by the second factor.
 */
import { Command, CommanderError, Option } from 'commander';
import { registerActivityCommands } from './commands/activity';
import { registerConfigCommands } from './commands/config';
import { registerOtpCommands } from './commands/otp';
import { registerTokenCommands } from './commands/tokens';
import { registerConsoleCommand } from '../../console/server/command';
import { createContext, type Context, type GlobalOptions } from './context';
import { ENDPOINT_ENV } from './api/endpoint';
import { CliError, EXIT, type ExitCode } from './errors';
import type { Io } from './output';
import { version as VERSION } from '../../package.json';

/** A command's work; it returns the exit code when it is not 0 (a per-token outcome that failed). */
export type Handler = (
  context: Context,
  args: string[],
  options: Record<string, unknown>,
) => Promise<ExitCode | void>;

/** Wraps a handler as a commander action. */
export type Act = (handler: Handler) => (...params: unknown[]) => Promise<void>;

/**
 * Runs the CLI with `argv` (without node and the script) and resolves with the exit code.
 * @example process.exitCode = await runCli(process.argv.slice(2), process, process.env);
 */
export async function runCli(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  let exitCode: number = EXIT.ok;
  const act: Act =
    (handler) =>
    async (...params) => {
      const command = params[params.length - 1] as Command;
      const args = params
        .slice(0, -2)
        .flat()
        .filter((arg): arg is string => typeof arg === 'string');
      const context = createContext(io, env, command.optsWithGlobals<GlobalOptions>());
      exitCode = (await handler(context, args, command.opts())) ?? EXIT.ok;
    };

  const program = buildProgram(act, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
  return exitCode;
}

function buildProgram(act: Act, io: Io): Command {
  const program = new Command('logfire-broker')
    .description(
      'Operate a logfire-broker: tokens, bulk jobs, quotas, allowlists, client settings, anomalies, audit.',
    )
    .addOption(
      new Option(
        '--endpoint <url>',
        `the broker's base URL (default: $${ENDPOINT_ENV}, else the Pulumi stack output apiUrl)`,
      ),
    )
    .option(
      '--stack <name>',
      'the Pulumi stack whose outputs give the endpoint (default: the selected stack)',
    )
    .option(
      '--region <region>',
      'the AWS region to sign for (default: from the endpoint host or the AWS config)',
    )
    .option('--profile <name>', 'the AWS profile whose credentials sign the requests')
    .option(
      '--data-dir <dir>',
      "sign with a local broker's admin credentials from its data folder (npm start)",
    )
    .option('--json', 'print the JSON reply (for scripts) instead of a table')
    .version(VERSION, '--version', "the CLI's version")
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  // Subcommands made with .command() inherit the error handling and the output.
  registerTokenCommands(program, act);
  registerConfigCommands(program, act);
  registerActivityCommands(program, act);
  registerOtpCommands(program, act);
  registerConsoleCommand(program, act);
  return program;
}
