/**
 * Physical names the stack chooses (functions, tables, log groups, the dashboard). They are unique per
 * account and region (the dashboard per account), so two stacks must never map to one name: `prod.eu`
 * and `prod-eu`, or two long stack names that differ after the cut, used to. No Pulumi import.
 */
import { createHash } from 'node:crypto';

/** Lambda allows 64 characters; `<prefix>-<handler>` keeps 23 for the handler's name. */
export const NAME_PREFIX_LENGTH = 40;

/**
 * `<project>-<stack>` when that is already a clean name (letters, digits, `-`) of at most 40 characters, so
 * existing stacks keep their names. Otherwise the cleaned, shortened text, `_`, and 8 hex digits of a
 * SHA-256 of the original: a clean name never holds `_`, so the two kinds cannot meet, and different
 * originals get different hashes. `_` is valid in Lambda, DynamoDB, IAM, SQS and dashboard names.
 * @example namePrefix('logfire-broker', 'prod-eu') // 'logfire-broker-prod-eu'
 * @example namePrefix('logfire-broker', 'prod.eu') // 'logfire-broker-prod-eu_<8 hex>'
 */
export function namePrefix(project: string, stack: string): string {
  const original = `${project}-${stack}`;
  if (/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(original) && original.length <= NAME_PREFIX_LENGTH) {
    return original;
  }
  const hash = shortHash(original);
  const cleaned = original
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .slice(0, NAME_PREFIX_LENGTH - hash.length - 1)
    .replace(/-+$/, '');
  return `${cleaned}_${hash}`;
}

/**
 * A name for something that is unique per account (a CloudWatch dashboard): the stack's prefix and its
 * region, in the characters the service takes, at most `max` characters, injective the same way.
 * @example accountWideName('logfire-broker-prod', 'eu-west-1') // 'logfire-broker-prod-eu-west-1'
 */
export function accountWideName(prefix: string, region: string, max = 255): string {
  const original = `${prefix}-${region}`;
  if (/^[A-Za-z0-9_-]+$/.test(original) && original.length <= max) return original;
  const hash = shortHash(original);
  return `${original.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, max - hash.length - 1)}_${hash}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}
