/**
 * `otp enroll`: creates the second factor's seed, shows it as an otpauth URI and a terminal QR code, checks a
 * code from the authenticator, then stores it: locally in the data folder file the server reads
 * (`--data-dir`), on AWS in the TOTP seed secret (PutSecretValue). The seed goes to the terminal only, never
 * to a log: on anything but a terminal it is printed only with `--show-secret`.
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { URI } from 'otpauth';
import QRCode from 'qrcode';
import { createOtpSeed } from '../../../functions/core/otp';
import { TOTP_SEED_FILE, writeLocalTotpSeed } from '../../../functions/local/adminSecrets';
import { stackOutputs } from '../api/endpoint';
import type { Context } from '../context';
import { CliError, EXIT, UsageError } from '../errors';
import { note, printJson, printLine } from '../output';
import { otpCode } from '../otp';
import type { Act } from '../program';

/** The stack output with the ARN of the TOTP seed secret (infra/index.ts). */
export const SEED_SECRET_OUTPUT = 'adminTotpSecretArn';

export function registerOtpCommands(program: Command, act: Act): void {
  program
    .command('otp')
    .description('the second factor of sensitive admin operations')
    .command('enroll')
    .description('create the TOTP seed, show it as a QR code, and store it (replaces the current one)')
    .option('--secret-id <arn>', `the seed's secret on AWS (default: the stack output ${SEED_SECRET_OUTPUT})`)
    .option('--label <name>', 'the account name your authenticator shows', 'admin')
    .option(
      '--force',
      'replace a seed that is already enrolled (every authenticator of the old one stops working)',
    )
    .option('--show-secret', 'print the seed even when stdout is not a terminal (it would end up in a log)')
    .action(act(enroll));
}

async function enroll(context: Context, _args: string[], options: Record<string, unknown>) {
  const { io } = context;
  if (!io.stdout.isTTY && !options.showSecret) {
    throw new UsageError(
      'otp enroll prints the seed: run it in a terminal, or pass --show-secret to print it here.',
    );
  }
  const target = await seedTarget(context, options);
  if (target.exists && !options.force) {
    throw new UsageError(`A seed is already enrolled (${target.where}): pass --force to replace it.`);
  }
  // The server's own seed maker, so the CLI and the broker agree on the algorithm, digits and period.
  const { secret: seed, uri } = createOtpSeed({ account: options.label as string });
  if (context.json) {
    printJson(io, { otpauthUri: uri, storedIn: target.where });
  } else {
    printLine(io, await QRCode.toString(uri, { type: 'terminal', small: true }));
    printLine(io, `Scan it with your authenticator app, or enter this URI:\n${uri}\n`);
  }
  // On a terminal, a code from the authenticator proves it was scanned before the old seed is replaced.
  if (io.stdin.isTTY && io.stderr.isTTY) {
    const code = await otpCode(context, undefined, 'confirm the enrollment');
    if (URI.parse(uri).validate({ token: code, window: 1 }) === null) {
      throw new CliError(
        'That code does not match the new seed; nothing was stored. Run otp enroll again.',
        EXIT.refused,
      );
    }
  }
  await target.store(seed);
  note(io, `stored in ${target.where}; ${target.takesEffect}`);
}

interface SeedTarget {
  where: string;
  /** When the broker starts asking for codes of the new seed. */
  takesEffect: string;
  exists: boolean | undefined;
  store(seed: string): Promise<void>;
}

async function seedTarget(context: Context, options: Record<string, unknown>): Promise<SeedTarget> {
  const dataDir = context.options.dataDir;
  if (dataDir !== undefined) {
    if (options.secretId !== undefined)
      throw new UsageError('Give --data-dir (local) or --secret-id (AWS), not both.');
    if (!isDirectory(dataDir)) {
      throw new UsageError(`${dataDir} is not a data folder: start the broker (npm start) with it first.`);
    }
    const file = join(dataDir, TOTP_SEED_FILE);
    return {
      where: file,
      takesEffect: 'the local broker checks codes against it from now on',
      exists: existsSync(file),
      store: async (seed) => {
        writeLocalTotpSeed(dataDir, seed);
      },
    };
  }
  const secretId = (options.secretId as string | undefined) ?? (await seedSecretFromStack(context));
  const { DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient } =
    await import('@aws-sdk/client-secrets-manager');
  const region = context.options.region ?? /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(secretId)?.[1];
  const client = new SecretsManagerClient({
    ...(region ? { region } : {}),
    ...(context.options.profile ? { profile: context.options.profile } : {}),
  });
  let exists: boolean | undefined;
  try {
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    exists = Object.values(described.VersionIdsToStages ?? {}).some((stages) =>
      stages.includes('AWSCURRENT'),
    );
  } catch {
    // Operators may hold PutSecretValue only: then whether one was enrolled cannot be told.
    exists = undefined;
  }
  return {
    where: secretId,
    // The admin function caches the seed for a minute (functions/adapters/secrets.ts).
    takesEffect: 'the broker checks codes against it within a minute',
    exists,
    store: async (seed) => {
      try {
        await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: seed }));
      } catch (error) {
        // The SDK's message names the secret and the action, never the value.
        throw new CliError(`PutSecretValue on ${secretId} failed: ${(error as Error).message}`, EXIT.failed);
      }
    },
  };
}

async function seedSecretFromStack(context: Context): Promise<string> {
  const outputs = await stackOutputs(
    context.options.stack,
    context.env,
    'pass --secret-id <arn> (or --data-dir),',
  );
  const arn = outputs[SEED_SECRET_OUTPUT];
  if (typeof arn !== 'string') {
    throw new UsageError(`The Pulumi stack has no ${SEED_SECRET_OUTPUT} output: pass --secret-id <arn>.`);
  }
  return arn;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
