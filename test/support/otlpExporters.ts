/**
 * Real OpenTelemetry trace exporters (OTLP/HTTP protobuf and JSON, with or without gzip) posting to a
 * local HTTP server on 127.0.0.1 that runs a handler on each request body, as the relay would.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export type ExporterFormat = 'protobuf' | 'json';

/** What the server received, and what its handler answered. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type RequestHandler = (request: ReceivedRequest) => {
  status: number;
  contentType: string;
  body: Buffer;
};

export interface OtlpServer {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startOtlpServer(handle: RequestHandler): Promise<OtlpServer> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) };
      received.push(entry);
      const reply = handle(entry);
      response.writeHead(reply.status, { 'content-type': reply.contentType }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** One export by a real exporter in a child process (exportTraces.ts). */
export interface ExportRun {
  format: ExporterFormat;
  gzip: boolean;
  /** The exporter's URL, `${server.url}/v1/traces`. */
  url: string;
  /** Resource attributes of the SDK's resource (the SDK adds its telemetry.sdk.* ones). */
  resource: Record<string, string>;
  spans: number;
}

const EXPORT_TRACES = join(__dirname, 'exportTraces.ts');

/** Runs one export and resolves with its result: code 0 when the exporter took the server's reply. */
export async function runTraceExporter(run: ExportRun): Promise<{ code: number; error?: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', EXPORT_TRACES, JSON.stringify(run)],
    {
      timeout: 20_000,
    },
  );
  return JSON.parse(stdout) as { code: number; error?: string };
}
