/**
 * An emulated Logfire ingest in a child process of its own, as Logfire is a service of its own: its CPU is
 * not the broker's. It answers `POST /v1/{traces,logs,metrics}` as Logfire does (401 without a known write
 * token, else the whole body read and an empty protobuf reply) after an emulated round trip.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IngestProcess {
  baseUrl: string;
  pid: number;
  /** The write tokens it accepts and its answer delay; applies to requests that begin afterwards. */
  configure(settings: { tokens: string[]; delayMs: number }): Promise<void>;
  close(): void;
}

/** @example const ingest = await ingestProcess(); await ingest.configure({ tokens: [token], delayMs: 25 }); */
export async function ingestProcess(): Promise<IngestProcess> {
  const child: ChildProcess = fork(__filename, ['--serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [port] = (await once(child, 'message')) as [number];
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async configure(settings) {
      child.send(settings);
      await once(child, 'message');
    },
    close: () => child.kill(),
  };
}

function serve(): void {
  let tokens = new Set<string>();
  let delayMs = 0;
  const server = createServer((request, response) => {
    const accepted = /^\/v1\/(traces|logs|metrics)$/.test(request.url ?? '') && request.method === 'POST';
    const known = tokens.has(request.headers.authorization ?? '');
    const answer = () => {
      if (!accepted) return response.writeHead(404).end();
      if (!known)
        return response
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"detail":"Invalid token"}');
      response.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
    };
    request.on('data', () => {});
    request.on('end', () => (delayMs ? setTimeout(answer, delayMs) : answer()));
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', (settings: { tokens: string[]; delayMs: number }) => {
    tokens = new Set(settings.tokens);
    delayMs = settings.delayMs;
    process.send!('ok');
  });
  process.on('disconnect', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
}

if (process.argv.includes('--serve')) serve();
