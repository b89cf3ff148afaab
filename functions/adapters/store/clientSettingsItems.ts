/**
 * The remote client settings (functions/core/clientSettings.ts) as one item of the tokens table,
 * `settings#clients`, beside the quota overrides: every rule in one list, replaced whole, so a reader
 * never sees half of a change. The core reads it at most every 30 s per process.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ClientSettingsRule } from '../../core/contract';
import { KEY } from './tables';
import type { Target } from './tokenQueries';

/** The stored rules, unchecked (the core checks them again); `[]` when none are stored. */
export async function getClientSettingsRules(target: Target): Promise<unknown[]> {
  const { Item: item } = await target.doc.send(
    new GetCommand({ TableName: target.tableName, Key: KEY.clientSettings() }),
  );
  return Array.isArray(item?.rules) ? (item.rules as unknown[]) : [];
}

/**
 * Replaces the rules (an empty list removes every rule) and returns the ones stored before, for the audit
 * entry: one PutItem with `ReturnValues: ALL_OLD`.
 */
export async function putClientSettingsRules(
  target: Target,
  rules: readonly ClientSettingsRule[],
  now: number,
  updatedBy: string,
): Promise<unknown[]> {
  const { Attributes: before } = await target.doc.send(
    new PutCommand({
      TableName: target.tableName,
      Item: { ...KEY.clientSettings(), rules, updatedAt: now, updatedBy },
      ReturnValues: 'ALL_OLD',
    }),
  );
  return Array.isArray(before?.rules) ? (before.rules as unknown[]) : [];
}
