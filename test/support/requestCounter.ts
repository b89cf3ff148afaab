/**
 * Counts the DynamoDB requests a client sends, by operation: the benchmark reports requests per broker
 * operation with it, and tests pin the hot path (a heartbeat is exactly one UpdateItem).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface RequestCounter {
  /** Requests per operation name (`UpdateItem`, `Query`, …), retries included. */
  readonly counts: Record<string, number>;
  total(): number;
  reset(): void;
}

/**
 * Adds a counting middleware to `client`; DocumentClients built from it share its middleware stack.
 * @example
 * const requests = countRequests(db.client);
 * await store.recordHeartbeat(id, hash, now);
 * expect(requests.counts).toEqual({ UpdateItem: 1 });
 */
export function countRequests(client: DynamoDBClient): RequestCounter {
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    // finalizeRequest, low priority: inside the retry middleware, so every attempt on the wire counts.
    { step: 'finalizeRequest', priority: 'low', name: 'logfireBrokerRequestCounter', override: true },
  );
  return {
    counts,
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    reset: () => {
      for (const name of Object.keys(counts)) delete counts[name];
    },
  };
}
