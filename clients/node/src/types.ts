/**
 * The public types of the client. Self-contained (no server import), so the published declarations need
 * nothing from the broker's code.
 */

export interface BrokerClientOptions {
  /** The broker's base URL, e.g. `https://telemetry.example.com` or `http://127.0.0.1:8787`. */
  brokerUrl: string;
  /** Your CLI's npm name and version: the broker records them, and they become `service.name`/`service.version`. */
  app: { name: string; version: string };
  /** Total time for the network steps of one run (lock, mint, heartbeat, refresh), and for `flush()`. Default 1500. */
  budgetMs?: number;
  /**
   * The first-run notice `noticeOnce()` prints (default: names the app, says what is collected and how to
   * opt out). `false`: your CLI shows its own notice, and the client does not wait for `noticeOnce()`.
   */
  notice?: string | false;
  /** A directory the client owns (made 0700). Default: the per-user config dir for `logfire-broker` (env-paths). */
  cacheDir?: string;
  /** Where `DO_NOT_TRACK`, `<APP>_TELEMETRY`, `<APP>_TELEMETRY_DEBUG` and CI variables are read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the notice and debug lines go. Default `process.stderr`. */
  stderr?: { write(chunk: string): unknown };
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Sent with the mint request. Default `<os>-<arch>`, e.g. `linux-x64`. */
  platform?: string;
  /** Extra string entries recorded with the token (at most 20 in all, with `ci`). */
  metadata?: Record<string, string>;
  /** Wall clock in epoch ms, for tests that move time (heartbeat due, token expiry). Default `Date.now`. */
  now?: () => number;
}

export interface BrokerClient {
  /**
   * The write token for this run, or undefined when telemetry is off for this run (opted out, notice not
   * shown yet, debug dry run, broker unreachable, budget spent, or the broker's operator turned it off for
   * this app, version or client library: remote settings, re-read at each heartbeat). Never throws. With a warm cache it makes
   * no network call.
   */
  getWriteToken(): Promise<string | undefined>;
  /** Where to send OTLP (the mint reply's `ingest.baseUrl`, cached), or undefined like above. Never throws. */
  getIngestBaseUrl(): Promise<string | undefined>;
  /** Prints the notice once per user and app (unless opted out or `notice: false`); returns true if it printed now. */
  noticeOnce(): boolean;
  /** Turns telemetry off for this user and app, persistently (e.g. behind `mycli telemetry disable`). */
  disable(): void;
  /** Undoes `disable()`. The environment's opt-outs still win. */
  enable(): void;
  /** False when `DO_NOT_TRACK=1`, `<APP>_TELEMETRY=0` (or `false`/`off`), or `disable()` was called. */
  readonly enabled: boolean;
  /** `<APP>_TELEMETRY_DEBUG=1`: a dry run; nothing is sent, and the client prints what it would do. */
  readonly debug: boolean;
  /** The detected CI provider, e.g. `github-actions`, or undefined. */
  readonly ci: string | undefined;
  /** The token cache file for this broker and app (0600), e.g. for a `telemetry status` command. */
  readonly cacheFile: string;
  /** OpenTelemetry resource attributes: service.name, service.version, logfire_broker.install_id, logfire_broker.platform, ci (if any). */
  resourceAttributes(): Promise<Record<string, string>>;
  /**
   * Options for `@pydantic/logfire-node`'s `configure()`: `token` (a function Logfire calls at each export),
   * `advanced.baseUrl`, `serviceName`, `serviceVersion`, `resourceAttributes`, `sendToLogfire`. When
   * telemetry is off for the run: `sendToLogfire: false` and no token (`console: true` in a debug dry run).
   */
  logfireOptions(): Promise<Record<string, unknown>>;
  /**
   * The share of traces to keep (0 to 1), as the broker's operator set it for this app and version (1 when
   * no rule says otherwise; 0 when telemetry is off for the run). Pass it to your tracer's sampler, e.g.
   * `new TraceIdRatioBasedSampler(rate)`; `logfireOptions()` already sets `sampling.head`. Never throws.
   */
  traceSampleRate(): Promise<number>;
  /**
   * Logs this installation out (e.g. behind `mycli telemetry reset`): asks the broker to revoke the cached
   * token's whole chain, within `budgetMs`, then deletes the token cache; the next run mints a new token.
   * The install id, opt-out and notice are kept. Never throws; if the broker cannot be reached the cache is
   * deleted anyway (the token then lives until it expires), and the debug output says so.
   */
  reset(): Promise<void>;
  /** Runs `flush` (e.g. `() => logfire.forceFlush()`) for at most `budgetMs`; never keeps the process alive longer. Never throws. */
  flush(flush: () => Promise<unknown>): Promise<void>;
}
