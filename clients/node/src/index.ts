/**
 * logfire-broker-client: a per-installation Pydantic Logfire write token from a logfire-broker, for
 * command-line tools. Cached per user, checked with the broker at most once per heartbeat interval,
 * refreshed and re-minted as the broker says, opt-out aware, and never slower than its time budget.
 */
import { BrokerClientImpl } from './client';
import type { BrokerClient, BrokerClientOptions } from './types';

export type { BrokerClient, BrokerClientOptions } from './types';
export { appEnvPrefix } from './conventions';

/**
 * Creates the client for one app and broker. Cheap (no I/O until a method needs it) and never throws.
 *
 * @example
 * import * as logfire from '@pydantic/logfire-node';
 * import { createBrokerClient } from 'logfire-broker-client';
 *
 * const telemetry = createBrokerClient({ brokerUrl: 'https://telemetry.example.com', app: { name: 'mycli', version } });
 * telemetry.noticeOnce();
 * logfire.configure(await telemetry.logfireOptions());
 * // … the CLI's work …
 * await telemetry.flush(() => logfire.forceFlush());
 */
export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  return new BrokerClientImpl(options);
}
