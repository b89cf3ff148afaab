/**
 * A real OpenTelemetry client in its own process (jest's module sandbox cannot run the exporter's dynamic
 * imports): sends spans through a tracer provider (one batch) and the OTLP/HTTP protobuf exporter, then prints one
 * JSON line, `{"diagnostics":[...]}`, with every warning and error OpenTelemetry reported on the way.
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
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  type Config = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

  const diagnostics: string[] = [];
  const keep =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      void diagnostics.push([`${level}: ${message}`, ...args.map(String)].join(' '));
  const ignore = () => undefined;
  diag.setLogger(
    { error: keep('error'), warn: keep('warn'), info: ignore, debug: ignore, verbose: ignore },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
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
  await provider.forceFlush();
  await provider.shutdown();
  console.log(JSON.stringify({ diagnostics }));
}

if (require.main === module) {
  void exportInThisProcess(JSON.parse(process.env.OTEL_EXPORT_REQUEST ?? '{}') as OtelExport);
}
