/**
 * Pulumi mocks for the infra tests: every resource the program creates is recorded (type, name, inputs)
 * and given plausible ARNs and ids, so tests can read the stack as a policy document. Set the mocks and
 * the config BEFORE importing any infra module that reads config.
 */
import * as pulumi from '@pulumi/pulumi';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  id: string;
  state: Record<string, unknown>;
}

function service(type: string): string {
  // aws:lambda/function:Function → lambda
  return type.split(':')[1]?.split('/')[0] ?? 'unknown';
}

function fakeState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const arn = `arn:aws:${service(type)}:${REGION}:${ACCOUNT}:${name}`;
  const state: Record<string, unknown> = { ...inputs, arn, name: inputs.name ?? name };
  switch (type) {
    case 'aws:lambda/function:Function':
      state.arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
      state.invokeArn = `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
      break;
    case 'aws:dynamodb/table:Table':
      state.arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${String(state.name)}`;
      break;
    case 'aws:apigateway/restApi:RestApi':
      state.rootResourceId = `${name}-root`;
      state.executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${name}-id`;
      break;
    case 'aws:apigateway/stage:Stage':
      state.arn = `arn:aws:apigateway:${REGION}::/restapis/${String(inputs.restApi)}/stages/${String(inputs.stageName)}`;
      state.invokeUrl = `https://${String(inputs.restApi)}.execute-api.${REGION}.amazonaws.com/${String(inputs.stageName)}`;
      state.executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${String(inputs.restApi)}/${String(inputs.stageName)}`;
      break;
    case 'aws:cloudwatch/logGroup:LogGroup':
      state.arn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${String(state.name)}`;
      break;
    case 'aws:sqs/queue:Queue':
      state.arn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
      state.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
      break;
    case 'aws:iam/role:Role':
      state.arn = `arn:aws:iam::${ACCOUNT}:role/${name}`;
      break;
    case 'aws:secretsmanager/secret:Secret':
      state.arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
      break;
  }
  return state;
}

/**
 * Installs the mocks and the stack config; returns the list every created resource is pushed to.
 * @example
 * const resources = setupMocks({ upstreamKind: 'api-key', logfireProjectId: 'p' });
 * const { TokenBroker } = await import('../tokenBroker');
 */
export function setupMocks(config: Record<string, string> = {}, stack = 'dev'): RecordedResource[] {
  const resources: RecordedResource[] = [];
  const all: Record<string, string> = { 'aws:region': REGION };
  for (const [key, value] of Object.entries(config))
    all[key.includes(':') ? key : `logfire-broker:${key}`] = value;
  pulumi.runtime.setAllConfig(all);
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const id = `${args.name}-id`;
        const state = fakeState(args.type, args.name, args.inputs as Record<string, unknown>);
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          id,
          state,
        });
        return { id, state };
      },
      call: (args) => {
        switch (args.token) {
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: 'test' };
          case 'aws:index/getRegion:getRegion':
            return { name: REGION, region: REGION, id: REGION };
          case 'aws:index/getPartition:getPartition':
            return { partition: 'aws', dnsSuffix: 'amazonaws.com' };
          default:
            return args.inputs;
        }
      },
    },
    'logfire-broker',
    stack,
    false,
  );
  return resources;
}

/** The resolved value of an Output (mocks resolve them all). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

/** Waits until every resource registration so far has reached the mocks. */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((resource) => resource.type === type);
}
