/**
 * How long one Logfire request may take (issue #8): derived from the function's timeout, so a slow
 * Logfire ends in a 503 with `Retry-After` and never in a Lambda timeout between the create of a write
 * token and the store of its record.
 */

/**
 * Without a function timeout (the local server, tests): API Gateway's 29 s integration limit, less room
 * to store the record. Also the most any function gives one request.
 */
export const DEFAULT_UPSTREAM_BUDGET_MS = 25_000;

/** Kept for the DynamoDB writes and the credential's first load: a fifth of the timeout, at least this. */
const MIN_RESERVE_MS = 500;

/**
 * The budget of one Logfire request in a function that is stopped after `functionTimeoutMs`. A mint or
 * refresh may make two in a row (the create, then the compensating delete when its record cannot be
 * stored), so each gets half of what remains after the reserve for DynamoDB.
 * @example upstreamBudgetMs(3_000) // 1_200: 600 ms reserve, two requests of 1.2 s
 * @example upstreamBudgetMs(29_000) // 11_600
 * @example upstreamBudgetMs(undefined) // 25_000
 */
export function upstreamBudgetMs(functionTimeoutMs: number | undefined): number {
  if (functionTimeoutMs === undefined) return DEFAULT_UPSTREAM_BUDGET_MS;
  const reserveMs = Math.max(MIN_RESERVE_MS, functionTimeoutMs / 5);
  return Math.min(DEFAULT_UPSTREAM_BUDGET_MS, Math.floor((functionTimeoutMs - reserveMs) / 2));
}
