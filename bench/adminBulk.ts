/**
 * Bench of the admin API's indexed bulk filter (issue #10): a bulk revoke by app version of 1,000 matching
 * tokens among 100,000 must read at most 2,000 items (index entries and records together). The table is
 * built with the store's own item mapping (toTokenItem) in a dynalite of its own process; the job runs page
 * by page exactly as `POST /v1/admin/bulk/{jobId}/run` does, and every item DynamoDB returns is counted.
 *
 *   npx tsx bench/adminBulk.ts
 */
import { performance } from 'node:perf_hooks';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, toDocumentClient } from '../functions/adapters/store/dynamoClient';
import { ensureTables } from '../functions/adapters/store/ensureTables';
import { defaultAuditTableName } from '../functions/adapters/store/tables';
import { toTokenItem } from '../functions/adapters/store/tokenItems';
import { createLog } from '../functions/adapters/logger';
import { wireBroker } from '../functions/adapters/wiring';
import { readConfig } from '../functions/config';
import { createBulkJob, runBulkJob } from '../functions/core/bulkJobs';
import type { TokenRecord } from '../functions/core/model';
import type { Upstream, UpstreamToken } from '../functions/core/ports';
import { startDynaliteProcess } from './lifecycleData';

export const BULK_TOKENS = 100_000;
export const BULK_MATCHING = 1_000;
const TABLE = 'bench-admin-bulk';
const DAY = 86_400_000;

class NoopUpstream implements Upstream {
  readonly kind = 'api-key' as const;
  readonly canRevoke = true;
  readonly ingestBaseUrl = 'http://127.0.0.1:9/unused';
  createWriteToken(): Promise<UpstreamToken> {
    return Promise.reject(new Error('the bulk bench mints nothing'));
  }
  deleteWriteToken(): Promise<void> {
    return Promise.resolve();
  }
}

export interface BulkResult {
  tokens: number;
  matching: number;
  revoked: number;
  /** Token items read: index entries and records. */
  itemsRead: number;
  /** Reads of the job's own item, one per page. */
  jobReads: number;
  requests: number;
  ms: number;
  pages: number;
}

export async function measureBulkRevoke(tokens = BULK_TOKENS, matching = BULK_MATCHING): Promise<BulkResult> {
  const dynalite = await startDynaliteProcess();
  const client = createDynamoClient({ endpoint: dynalite.endpoint });
  try {
    const doc = toDocumentClient(client);
    await ensureTables(client, TABLE);
    const now = Date.now();
    const every = Math.floor(tokens / matching);
    const record = (i: number): TokenRecord => {
      const tokenId = `tok_bulk_${i.toString(36).padStart(6, '0')}`;
      return {
        tokenId,
        chainId: tokenId,
        upstreamId: `up_${tokenId}`,
        upstreamKind: 'api-key',
        installId: `bulk-install-${i}`,
        appName: 'bench-cli',
        // 1 in `every` runs an old build; the rest are spread over newer versions.
        appVersion: i % every === 0 ? `1.${i % 7}.${i % 3}` : `2.${i % 5}.${i % 11}`,
        sourceIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        createdAt: now - DAY,
        expiresAt: now + 13 * DAY,
        refreshAfter: now + 6 * DAY,
        status: 'active',
        updatedAt: now - DAY,
        secretHash: 'x'.repeat(43),
      };
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < tokens) {
          const first = next;
          next = Math.min(tokens, next + 25);
          const puts = [];
          for (let i = first; i < next; i++) {
            puts.push({ PutRequest: { Item: toTokenItem(record(i), { shards: 4, retentionMs: 30 * DAY }) } });
          }
          let pending: Record<string, typeof puts> | undefined = { [TABLE]: puts };
          while (pending && Object.keys(pending).length > 0) {
            const reply = await doc.send(new BatchWriteCommand({ RequestItems: pending }));
            pending = reply.UnprocessedItems as typeof pending;
          }
        }
      }),
    );

    const config = readConfig({
      BROKER_UPSTREAM: 'dev',
      BROKER_TABLE_NAME: TABLE,
      BROKER_AUDIT_TABLE_NAME: defaultAuditTableName(TABLE),
      BROKER_LOG_LEVEL: 'WARN',
    });
    const deps = wireBroker({ config, doc, upstream: new NoopUpstream(), log: createLog('WARN', 'bench') });
    const job = await createBulkJob(
      deps,
      'revoke',
      { app: 'bench-cli', version: '<2.0.0' },
      { actor: 'admin:bench', reason: 'bench: old builds' },
    );

    // Items DynamoDB returns on the tokens table, from here on: index entries and records alike.
    const counted = { items: 0, jobReads: 0, requests: 0 };
    client.middlewareStack.add(
      (nextStep, context) => async (args) => {
        const result = await nextStep(args);
        const output = result.output as {
          ScannedCount?: number;
          Responses?: Record<string, unknown[]>;
          Item?: unknown;
        };
        const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
        const onTokens = input.TableName === TABLE || Object.keys(input.RequestItems ?? {}).includes(TABLE);
        if (onTokens) {
          counted.requests += 1;
          if (context.commandName === 'QueryCommand') counted.items += output.ScannedCount ?? 0;
          if (context.commandName === 'BatchGetItemCommand')
            counted.items += output.Responses?.[TABLE]?.length ?? 0;
          // The job's own item (one GetItem per page) is counted apart from the tokens.
          if (context.commandName === 'GetItemCommand' && output.Item) counted.jobReads += 1;
        }
        return result;
      },
      { step: 'initialize', name: 'benchItemCounter' },
    );
    const started = performance.now();
    let state = job;
    let pages = 0;
    while (!state.done) {
      state = (await runBulkJob(deps, job.jobId)).job;
      pages += 1;
    }
    const ms = performance.now() - started;
    return {
      tokens,
      matching,
      revoked: state.changed,
      itemsRead: counted.items,
      jobReads: counted.jobReads,
      requests: counted.requests,
      ms,
      pages,
    };
  } finally {
    client.destroy();
    dynalite.close();
  }
}

if (require.main === module) {
  measureBulkRevoke().then(
    (result) => {
      const ok = result.revoked === result.matching && result.itemsRead <= 2 * result.matching;
      console.log(JSON.stringify({ ...result, ms: Math.round(result.ms), passes: ok }, null, 2));
      process.exit(ok ? 0 : 1);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
