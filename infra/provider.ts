/**
 * The AWS provider every resource of the stack uses: the stack's own `aws:*` settings plus default tags
 * `project` and `stack` on every resource that takes tags, so a shared account's bill and console say
 * whose a resource is. An explicit provider does not read the stack's `aws:*` configuration the way the
 * default one does, so it is handed over here. No other Pulumi import than the config it reads.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/**
 * The provider's arguments from the stack's configuration (`aws:region`, `aws:profile`, `aws:assumeRoles`,
 * ... as `pulumi config` holds them: text, or JSON for lists and maps) with the stack's default tags
 * merged over any `aws:defaultTags` of the operator's own.
 * @example providerArgs({ 'aws:region': 'eu-west-1' }, 'logfire-broker', 'prod').defaultTags // { tags: { project, stack } }
 */
export function providerArgs(
  config: Record<string, string>,
  project: string,
  stack: string,
): aws.ProviderArgs & { defaultTags: { tags: Record<string, string> } } {
  const args: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(config)) {
    if (!key.startsWith('aws:')) continue;
    args[key.slice('aws:'.length)] = parseValue(text);
  }
  const own = (args.defaultTags as { tags?: Record<string, string> } | undefined)?.tags ?? {};
  return { ...args, defaultTags: { tags: { ...own, project, stack } } } as ReturnType<typeof providerArgs>;
}

/** The stack's provider; pass it as `providers: { aws }` to the top component. */
export function stackProvider(): aws.Provider {
  return new aws.Provider(
    'aws',
    providerArgs(pulumi.runtime.allConfig(), pulumi.getProject(), pulumi.getStack()),
  );
}

function parseValue(text: string): unknown {
  if (!/^[[{]|^(true|false)$|^\d+$/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
