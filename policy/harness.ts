/**
 * Runs the pack's policies offline, on resources recorded by the Pulumi mocks (infra/testing/mocks.ts),
 * the way the policy engine would on a preview: each resource's validations, then each stack validation,
 * collecting the violations. `@pulumi/policy` serves policies over gRPC to the engine only; its validate
 * functions are plain functions, so a test calls them with the same arguments.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy } from '@pulumi/policy';
import type { Policies, StackValidationPolicy } from '@pulumi/policy';
import type { RecordedResource } from '../infra/testing/mocks';

export interface Violation {
  policy: string;
  message: string;
  /** The resource's name, when the violation is about one. */
  resource?: string;
}

class NotApplicable extends Error {}

/** A recorded resource as the engine presents it: its state as props, a URN carrying the stack. */
export function policyResources(recorded: readonly RecordedResource[], stack: string): PolicyResource[] {
  return recorded
    .filter((resource) => !resource.read)
    .map((resource) => {
      const policyResource: PolicyResource = {
        type: resource.type,
        name: resource.name,
        urn: `urn:pulumi:${stack}::logfire-broker::${resource.type}::${resource.name}`,
        props: plain(resource.state),
        opts: {
          protect: false,
          ignoreChanges: [],
          aliases: [],
          additionalSecretOutputs: [],
          customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        },
        dependencies: [],
        propertyDependencies: {},
        isType: (resourceClass) =>
          (resourceClass as unknown as { __pulumiType?: string }).__pulumiType === resource.type,
        asType: () => undefined,
      };
      return policyResource;
    });
}

/** Every violation the policies report on the resources. */
export async function evaluate(
  policies: Policies,
  resources: readonly PolicyResource[],
  config: Record<string, unknown> = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const common = {
    stackTags: new Map<string, string>(),
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  for (const policy of policies) {
    if ('validateStack' in policy) {
      await (policy as StackValidationPolicy).validateStack(
        { ...common, resources: [...resources] },
        (message, urn) => violations.push({ policy: policy.name, message, resource: urn?.split('::').pop() }),
      );
      continue;
    }
    const validations = [(policy as ResourceValidationPolicy).validateResource ?? []].flat();
    for (const resource of resources) {
      const args: ResourceValidationArgs = {
        ...common,
        type: resource.type,
        props: resource.props,
        urn: resource.urn,
        name: resource.name,
        opts: resource.opts,
        isType: resource.isType,
        asType: () => resource.props as never,
      };
      for (const validate of validations) {
        try {
          await validate(args, (message) =>
            violations.push({ policy: policy.name, message, resource: resource.name }),
          );
        } catch (error) {
          if (!(error instanceof NotApplicable)) throw error;
        }
      }
    }
  }
  return violations;
}

/** Plain data, as the engine sends it: assets (whose paths are promises here) become empty objects. */
function plain(state: Record<string, unknown>): PolicyResource['props'] {
  return JSON.parse(JSON.stringify(state)) as PolicyResource['props'];
}
