/**
 * The public HTTP front: an API Gateway REST API (REST, not HTTP API, because WAF attaches only to REST
 * stages) whose resources, methods and Lambda proxy integrations are built from the route table the
 * local server uses (functions/http/routes.ts).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { LOG_RETENTION_DAYS } from './validation';
import type { RouteName, RouteSpec } from '../functions/http/routes';
import {
  accessLogFormat,
  GATEWAY_RESPONSES,
  gatewayResponseParameters,
  gatewayResponseTemplate,
} from './apiResponses';
import { accountLogRole } from './accountLogRole';
import { buildRouteTree, deploymentHash, integrationArgs, methodArgs } from './apiRoutes';
import type { AccountLogRoleSetting } from './productionSettings';

/** What a route invokes: a function's `live` alias (infra/functions.ts), so a rollback moves it. */
export interface InvokeTarget {
  invokeArn: pulumi.Input<string>;
  functionName: pulumi.Input<string>;
  /** The alias name; the invoke permission is granted on it alone. */
  qualifier?: pulumi.Input<string>;
}

export interface ApiArgs {
  functions: Record<RouteName, InvokeTarget>;
  stageName: string;
  /** Stage-wide method throttling: steady requests per second and burst (API Gateway's token bucket). */
  throttle: { rateLimit: number; burstLimit: number };
  logRetentionDays: number;
  /** Encrypts the access-log group; the key policy must allow `logs.<region>.amazonaws.com`. */
  kmsKeyArn?: pulumi.Input<string>;
  /** The routes to serve; defaults to ROUTES. Tests pass their own to check admin routes. */
  routes?: readonly RouteSpec[];
  /** API Gateway's account-wide CloudWatch role (infra/accountLogRole.ts); default `auto`. */
  manageAccountLogRole?: AccountLogRoleSetting;
  /** Physical name of that role when this stack creates it; default `<name>-apigw-logs`. */
  accountLogRoleName?: string;
  /** Turns off `https://<id>.execute-api...`: only a custom domain (infra/domain.ts) reaches the API. */
  disableExecuteApiEndpoint?: boolean;
  /** X-Ray tracing on the stage. */
  tracing?: boolean;
}

export class Api extends pulumi.ComponentResource {
  readonly restApi: aws.apigateway.RestApi;
  readonly stage: aws.apigateway.Stage;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super('logfire-broker:index:Api', name, {}, opts);
    const {
      functions,
      stageName,
      throttle,
      logRetentionDays,
      kmsKeyArn,
      routes,
      manageAccountLogRole = 'auto',
      accountLogRoleName = `${name}-apigw-logs`,
      disableExecuteApiEndpoint = false,
      tracing = false,
    } = args;
    validate(stageName, throttle, logRetentionDays);
    const tree = buildRouteTree(routes);
    const parent = { parent: this };
    const binaryMediaTypes = binaryMediaTypesFor(tree.methods.map((method) => method.route));

    this.restApi = new aws.apigateway.RestApi(
      `${name}-rest-api`,
      {
        description: 'logfire-broker: mints and manages Logfire write tokens',
        // REGIONAL: WAF attaches to the stage in this region; an edge-optimized API would hide client IPs
        // behind CloudFront's.
        endpointConfiguration: { types: 'REGIONAL' },
        // With a custom domain, the one URL a CLI should know; the execute-api one would then only be a
        // second way past anything the domain adds.
        disableExecuteApiEndpoint,
        // Binary bodies (the relay's OTLP) reach the Lambdas intact only as binary media types.
        // `minimumCompressionSize` stays unset: with it API Gateway would inflate gzip bodies itself, and
        // the relay forwards them as they came.
        ...(binaryMediaTypes.length ? { binaryMediaTypes } : {}),
      },
      parent,
    );
    const restApi = this.restApi;

    // Resources: parents are declared before children (buildRouteTree's order), shared prefixes once.
    const resourceIds = new Map<string, pulumi.Input<string>>([['/', restApi.rootResourceId]]);
    for (const node of tree.resources) {
      const resource = new aws.apigateway.Resource(
        `${name}-res-${node.slug}`,
        { restApi: restApi.id, parentId: resourceIds.get(node.parentPath)!, pathPart: node.pathPart },
        parent,
      );
      resourceIds.set(node.path, resource.id);
    }

    const dependsOn: pulumi.Resource[] = [];
    const integrationsBySlug: Record<string, pulumi.Output<ReturnType<typeof integrationArgs<string>>>> = {};
    for (const node of tree.methods) {
      const target = functions[node.route.name];
      if (!target)
        throw new Error(
          `Api: no function for route "${node.route.name}" (${node.httpMethod} ${node.resourcePath})`,
        );
      const resourceId = resourceIds.get(node.resourcePath)!;
      const method = new aws.apigateway.Method(
        `${name}-method-${node.slug}`,
        { restApi: restApi.id, resourceId, ...methodArgs(node) },
        parent,
      );
      const integration = new aws.apigateway.Integration(
        `${name}-integration-${node.slug}`,
        { restApi: restApi.id, resourceId, ...integrationArgs(node, target.invokeArn) },
        { parent: this, dependsOn: [method] },
      );
      // Only this API, only this route's method and path may invoke the alias (any stage, so the
      // console's test-invoke works too); never `/*/*`.
      new aws.lambda.Permission(
        `${name}-invoke-${node.slug}`,
        {
          action: 'lambda:InvokeFunction',
          function: target.functionName,
          qualifier: target.qualifier,
          principal: 'apigateway.amazonaws.com',
          sourceArn: pulumi.interpolate`${restApi.executionArn}/*${node.sourceArnPath}`,
        },
        parent,
      );
      dependsOn.push(method, integration);
      integrationsBySlug[node.slug] = pulumi
        .output(target.invokeArn)
        .apply((uri) => integrationArgs(node, uri));
    }

    // API Gateway's own errors in the broker's JSON error shape. They take effect only when deployed,
    // so they are part of the deployment's trigger below.
    for (const spec of GATEWAY_RESPONSES) {
      dependsOn.push(
        new aws.apigateway.Response(
          `${name}-response-${spec.type.toLowerCase().replace(/_/g, '-')}`,
          {
            restApiId: restApi.id,
            responseType: spec.type,
            statusCode: spec.statusCode,
            responseTemplates: { 'application/json': gatewayResponseTemplate(spec) },
            responseParameters: gatewayResponseParameters(spec),
          },
          parent,
        ),
      );
    }

    // A deployment is a snapshot: the hash makes any change of a route, a method or integration argument
    // (the same objects the resources above were given) or a gateway response replace it
    // (create-before-delete), and the stage moves to the new one.
    const deployment = new aws.apigateway.Deployment(
      `${name}-deployment`,
      {
        restApi: restApi.id,
        description: 'Managed by Pulumi (logfire-broker)',
        triggers: {
          redeployment: pulumi.all(integrationsBySlug).apply((integrations) =>
            deploymentHash({
              resources: tree.resources,
              methods: tree.methods.map((node) => ({ slug: node.slug, ...methodArgs(node) })),
              integrations,
              responses: GATEWAY_RESPONSES,
              binaryMediaTypes,
            }),
          ),
        },
      },
      { parent: this, dependsOn },
    );

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { retentionInDays: logRetentionDays, kmsKeyId: kmsKeyArn },
      parent,
    );
    const account = accountLogRole(
      `${name}-account`,
      { setting: manageAccountLogRole, roleName: accountLogRoleName },
      this,
    );

    this.stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        restApi: restApi.id,
        deployment: deployment.id,
        stageName,
        accessLogSettings: { destinationArn: accessLogs.arn, format: accessLogFormat() },
        xrayTracingEnabled: tracing,
      },
      // Access logging fails ("CloudWatch Logs role ARN must be set in account settings") until the
      // account-level role is in place.
      { parent: this, dependsOn: account },
    );

    new aws.apigateway.MethodSettings(
      `${name}-method-settings`,
      {
        restApi: restApi.id,
        stageName: this.stage.stageName,
        methodPath: '*/*',
        settings: {
          metricsEnabled: true,
          throttlingRateLimit: throttle.rateLimit,
          throttlingBurstLimit: throttle.burstLimit,
          // Execution logs go to an unmanaged log group with no retention, and at INFO with data trace
          // they would record request headers (Authorization). The access log above is enough.
          loggingLevel: 'OFF',
          dataTraceEnabled: false,
        },
      },
      parent,
    );

    this.url = this.stage.invokeUrl;
    this.registerOutputs({ restApi: this.restApi, stage: this.stage, url: this.url });
  }
}

/**
 * The API's binary media types: every type (`*\/*`) once a route takes binary bodies, none otherwise.
 * API Gateway decides by Content-Type alone and ignores Content-Encoding, so a gzip-compressed OTLP/JSON
 * export arrives as `application/json`; listing the OTLP types would still mangle it. With every type
 * binary, each body reaches its Lambda base64-encoded (`isBase64Encoded`), which every handler decodes
 * (functions/http/reply.ts `boundedBody`), and replies are passed through as the Lambda shaped them.
 * @example binaryMediaTypesFor(ROUTES) // ['*\/*']
 */
export function binaryMediaTypesFor(routes: readonly RouteSpec[]): string[] {
  return routes.some((route) => route.binary) ? ['*/*'] : [];
}

function validate(stageName: string, throttle: ApiArgs['throttle'], logRetentionDays: number): void {
  // Stage names: letters, digits, hyphens and underscores, at most 128 characters.
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) {
    throw new Error(`Api: stageName "${stageName}" must be 1-128 letters, digits, - or _`);
  }
  if (!(throttle.rateLimit > 0) || !Number.isFinite(throttle.rateLimit)) {
    throw new Error(`Api: throttle.rateLimit must be a positive number of requests per second`);
  }
  if (!Number.isInteger(throttle.burstLimit) || throttle.burstLimit < 1) {
    throw new Error(`Api: throttle.burstLimit must be a positive whole number of requests`);
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    throw new Error(`Api: logRetentionDays ${logRetentionDays} is not a retention CloudWatch Logs accepts`);
  }
}
