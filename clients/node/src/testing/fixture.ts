/**
 * Test support (not shipped): one temp cache dir, one stub broker and one movable clock per test, and a
 * factory for clients that use them (each client is one "run" of the CLI).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createBrokerClient, type BrokerClient, type BrokerClientOptions } from '../index';
import { startStubBroker, type StubBroker } from './stubBroker';

export const APP = { name: 'hello-cli', version: '1.2.3' };
export const START = Date.parse('2030-01-01T00:00:00.000Z');

export interface Sink {
  write(chunk: string): boolean;
  text(): string;
}

export function sink(): Sink {
  let text = '';
  return {
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    text: () => text,
  };
}

export interface Fixture {
  broker: StubBroker;
  dir: string;
  clock: { now: number };
  /** A client for one run: `notice: false`, no environment, the fixture's clock, a 1 s budget. */
  client(options?: Partial<BrokerClientOptions>): BrokerClient;
}

/**
 * Registers beforeEach/afterEach hooks and returns the fixture they fill.
 *
 * @example
 * const f = useFixture();
 * it('mints', async () => expect(await f.client().getWriteToken()).toBeDefined());
 */
export function useFixture(): Fixture {
  const fixture = {} as Fixture;
  beforeEach(async () => {
    fixture.clock = { now: START };
    fixture.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lfb-client-'));
    fixture.broker = await startStubBroker({ now: () => fixture.clock.now });
    fixture.client = (options = {}) =>
      createBrokerClient({
        brokerUrl: fixture.broker.url,
        app: APP,
        cacheDir: path.join(fixture.dir, 'config'),
        env: {},
        notice: false,
        budgetMs: 1000,
        stderr: sink(),
        now: () => fixture.clock.now,
        ...options,
      });
  });
  afterEach(async () => {
    await fixture.broker.close();
    fs.rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
