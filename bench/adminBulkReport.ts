/** The admin bulk revoke's section of docs/benchmarks.md (bench/adminBulk.ts, issue #10). */
import type { BulkResult } from './adminBulk';
import { fmt } from './stats';

/** Issue #10: a bulk revoke by app version reads at most this many items per matching token. */
export const MAX_ITEMS_PER_MATCH = 2;

const passes = (r: BulkResult) => r.revoked === r.matching && r.itemsRead <= MAX_ITEMS_PER_MATCH * r.matching;

export function adminBulkFailures(result: BulkResult | undefined): string[] {
  return result && !passes(result) ? ['items read by a bulk revoke by app version'] : [];
}

/** @example lines.push(...adminBulkSection(result, 10)); */
export function adminBulkSection(result: BulkResult | undefined, number: number): string[] {
  const heading = `## ${number}. Bulk revoke by app version (admin API)`;
  if (!result) return [heading, '', 'Not measured in this run.', ''];
  return [
    heading,
    '',
    `bench/adminBulk.ts: ${result.tokens.toLocaleString('en-US')} live tokens in dynalite (a process of its own), of which`,
    `${result.matching.toLocaleString('en-US')} have the app version the filter names; the bulk job runs page by page as`,
    '`POST /v1/admin/bulk/{jobId}/run` does (each page reads the `byAppVersion` index, then the records, and',
    "revokes them), and every item DynamoDB returns is counted on the wire. The job's own item (read once per",
    'page) is counted apart.',
    '',
    '| tokens | matching | revoked | token items read | per match | job reads | pages | DynamoDB requests | time s | target | result | command |',
    '| --: | --: | --: | --: | --: | --: | --: | --: | --: | --- | --- | --- |',
    `| ${result.tokens} | ${result.matching} | ${result.revoked} | ${result.itemsRead} | ${(result.itemsRead / result.matching).toFixed(2)} | ` +
      `${result.jobReads} | ${result.pages} | ${result.requests} | ${fmt(result.ms / 1000)} | ≤ ${MAX_ITEMS_PER_MATCH} per match | ` +
      `${passes(result) ? 'PASS' : '**FAIL**'} | \`npm run bench\` |`,
    '',
  ];
}
