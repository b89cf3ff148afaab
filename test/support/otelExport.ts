/**
 * A real OpenTelemetry client in its own process (jest's module sandbox cannot run the exporter's dynamic
 * imports): sends spans through a tracer provider (one batch) and the OTLP/HTTP protobuf exporter (or the
 * JSON one), then prints one JSON line, `{"diagnostics":[...]}`, with every warning and error OpenTelemetry
 * reported on the way (and its info lines, with `diagnostics: 'info'`).
 *
 * @example
 * const { diagnostics } = await runOtelExport({ url: `${base}/v1/traces`, token, serviceName: 'cli', spans: 2 });
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface OtelExport {
  /** The full traces URL, e.g. `${baseUrl}/v1/traces`. */
  url: string;
  token: string;
  serviceName: string;
  spans: number;
  /** `gzip` sends compressed bodies, as the Python SDK does. */
  compression?: 'gzip' | 'none';
  /** `json`: @opentelemetry/exporter-trace-otlp-http (OTLP/JSON) instead of the protobuf exporter. */
  encoding?: 'protobuf' | 'json';
  /** `info` also keeps the exporter's info lines, e.g. why it did not retry (a Retry-After too far off). */
  diagnostics?: 'warn' | 'info';
}

export async function runOtelExport(request: OtelExport): Promise<{ diagnostics: string[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', __filename], {
    env: { ...process.env, OTEL_EXPORT_REQUEST: JSON.stringify(request) },
    timeout: 20_000,
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as { diagnostics: string[] };
}

async function exportInThisProcess(request: OtelExport): Promise<void> {
  const { diag, DiagLogLevel } = await import('@opentelemetry/api');
  const { OTLPTraceExporter } =
    request.encoding === 'json'
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  type Config = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;
  const info = request.diagnostics === 'info';

  const diagnostics: string[] = [];
  const keep =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      void diagnostics.push([`${level}: ${message}`, ...args.map(String)].join(' '));
  const ignore = () => undefined;
  diag.setLogger(
    {
      error: keep('error'),
      warn: keep('warn'),
      info: info ? keep('info') : ignore,
      debug: ignore,
      verbose: ignore,
    },
    { logLevel: info ? DiagLogLevel.INFO : DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const exporter = new OTLPTraceExporter({
    url: request.url,
    headers: { Authorization: request.token },
    compression: (request.compression ?? 'none') as Config['compression'],
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': request.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('otel-export');
  for (let i = 0; i < request.spans; i++) tracer.startSpan(`step ${i}`).end();
  // A refused export rejects the flush: report it like the other diagnostics.
  await provider
    .forceFlush()
    .catch((error: unknown) => void diagnostics.push(`error: flush failed ${String(error)}`));
  await provider.shutdown();
  console.log(JSON.stringify({ diagnostics }));
}

if (require.main === module) {
  void exportInThisProcess(JSON.parse(process.env.OTEL_EXPORT_REQUEST ?? '{}') as OtelExport);
}
