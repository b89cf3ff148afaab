/**
 * An embedded DynamoDB for `npm start` and the tests: dynalite speaks the real wire protocol, in memory
 * or persisted to a folder (LevelDB), on 127.0.0.1 at a free port.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error -- dynalite ships no type declarations; the one function used is typed below.
import dynaliteModule from 'dynalite';

type DynaliteFactory = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;
const dynalite = dynaliteModule as DynaliteFactory;

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** @example const db = await startEmbeddedDynamo({ path: '.broker-data/dynamodb' }); */
export async function startEmbeddedDynamo(options: { path?: string } = {}): Promise<EmbeddedDynamo> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
