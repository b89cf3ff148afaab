/**
 * API Gateway's CloudWatch role, which access logging needs. It is ONE setting per account and region
 * (`aws.apigateway.Account`), shared by every REST API there, so a stack must not take it over blindly:
 * two stacks that both manage it flip it back and forth, and the provider resets the account's settings
 * when the resource is deleted, which turns access logging off for every REST API in the region.
 *
 * So: `auto` (the default) reads the current setting and manages it only when it is empty or already
 * this stack's own role; and whatever this stack creates here is kept when the stack is destroyed
 * (`retainOnDelete`), since other APIs may have come to rely on it.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AccountLogRoleSetting } from './productionSettings';
import { assumeRolePolicy } from './policies';

/** The id the provider gives the account settings (there is one per region). */
const ACCOUNT_SETTINGS_ID = 'api-gateway-account';

/**
 * Whether this stack should set the account's CloudWatch role.
 * @example managesAccountLogRole('auto', '', ownArn) // true: nothing is set yet
 * @example managesAccountLogRole('auto', otherStacksArn, ownArn) // false: someone else's
 */
export function managesAccountLogRole(
  setting: AccountLogRoleSetting,
  currentRoleArn: string | undefined,
  ownRoleArn: string,
): boolean {
  if (setting !== 'auto') return setting;
  return !currentRoleArn || currentRoleArn === ownRoleArn;
}

export interface AccountLogRoleArgs {
  setting: AccountLogRoleSetting;
  /** The role's physical name, `<namePrefix>-apigw-logs`: fixed, so `auto` recognises its own role. */
  roleName: string;
}

/**
 * Creates (or, under `auto`, may create) the role and the account setting; resolves to what the stage
 * must wait for (nothing when the stack leaves the setting alone).
 */
export function accountLogRole(
  name: string,
  args: AccountLogRoleArgs,
  parent: pulumi.Resource,
): pulumi.Output<pulumi.Resource[]> {
  const { setting, roleName } = args;
  if (setting === false) return pulumi.output([]);
  if (setting === true) return pulumi.output(create(name, roleName, parent));
  const current = aws.apigateway.Account.get(`${name}-current`, ACCOUNT_SETTINGS_ID, undefined, { parent });
  const identity = aws.getCallerIdentityOutput({}, { parent });
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  // A read resolves during preview too, so what is decided here shows in `pulumi preview`.
  return pulumi
    .all([current.cloudwatchRoleArn, identity.accountId, partition])
    .apply(([currentArn, accountId, partitionName]) =>
      managesAccountLogRole('auto', currentArn, `arn:${partitionName}:iam::${accountId}:role/${roleName}`)
        ? create(name, roleName, parent)
        : [],
    );
}

function create(name: string, roleName: string, parent: pulumi.Resource): pulumi.Resource[] {
  const keep = { parent, retainOnDelete: true };
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      name: roleName,
      description: 'API Gateway (account-wide setting) writes access logs to CloudWatch Logs',
      assumeRolePolicy: JSON.stringify(assumeRolePolicy('apigateway.amazonaws.com')),
    },
    keep,
  );
  const attachment = new aws.iam.RolePolicyAttachment(
    `${name}-push-to-logs`,
    {
      role: role.name,
      // AWS's managed policy for exactly this role; it needs `*` resources because API Gateway names the
      // log groups it creates itself.
      policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`,
    },
    keep,
  );
  // API Gateway checks the role's permissions when it is set: attach the policy first.
  return [
    new aws.apigateway.Account(
      `${name}`,
      { cloudwatchRoleArn: role.arn },
      { ...keep, dependsOn: [attachment] },
    ),
  ];
}
