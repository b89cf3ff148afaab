/**
 * What the client tests run the example CLIs against: a real `npm start` broker (a child process) behind a
 * counting proxy, and for the tests that act as the operator too, on a fresh dynalite with the operator's
 * side wired to the same tables.
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

/** A `npm start` broker behind a counting proxy that records every call the CLIs make. */
export interface ProxiedBroker {
  broker: LocalBroker;
  proxy: CountingProxy;
  /** Stops the CLIs still running, the proxy and the broker. */
  close(): Promise<void>;
}

/**
 * With its embedded DynamoDB, unless `env` points it at other tables.
 * @example
 * let bed: ProxiedBroker;
 * beforeAll(async () => (bed = await startProxiedBroker()));
 * afterAll(() => bed?.close());
 */
export async function startProxiedBroker(env: Record<string, string> = {}): Promise<ProxiedBroker> {
  const broker = await startLocalBroker({ env });
  let proxy: CountingProxy;
  try {
    proxy = await startCountingProxy(broker.url);
  } catch (error) {
    await broker.stop();
    throw error;
  }
  return {
    broker,
    proxy,
    close: async () => {
      stopAllCliRuns();
      await proxy.close();
      await broker.stop();
    },
  };
}

/** A proxied broker on a fresh dynalite, with the operator's side wired to the same tables. */
export interface ClientTestBed extends ProxiedBroker {
  db: TestDynamo;
  admin: WiredBroker;
}

/**
 * @example
 * let bed: ClientTestBed;
 * beforeAll(async () => (bed = await startClientTestBed({ ...FAST_LIFECYCLE, BROKER_ROTATE_AFTER: '4s' })));
 * afterAll(() => bed?.close());
 */
export async function startClientTestBed(env: Record<string, string> = {}): Promise<ClientTestBed> {
  const db = await startDynalite();
  try {
    const proxied = await startProxiedBroker({ ...tablesEnv(db), ...env });
    return {
      ...proxied,
      db,
      admin: operatorSide(db),
      close: async () => {
        await proxied.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
