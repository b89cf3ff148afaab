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
  /** `<urn>::<id>` of the provider that manages it (explicit providers only). */
  provider?: string;
  /** A read of an existing resource (`Resource.get`), not one the stack manages. */
  read: boolean;
}

export interface MockOptions {
  /** The role API Gateway's account settings already hold (what `aws.apigateway.Account.get` reads). */
  accountLogRoleArn?: string;
  /** Config keys given in plain text although the stack expects secrets (`upstreamCredential` is a secret). */
  plaintextKeys?: string[];
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
      state.version = inputs.publish ? '7' : '$LATEST';
      state.qualifiedArn = `${String(state.arn)}:${String(state.version)}`;
      break;
    case 'aws:lambda/alias:Alias': {
      const target = String(inputs.functionName);
      const fnArn = target.startsWith('arn:')
        ? target
        : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${target}`;
      state.arn = `${fnArn}:${String(inputs.name)}`;
      state.invokeArn = `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
      break;
    }
    case 'aws:apigateway/domainName:DomainName':
      state.regionalDomainName = `d-abc123.execute-api.${REGION}.amazonaws.com`;
      state.regionalZoneId = 'Z1UJRXOUMOOFQ8';
      break;
    case 'aws:acm/certificate:Certificate':
      state.arn = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${name}`;
      state.domainValidationOptions = [
        {
          domainName: inputs.domainName,
          resourceRecordName: `_x1.${String(inputs.domainName)}.`,
          resourceRecordType: 'CNAME',
          resourceRecordValue: '_x2.acm-validations.aws.',
        },
      ];
      break;
    case 'aws:route53/record:Record':
      state.fqdn = inputs.name;
      break;
    case 'aws:sns/topic:Topic':
      state.arn = `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
      break;
    case 'aws:wafv2/webAcl:WebAcl':
      state.arn = `arn:aws:wafv2:${REGION}:${ACCOUNT}:regional/webacl/${name}/abc`;
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
export function setupMocks(
  config: Record<string, string> = {},
  stack = 'dev',
  options: MockOptions = {},
): RecordedResource[] {
  const resources: RecordedResource[] = [];
  const all: Record<string, string> = { 'aws:region': REGION };
  for (const [key, value] of Object.entries(config))
    all[key.includes(':') ? key : `logfire-broker:${key}`] = value;
  const secretKeys = ['logfire-broker:upstreamCredential'].filter(
    (key) => !(options.plaintextKeys ?? []).includes(key.split(':')[1]!),
  );
  pulumi.runtime.setAllConfig(all, secretKeys);
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const read = args.id !== undefined && args.id !== '';
        const id = read ? args.id! : `${args.name}-id`;
        const state = fakeState(args.type, args.name, args.inputs as Record<string, unknown>);
        if (read && args.type === 'aws:apigateway/account:Account') {
          state.cloudwatchRoleArn = options.accountLogRoleArn ?? '';
        }
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          id,
          state,
          provider: args.provider,
          read,
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
