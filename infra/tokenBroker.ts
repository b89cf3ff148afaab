/**
 * The whole broker as one component, one child per concern, in dependency order: storage and the
 * upstream secret, the functions that use them, the API in front of the functions, the schedules that run
 * the jobs, the firewall on the API stage, and the monitoring of all of it (DESIGN §2).
 */
import * as pulumi from '@pulumi/pulumi';
import { Api } from './api';
import { Functions, type DeployedFunction } from './functions';
import { routesFor } from '../functions/http/routes';
import {
  HANDLERS,
  SCHEDULES,
  deployedHandlers,
  handlerNamed,
  type HandlerSpec,
  type ScheduleSpec,
} from './handlers';
import { Monitoring } from './monitoring';
import { Schedules } from './schedules';
import { AdminTotpSeedSecret, UpstreamSecret } from './secrets';
import { lambdaEnvironment } from './environment';
import { tableNames, type StackSettings } from './settings';
import { Storage } from './storage';
import { Waf } from './waf';

export interface TokenBrokerArgs {
  settings: StackSettings;
  /** Opt-in: a Pulumi secret the stack writes into the upstream secret (see infra/secrets.ts). */
  upstreamCredential?: pulumi.Input<string>;
  /** Defaults to infra/handlers.ts; tests pass their own. */
  handlers?: readonly HandlerSpec[];
  schedules?: readonly ScheduleSpec[];
  /** Where the Lambda bundles are; defaults to dist/functions. */
  bundleDir?: string;
}

export class TokenBroker extends pulumi.ComponentResource {
  readonly storage: Storage;
  readonly upstreamSecret: UpstreamSecret;
  /** The admin TOTP seed's secret, created empty (`otp enroll` puts the seed). */
  readonly adminTotpSeed: AdminTotpSeedSecret;
  readonly functions: Functions;
  readonly api: Api;
  readonly schedules: Schedules;
  readonly waf: Waf;
  readonly monitoring: Monitoring;
  readonly apiUrl: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: TokenBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:index:TokenBroker', name, {}, opts);
    const { settings, upstreamCredential, schedules = SCHEDULES, bundleDir } = args;
    const handlers = deployedHandlers(settings.ingestMode, args.handlers ?? HANDLERS);
    const parent = { parent: this };
    const names = tableNames(settings);

    this.storage = new Storage(
      `${name}-storage`,
      {
        tokensTableName: names.tokens,
        auditTableName: names.audit,
        kmsKeyArn: settings.kmsKeyArn,
        protect: settings.protect,
      },
      parent,
    );
    this.upstreamSecret = new UpstreamSecret(
      `${name}-upstream`,
      {
        upstreamKind: settings.upstream.kind,
        kmsKeyArn: settings.kmsKeyArn,
        credential: upstreamCredential,
        recoveryWindowInDays: settings.protect ? 30 : 7,
      },
      parent,
    );

    this.adminTotpSeed = new AdminTotpSeedSecret(
      `${name}-admin`,
      { kmsKeyArn: settings.kmsKeyArn, recoveryWindowInDays: settings.protect ? 30 : 7 },
      parent,
    );

    this.functions = new Functions(
      `${name}-fn`,
      {
        handlers,
        namePrefix: settings.namePrefix,
        environment: lambdaEnvironment(settings, {
          tableName: this.storage.tokens.name,
          auditTableName: this.storage.audit.name,
          upstreamSecretId: this.upstreamSecret.arn,
        }),
        tokensTableArn: this.storage.tokens.arn,
        auditTableArn: this.storage.audit.arn,
        upstreamSecretArn: this.upstreamSecret.arn,
        adminTotpSeedArn: this.adminTotpSeed.arn,
        kmsKeyArn: settings.kmsKeyArn,
        memoryMb: settings.lambda.memoryMb,
        timeoutSeconds: settings.lambda.timeoutSeconds,
        reservedConcurrency: settings.lambda.reservedConcurrency,
        logRetentionDays: settings.logRetentionDays,
        logLevel: settings.logLevel,
        bundleDir,
      },
      parent,
    );

    this.api = new Api(
      `${name}-api`,
      {
        functions: this.functions.routeFunctions(),
        routes: routesFor(settings.ingestMode),
        stageName: settings.api.stageName,
        throttle: { rateLimit: settings.api.throttleRateLimit, burstLimit: settings.api.throttleBurstLimit },
        logRetentionDays: settings.logRetentionDays,
        kmsKeyArn: settings.kmsKeyArn,
        manageAccountLogRole: settings.api.manageAccountLogRole,
      },
      parent,
    );

    this.schedules = new Schedules(
      `${name}-schedules`,
      {
        jobs: schedules.map((schedule) => {
          const { fn, role } = this.scheduledFunction(schedule, handlers);
          return {
            name: schedule.name,
            fn,
            role: role.name,
            expression: settings.schedules[schedule.expression],
            description: schedule.description,
          };
        }),
      },
      parent,
    );

    this.waf = new Waf(
      `${name}-waf`,
      {
        stageArn: this.api.stage.arn,
        mintAllowlist: settings.waf.mintAllowlist,
        adminAllowlist: settings.waf.adminAllowlist,
        rateLimit: settings.waf.rateLimit,
        mintRateLimit: settings.waf.mintRateLimit,
        rateWindowSeconds: settings.waf.rateWindowSeconds,
        relay: settings.ingestMode === 'relay',
      },
      parent,
    );

    this.monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        restApiName: this.api.restApi.name,
        stageName: this.api.stage.stageName,
        functions: Object.fromEntries(
          Object.entries(this.functions.byName).map(([key, { fn, logGroup }]) => [key, { fn, logGroup }]),
        ),
        deadLetterQueue: this.schedules.deadLetterQueue,
        alarmEmail: settings.alarms.email,
        mintAlarmPerMinute: settings.alarms.mintPerMinute,
      },
      parent,
    );

    this.apiUrl = this.api.url;
    this.dashboardUrl = this.monitoring.dashboardUrl;
    this.registerOutputs({
      apiUrl: this.apiUrl,
      tokensTableName: this.storage.tokens.name,
      auditTableName: this.storage.audit.name,
      upstreamSecretArn: this.upstreamSecret.arn,
      dashboardUrl: this.dashboardUrl,
    });
  }

  /** A schedule's target: a deployed handler that serves no API route. */
  private scheduledFunction(schedule: ScheduleSpec, handlers: readonly HandlerSpec[]): DeployedFunction {
    const spec = handlerNamed(schedule.handler, handlers);
    if (spec.routes.length > 0) {
      throw new Error(
        `TokenBroker: schedule "${schedule.name}" targets ${spec.name}, which serves API routes`,
      );
    }
    return this.functions.byName[spec.name]!;
  }
}
