/**
 * What the client tests run the example CLIs against: a real `npm start` broker (a child process) on a fresh
 * dynalite, behind a counting proxy that records every call the CLIs make, with the operator's side wired to
 * the same tables.
 */
import type { WiredBroker } from '../../functions/adapters/wiring';
import { startCountingProxy, stopAllCliRuns, type CountingProxy } from './clientCli';
import { startDynalite, tablesEnv, type TestDynamo } from './dynalite';
import { startLocalBroker, type LocalBroker } from './localBroker';
import { operatorSide } from './operatorSide';

/** Heartbeats, grace and the lifecycle jobs every second, so a test sees a rotation or a pause in seconds. */
export const FAST_LIFECYCLE: Record<string, string> = {
  BROKER_HEARTBEAT_INTERVAL: '1s',
  BROKER_ROTATION_GRACE: '1s',
  BROKER_SCHEDULE_INTERVAL: '1s',
};

export interface ClientTestBed {
  db: TestDynamo;
  broker: LocalBroker;
  proxy: CountingProxy;
  admin: WiredBroker;
  /** Stops the CLIs still running, the proxy, the broker and dynalite. */
  close(): Promise<void>;
}

/**
 * @example
 * let bed: ClientTestBed;
 * beforeAll(async () => (bed = await startClientTestBed({ ...FAST_LIFECYCLE, BROKER_ROTATE_AFTER: '4s' })));
 * afterAll(() => bed?.close());
 */
export async function startClientTestBed(env: Record<string, string> = {}): Promise<ClientTestBed> {
  const db = await startDynalite();
  let broker: LocalBroker | undefined;
  let proxy: CountingProxy;
  try {
    broker = await startLocalBroker({ env: { ...tablesEnv(db), ...env } });
    proxy = await startCountingProxy(broker.url);
  } catch (error) {
    await broker?.stop();
    await db.close();
    throw error;
  }
  return {
    db,
    broker,
    proxy,
    admin: operatorSide(db),
    close: async () => {
      stopAllCliRuns();
      await proxy.close();
      await broker.stop();
      await db.close();
    },
  };
}
