/**
 * One Lambda per handler of infra/handlers.ts, from the bundles `npm run build` writes: its own log group
 * (retention set, JSON logs), its own role with ONE inline policy built by infra/policies.ts, and an
 * environment of names, ARNs and settings only. The credential stays in Secrets Manager (R1).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { existsSync } from 'node:fs';
import { formatDuration } from '../functions/config';
import type { RouteName } from '../functions/http/routes';
import { BUNDLE_DIR, bundlePath, type HandlerSpec } from './handlers';
import { assumeRolePolicy, functionPolicy } from './policies';
import { API_TIMEOUT_LIMIT_SECONDS } from './settings';

export interface FunctionsArgs {
  handlers: readonly HandlerSpec[];
  /** Function names are `<namePrefix>-<handler>`, log groups `/aws/lambda/<function name>`. */
  namePrefix: string;
  /**
   * The same for every function (infra/environment.ts lambdaEnvironment); each function also gets its own
   * timeout as `BROKER_FUNCTION_TIMEOUT`, from which it derives its Logfire time budget.
   */
  environment: Record<string, pulumi.Input<string>>;
  tokensTableArn: pulumi.Input<string>;
  auditTableArn: pulumi.Input<string>;
  upstreamSecretArn: pulumi.Input<string>;
  /** The admin TOTP seed's secret: readable by, and named in the environment of, the admin function only. */
  adminTotpSeedArn?: pulumi.Input<string>;
  kmsKeyArn?: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** By handler name; a handler not named runs on the account's unreserved pool. */
  reservedConcurrency: Record<string, number>;
  logRetentionDays: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Where the bundles are; defaults to dist/functions. */
  bundleDir?: string;
}

export interface DeployedFunction {
  spec: HandlerSpec;
  fn: aws.lambda.Function;
  role: aws.iam.Role;
  policy: aws.iam.RolePolicy;
  logGroup: aws.cloudwatch.LogGroup;
}

export class Functions extends pulumi.ComponentResource {
  /** By handler name. */
  readonly byName: Record<string, DeployedFunction> = {};

  constructor(name: string, args: FunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:functions:Functions', name, {}, opts);
    const { handlers, reservedConcurrency } = args;
    validate(handlers, args.timeoutSeconds, reservedConcurrency);

    for (const spec of handlers) this.byName[spec.name] = this.deploy(name, spec, args);
    this.registerOutputs({
      functionNames: Object.fromEntries(
        Object.entries(this.byName).map(([key, value]) => [key, value.fn.name]),
      ),
    });
  }

  /** The function serving each API route, for the Api component. */
  routeFunctions(): Record<RouteName, aws.lambda.Function> {
    const routes: Partial<Record<RouteName, aws.lambda.Function>> = {};
    for (const { spec, fn } of Object.values(this.byName))
      for (const route of spec.routes) routes[route] = fn;
    return routes as Record<RouteName, aws.lambda.Function>;
  }

  private deploy(name: string, spec: HandlerSpec, args: FunctionsArgs): DeployedFunction {
    const parent = { parent: this };
    const functionName = `${args.namePrefix}-${spec.name}`;
    const timeoutSeconds = spec.timeoutSeconds ?? args.timeoutSeconds;
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-${spec.name}-logs`,
      {
        name: `/aws/lambda/${functionName}`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.kmsKeyArn,
      },
      parent,
    );
    const role = new aws.iam.Role(
      `${name}-${spec.name}-role`,
      {
        description: `logfire-broker ${spec.name} function`,
        assumeRolePolicy: JSON.stringify(assumeRolePolicy('lambda.amazonaws.com')),
      },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-${spec.name}-policy`,
      {
        role: role.name,
        policy: pulumi
          .all([
            args.tokensTableArn,
            args.auditTableArn,
            args.upstreamSecretArn,
            logGroup.arn,
            args.adminTotpSeedArn,
          ])
          .apply(([tokensTable, auditTable, upstreamSecret, logGroupArn, adminTotpSeed]) =>
            JSON.stringify(
              functionPolicy(spec, {
                tokensTable,
                auditTable,
                upstreamSecret,
                adminTotpSeed: spec.readsAdminTotpSeed ? adminTotpSeed : undefined,
                logGroup: logGroupArn,
                kmsKey: args.kmsKeyArn,
              }),
            ),
          ),
      },
      parent,
    );
    const fn = new aws.lambda.Function(
      `${name}-${spec.name}`,
      {
        name: functionName,
        description: `logfire-broker: ${spec.description}`,
        role: role.arn,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ['arm64'],
        handler: 'index.handler',
        code: new pulumi.asset.AssetArchive({
          'index.mjs': new pulumi.asset.FileAsset(bundlePath(spec.name, args.bundleDir ?? BUNDLE_DIR)),
        }),
        memorySize: spec.memoryMb ?? args.memoryMb,
        timeout: timeoutSeconds,
        reservedConcurrentExecutions: args.reservedConcurrency[spec.name],
        // The timeout, so a slow Logfire ends in a 503 and not in a timeout between create and store.
        environment: {
          variables: {
            ...args.environment,
            BROKER_FUNCTION_TIMEOUT: formatDuration(timeoutSeconds * 1000),
            ...(spec.readsAdminTotpSeed && args.adminTotpSeedArn
              ? { BROKER_ADMIN_TOTP_SECRET_ID: args.adminTotpSeedArn }
              : {}),
          },
        },
        loggingConfig: {
          logFormat: 'JSON',
          logGroup: logGroup.name,
          // The same level the code logs at (BROKER_LOG_LEVEL), so Lambda's filter drops nothing it writes.
          applicationLogLevel: args.logLevel,
          systemLogLevel: 'INFO',
        },
      },
      // The policy first: a function invoked before its role can write logs loses its first lines.
      { parent: this, dependsOn: [policy, logGroup] },
    );
    return { spec, fn, role, policy, logGroup };
  }
}

/**
 * The bundles that `npm run build` has not written (yet): `pulumi up` would deploy nothing useful.
 * @example missingBundles(HANDLERS) // [] after a build
 */
export function missingBundles(handlers: readonly HandlerSpec[], dir = BUNDLE_DIR): string[] {
  return handlers.map((spec) => bundlePath(spec.name, dir)).filter((path) => !existsSync(path));
}

function validate(
  handlers: readonly HandlerSpec[],
  timeoutSeconds: number,
  reserved: Record<string, number>,
) {
  const names = new Set<string>();
  const routes = new Set<string>();
  for (const spec of handlers) {
    if (names.has(spec.name)) throw new Error(`Functions: two handlers are named "${spec.name}"`);
    names.add(spec.name);
    for (const route of spec.routes) {
      if (routes.has(route)) throw new Error(`Functions: route "${route}" is served by two handlers`);
      routes.add(route);
    }
    const timeout = spec.timeoutSeconds ?? timeoutSeconds;
    if (spec.routes.length > 0 && timeout > API_TIMEOUT_LIMIT_SECONDS) {
      throw new Error(
        `Functions: ${spec.name} serves API routes, so its timeout must be at most 29 s, got ${timeout}`,
      );
    }
  }
  for (const name of Object.keys(reserved)) {
    if (!names.has(name))
      throw new Error(`Functions: reservedConcurrency names "${name}", which is not a handler`);
  }
}
