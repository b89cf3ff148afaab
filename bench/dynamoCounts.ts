/**
 * DynamoDB requests per broker operation, counted on the wire (retries included) by the middleware of
 * test/support/requestCounter.ts. Each operation runs alone, several times, so the counts cannot mix.
 */
import { randomUUID } from 'node:crypto';
import type { IssuedToken } from '../functions/core/contract';
import type { RequestCounter } from '../test/support/requestCounter';
import { BenchClient, type Reply } from './client';

export interface OperationCount {
  operation: string;
  /** Highest number of requests seen for one call; the target applies to it. */
  max: number;
  min: number;
  /** The requests of the last call by DynamoDB operation, e.g. `UpdateItem 1`. */
  breakdown: string;
  status: number;
  target?: { max: number; exact?: boolean };
}

const REPEATS = 10;

async function measure(
  requests: RequestCounter,
  operation: string,
  expected: number,
  call: (i: number) => Promise<Reply>,
  target?: OperationCount['target'],
): Promise<OperationCount> {
  const totals: number[] = [];
  let breakdown = '';
  let status = 0;
  for (let i = 0; i < REPEATS; i++) {
    requests.reset();
    const reply = await call(i);
    if (reply.status !== expected) {
      throw new Error(`bench: ${operation} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
    status = reply.status;
    totals.push(requests.total());
    breakdown = Object.entries(requests.counts)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ');
  }
  return { operation, max: Math.max(...totals), min: Math.min(...totals), breakdown, status, target };
}

export async function countDynamoRequests(url: string, requests: RequestCounter): Promise<OperationCount[]> {
  const client = new BenchClient(url, 4);
  const run = randomUUID().slice(0, 8);
  const tokens: IssuedToken[] = [];
  const keys: string[] = [];
  // The quota overrides are read once per 30 s per process: read them before counting.
  await client.mint(`count-${run}-warm`);
  const results = [
    // Four quota counters (UpdateItem: install, address, network, broker) beside the mint intent (PutItem)
    // before Logfire is called, then one batch: record, audit entry, intent's removal.
    await measure(
      requests,
      'mint (no Idempotency-Key)',
      201,
      async (i) => {
        const reply = await client.mint(`count-${run}-${i}`);
        tokens.push(reply.body as IssuedToken);
        return reply;
      },
      { max: 6 },
    ),
    await measure(
      requests,
      'mint with Idempotency-Key (first request)',
      201,
      (i) => {
        keys.push(randomUUID());
        return client.mint(`count-idem-${run}-${i}`, keys[i]);
      },
      { max: 8 }, // the claim, four quota counters, the mint intent, the batch, the claim's completion
    ),
    await measure(requests, 'mint with Idempotency-Key (replay)', 201, async (i) => {
      const reply = await client.mint(`count-idem-${run}-${i}`, keys[i]);
      if (reply.headers['idempotent-replayed'] !== 'true')
        throw new Error('bench: the retried mint was not replayed');
      return reply;
    }),
    // Its hourly quota is counted in the same UpdateItem.
    await measure(requests, 'heartbeat', 200, (i) => client.heartbeat(tokens[i]!), { max: 1, exact: true }),
    // The claim, the chain's quota counter, the successor's mint intent, the batch, the completion.
    await measure(requests, 'refresh', 200, (i) => client.refresh(tokens[i]!), { max: 5 }),
    // Refused in the same one write: a flood of bad secrets costs no more than good traffic.
    await measure(
      requests,
      'heartbeat, wrong secret (401)',
      401,
      (i) => client.heartbeat({ tokenId: tokens[i]!.tokenId, clientSecret: `lfb_cs_${randomUUID()}` }),
      { max: 1, exact: true },
    ),
  ];
  client.close();
  return results;
}

export function passes(count: OperationCount): boolean | undefined {
  if (!count.target) return undefined;
  return count.target.exact
    ? count.min === count.target.max && count.max === count.target.max
    : count.max <= count.target.max;
}
