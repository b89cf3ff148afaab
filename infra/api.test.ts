import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ROUTES, type RouteName, type RouteSpec } from '../functions/http/routes';
import { ofType, settle, setupMocks, valueOf, type RecordedResource } from './testing/mocks';
import { Api, type ApiArgs } from './api';

const resources = setupMocks();

function fakeFunctions(prefix: string): Record<RouteName, aws.lambda.Function> {
  const fn = (route: string) =>
    new aws.lambda.Function(`${prefix}-${route}-fn`, {
      role: 'arn:aws:iam::123456789012:role/fake',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      code: new pulumi.asset.AssetArchive({}),
    });
  return {
    mint: fn('mint'),
    heartbeat: fn('heartbeat'),
    refresh: fn('refresh'),
    relay: fn('relay'),
    admin: fn('admin'),
  };
}

const defaults = (functions: ApiArgs['functions']): ApiArgs => ({
  functions,
  stageName: 'prod',
  throttle: { rateLimit: 50, burstLimit: 100 },
  logRetentionDays: 30,
});

/** Builds an Api and returns only the resources it created. */
async function build(name: string, args: Partial<ApiArgs> = {}) {
  const functions = args.functions ?? fakeFunctions(name);
  const api = new Api(name, { ...defaults(functions), ...args });
  await valueOf(api.url);
  await settle();
  const mine = resources.filter((resource) => resource.name.startsWith(`${name}-`));
  return { api, functions, mine };
}

/** `resourceId` → full path, from the recorded Resource children of the REST API. */
function pathsById(mine: RecordedResource[]): Map<string, string> {
  const restApi = ofType(mine, 'aws:apigateway/restApi:RestApi')[0]!;
  const paths = new Map<string, string>([[String(restApi.state.rootResourceId), '']]);
  const pending = ofType(mine, 'aws:apigateway/resource:Resource');
  while (pending.length) {
    const index = pending.findIndex((resource) => paths.has(String(resource.inputs.parentId)));
    expect(index).toBeGreaterThanOrEqual(0);
    const [resource] = pending.splice(index, 1);
    paths.set(
      resource!.id,
      `${paths.get(String(resource!.inputs.parentId))}/${String(resource!.inputs.pathPart)}`,
    );
  }
  return paths;
}

afterAll(() => settle());

/** The client routes: what the tests of the tree's shape build on, beside an admin route of their own. */
const CLIENT_ROUTES = ROUTES.filter((route) => route.auth === 'none');

describe('Component: Api', () => {
  it('routes every route of ROUTES to its own function through a Lambda proxy integration', async () => {
    const { functions, mine } = await build('routes');
    const paths = pathsById(mine);
    const integrations = ofType(mine, 'aws:apigateway/integration:Integration');
    expect(integrations).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const integration = integrations.find(
        (candidate) =>
          paths.get(String(candidate.inputs.resourceId)) === route.path &&
          candidate.inputs.httpMethod === route.method,
      );
      expect(integration?.inputs).toMatchObject({
        type: 'AWS_PROXY',
        integrationHttpMethod: 'POST',
        uri: await valueOf(functions[route.name].invokeArn),
      });
    }
  });

  it('creates each path segment once, however many routes share it', async () => {
    const { mine } = await build('tree', { routes: CLIENT_ROUTES });
    const paths = [...pathsById(mine).values()].filter(Boolean);
    expect(paths.sort()).toEqual([
      '/v1',
      '/v1/logs',
      '/v1/metrics',
      '/v1/tokens',
      '/v1/tokens/{tokenId}',
      '/v1/tokens/{tokenId}/heartbeat',
      '/v1/tokens/{tokenId}/refresh',
      '/v1/traces',
    ]);
  });

  it('requires AWS_IAM (SigV4) on every method of the admin API, and routes them all to the admin function', async () => {
    const { functions, mine } = await build('iam');
    const paths = pathsById(mine);
    const methods = ofType(mine, 'aws:apigateway/method:Method').filter((method) =>
      paths.get(String(method.inputs.resourceId))?.startsWith('/v1/admin'),
    );
    expect(methods).toHaveLength(ROUTES.filter((route) => route.name === 'admin').length);
    for (const method of methods) expect(method.inputs.authorization).toBe('AWS_IAM');
    const adminUri = ofType(mine, 'aws:apigateway/integration:Integration').filter((integration) =>
      paths.get(String(integration.inputs.resourceId))?.startsWith('/v1/admin'),
    );
    const invokeArn = await new Promise((resolve) => functions.admin.invokeArn.apply(resolve));
    for (const integration of adminUri) expect(integration.inputs.uri).toBe(invokeArn);
  });

  it('signs admin routes with AWS_IAM and leaves client routes to the handler (NONE)', async () => {
    const admin: RouteSpec = {
      name: 'refresh',
      method: 'POST',
      path: '/v1/admin/tokens/{tokenId}/revoke',
      auth: 'iam',
    };
    const { mine } = await build('admin', { routes: [...CLIENT_ROUTES, admin] });
    const paths = pathsById(mine);
    const auth = Object.fromEntries(
      ofType(mine, 'aws:apigateway/method:Method').map((method) => [
        paths.get(String(method.inputs.resourceId)),
        method.inputs.authorization,
      ]),
    );
    expect(auth).toEqual({
      '/v1/tokens': 'NONE',
      '/v1/tokens/{tokenId}/heartbeat': 'NONE',
      '/v1/tokens/{tokenId}/refresh': 'NONE',
      '/v1/traces': 'NONE',
      '/v1/logs': 'NONE',
      '/v1/metrics': 'NONE',
      '/v1/admin/tokens/{tokenId}/revoke': 'AWS_IAM',
    });
  });

  it("lets only this API's route invoke each function (no /*/* wildcard)", async () => {
    const { functions, mine } = await build('perms');
    const executionArn = String(ofType(mine, 'aws:apigateway/restApi:RestApi')[0]!.state.executionArn);
    const permissions = ofType(mine, 'aws:lambda/permission:Permission');
    expect(permissions).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const sourceArn = `${executionArn}/*/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}`;
      const permission = permissions.find((candidate) => candidate.inputs.sourceArn === sourceArn);
      expect(permission?.inputs).toMatchObject({
        action: 'lambda:InvokeFunction',
        principal: 'apigateway.amazonaws.com',
        function: await valueOf(functions[route.name].name),
      });
    }
    for (const permission of permissions)
      expect(String(permission.inputs.sourceArn)).not.toMatch(/\/\*\/\*$/);
  });

  it('writes JSON access logs to its own log group with the configured retention', async () => {
    const { mine } = await build('logs', {
      logRetentionDays: 90,
      kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k',
    });
    const logGroup = ofType(mine, 'aws:cloudwatch/logGroup:LogGroup')[0]!;
    const stage = ofType(mine, 'aws:apigateway/stage:Stage')[0]!;
    expect(logGroup.inputs).toMatchObject({
      retentionInDays: 90,
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
    });
    const settings = stage.inputs.accessLogSettings as { destinationArn: string; format: string };
    expect(settings.destinationArn).toBe(logGroup.state.arn);
    expect(Object.keys(JSON.parse(settings.format) as object)).toEqual(
      expect.arrayContaining(['requestId', 'ip', 'status', 'latency', 'wafResponseCode']),
    );
  });

  it('sets the account-wide API Gateway CloudWatch role, unless told another stack owns it', async () => {
    const { mine } = await build('account');
    const account = ofType(mine, 'aws:apigateway/account:Account')[0];
    const role = ofType(mine, 'aws:iam/role:Role')[0]!;
    expect(account?.inputs.cloudwatchRoleArn).toBe(role.state.arn);
    expect(ofType(mine, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment')[0]?.inputs.policyArn).toBe(
      'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    );
    const { mine: shared } = await build('shared', { manageAccountLogRole: false });
    expect(ofType(shared, 'aws:apigateway/account:Account')).toHaveLength(0);
  });

  it('throttles every method of the stage and turns on metrics, without execution logs', async () => {
    const { mine } = await build('throttle', { throttle: { rateLimit: 20, burstLimit: 40 } });
    const settings = ofType(mine, 'aws:apigateway/methodSettings:MethodSettings')[0]!;
    expect(settings.inputs).toMatchObject({
      stageName: 'prod',
      methodPath: '*/*',
      settings: {
        throttlingRateLimit: 20,
        throttlingBurstLimit: 40,
        metricsEnabled: true,
        loggingLevel: 'OFF',
      },
    });
  });

  it('deploys a REGIONAL REST API, redeploying when the routes change', async () => {
    const first = await build('deploy-a');
    const second = await build('deploy-b', {
      functions: first.functions,
      routes: ROUTES.map((route) => (route.name === 'refresh' ? { ...route, auth: 'iam' as const } : route)),
    });
    expect(ofType(first.mine, 'aws:apigateway/restApi:RestApi')[0]!.inputs.endpointConfiguration).toEqual({
      types: 'REGIONAL',
    });
    const trigger = (mine: RecordedResource[]) =>
      (ofType(mine, 'aws:apigateway/deployment:Deployment')[0]!.inputs.triggers as { redeployment: string })
        .redeployment;
    expect(trigger(first.mine)).toMatch(/^[0-9a-f]{64}$/);
    // Same functions, one route now signed: a new deployment, or the stage would keep serving the old API.
    expect(trigger(first.mine)).not.toBe(trigger(second.mine));
    expect(await valueOf(first.api.url)).toBe(await valueOf(first.api.stage.invokeUrl));
  });

  it("answers API Gateway's own errors in the broker's JSON error shape", async () => {
    const { mine } = await build('responses');
    const responses = Object.fromEntries(
      ofType(mine, 'aws:apigateway/response:Response').map((response) => [
        response.inputs.responseType,
        response.inputs,
      ]),
    );
    for (const type of [
      'MISSING_AUTHENTICATION_TOKEN',
      'WAF_FILTERED',
      'THROTTLED',
      'ACCESS_DENIED',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
    ]) {
      const template = (responses[type]?.responseTemplates as Record<string, string>)['application/json']!;
      const body = JSON.parse(template.replace('$context.error.messageString', '"m"')) as { error: object };
      expect(body.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
    expect(responses.MISSING_AUTHENTICATION_TOKEN).toMatchObject({ statusCode: '404' });
    expect(responses.THROTTLED).toMatchObject({ statusCode: '429' });
  });

  it.each([
    ['a stage name with a slash', { stageName: 'a/b' }, /stageName/],
    ['a zero rate limit', { throttle: { rateLimit: 0, burstLimit: 1 } }, /rateLimit/],
    ['a retention CloudWatch does not offer', { logRetentionDays: 10 }, /logRetentionDays 10/],
  ])('refuses %s', (what, args, message) => {
    const name = `bad-${what.replace(/\W+/g, '-')}`;
    expect(() => new Api(name, { ...defaults(fakeFunctions(name)), ...args })).toThrow(message);
  });
});
