/**
 * The floor under the heartbeat figures: the same conditional UpdateItem a heartbeat makes, called on the
 * store directly (SDK + dynalite, no HTTP, no handler). Heartbeat latency minus this is what the broker's
 * HTTP front and handler add.
 */
import { performance } from 'node:perf_hooks';
import { hashSecret } from '../functions/core/credentials';
import type { BenchBroker } from './broker';
import { BenchClient } from './client';

export async function storeHeartbeatFloor(broker: BenchBroker, count: number): Promise<number[]> {
  const client = new BenchClient(broker.url, 1);
  const token = await client.mintOk();
  client.close();
  const hash = hashSecret(token.clientSecret);
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const record = await broker.store.recordHeartbeat(token.tokenId, hash, Date.now());
    latencies.push(performance.now() - t0);
    if (!record) throw new Error('bench: the direct heartbeat write did not match the token');
  }
  return latencies;
}
