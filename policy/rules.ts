/**
 * This stack's own rules, as a `@pulumi/policy` pack (issue #12 point 6): what infra/ promises, checked on
 * the resource graph itself, so a later change that breaks a promise fails `pulumi preview --policy-pack
 * policy` (and `npm test`, which runs them on the mock graph: policy/rules.test.ts).
 *
 * Between resources, a rule matches by ARN when the graph knows it (the mocks, an update) and by property
 * dependency otherwise (a first preview, where ARNs are still unknown).
 */
import * as aws from '@pulumi/aws';
import {
  validateResourceOfType,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from '@pulumi/policy';
import { redact } from '../functions/adapters/upstream/tokenShape';

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** What is wide open in a policy document: `*` or `service:*` actions, `*` resources, Not* forms. */
export function wildcardsIn(document: string | object): string[] {
  const parsed = (typeof document === 'string' ? JSON.parse(document) : document) as {
    Statement?: Statement | Statement[];
  };
  const problems: string[] = [];
  for (const statement of [parsed.Statement ?? []].flat()) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of list(statement.Action))
      if (action === '*' || action.endsWith(':*')) problems.push(`action ${action}`);
    for (const resource of list(statement.Resource)) if (resource === '*') problems.push('resource *');
    if (statement.NotAction) problems.push('NotAction');
    if (statement.NotResource) problems.push('NotResource');
  }
  return problems;
}

const noWildcardIam: ResourceValidationPolicy = {
  name: 'no-wildcard-iam',
  description: "Inline IAM policies name exact actions on exact resources (AWS's managed policies aside).",
  enforcementLevel: 'mandatory',
  validateResource: [
    validateResourceOfType(aws.iam.RolePolicy, (policy, _args, report) => {
      for (const problem of wildcardsIn(policy.policy)) report(`allows ${problem}`);
    }),
    validateResourceOfType(aws.iam.Policy, (policy, _args, report) => {
      for (const problem of wildcardsIn(policy.policy)) report(`allows ${problem}`);
    }),
  ],
};

/** The stack name in a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOf(urn: string): string {
  return urn.split('::')[0]!.replace(/^urn:pulumi:/, '');
}

const protectedTables: ResourceValidationPolicy = {
  name: 'tables-protected-outside-dev',
  description:
    'DynamoDB tables have point-in-time recovery and deletion protection, except on the stacks in devStacks.',
  enforcementLevel: 'mandatory',
  configSchema: {
    properties: { devStacks: { type: 'array', items: { type: 'string' }, default: ['dev'] } },
  },
  validateResource: validateResourceOfType(aws.dynamodb.Table, (table, args, report) => {
    const { devStacks = ['dev'] } = args.getConfig<{ devStacks?: string[] }>();
    if (devStacks.includes(stackOf(args.urn))) return;
    if (table.pointInTimeRecovery?.enabled !== true) report('has no point-in-time recovery');
    if (table.deletionProtectionEnabled !== true) report('has no deletion protection');
  }),
};

const logRetention: ResourceValidationPolicy = {
  name: 'log-retention-everywhere',
  description: 'Every log group the stack creates expires its logs (no "never expire").',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(aws.cloudwatch.LogGroup, (group, _args, report) => {
    if (!(Number(group.retentionInDays) > 0)) report('keeps its logs forever: set retentionInDays');
  }),
};

/** Whether `from`'s property `key` points at `to`: the same ARN, or a dependency through that property. */
function pointsAt(from: PolicyResource, key: string, to: PolicyResource): boolean {
  const value = from.props[key] as unknown;
  const targets = Array.isArray(value) ? value : [value];
  if (to.props.arn !== undefined && targets.includes(to.props.arn)) return true;
  return (from.propertyDependencies[key] ?? []).some((dependency) => dependency.urn === to.urn);
}

const wafOnEveryStage: StackValidationPolicy = {
  name: 'waf-on-every-stage',
  description: 'Every API Gateway stage has a WAF WebACL associated with it.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const associations = args.resources.filter((r) => r.isType(aws.wafv2.WebAclAssociation));
    for (const stage of args.resources.filter((r) => r.isType(aws.apigateway.Stage))) {
      if (!associations.some((association) => pointsAt(association, 'resourceArn', stage)))
        report(`stage ${stage.name} has no WAF WebACL`, stage.urn);
    }
  },
};

/** Environment variable names that say "I am a secret" (an `_ID` or `_ARN` of one is fine). */
const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|API_KEY|CREDENTIAL)$/i;

const noSecretsOutsideSecretsManager: StackValidationPolicy = {
  name: 'no-secret-outside-secrets-manager',
  description:
    'No Lambda environment variable holds a secret, and nothing but the Secrets Manager secret version (outputs included) holds anything shaped like a Logfire credential.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    for (const resource of args.resources) {
      if (resource.isType(aws.secretsmanager.SecretVersion)) continue;
      const text = JSON.stringify(resource.props);
      if (redact(text) !== text) report(`${resource.name} holds a Logfire credential`, resource.urn);
      if (!resource.isType(aws.lambda.Function)) continue;
      const variables = (resource.props.environment?.variables ?? {}) as Record<string, unknown>;
      for (const name of Object.keys(variables).filter((key) => SECRET_NAME.test(key)))
        report(`${resource.name} has the secret-named environment variable ${name}`, resource.urn);
    }
  },
};

const alarmsNotifyTheTopic: StackValidationPolicy = {
  name: 'alarms-notify-the-topic',
  description: "Every CloudWatch alarm notifies one of the stack's SNS topics when it fires.",
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const topics = args.resources.filter((r) => r.isType(aws.sns.Topic));
    for (const alarm of args.resources.filter((r) => r.isType(aws.cloudwatch.MetricAlarm))) {
      if (!topics.some((topic) => pointsAt(alarm, 'alarmActions', topic)))
        report(`alarm ${alarm.name} notifies no topic of this stack`, alarm.urn);
    }
  },
};

export const POLICIES = [
  noWildcardIam,
  protectedTables,
  logRetention,
  wafOnEveryStage,
  noSecretsOutsideSecretsManager,
  alarmsNotifyTheTopic,
];
