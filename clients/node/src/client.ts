import { cachePaths, readTokenCache, type CachePaths, type TokenCache } from './cacheFiles';
import { currentPlatform, defaultNotice, readSettings, type TelemetrySettings } from './conventions';
import { loadEnvPaths } from './lazy';
import { PreferenceStore } from './preferences';
import { dryRunLines } from './dryRun';
import { CacheRefusedError } from './errors';
import { Deadline } from './deadline';
import { CLIENT_LIBRARY } from './library';
import { withLock } from './lock';
import { remoteSettings, selfRevoke, type ClientSettings } from './protocol';
import { removeCacheFile } from './safeFiles';
import { judge, pausedReason, renewToken, type FlowContext } from './tokenFlow';
import type { BrokerClient, BrokerClientOptions } from './types';

export const DEFAULT_BUDGET_MS = 1500;
const MAX_METADATA_ENTRIES = 20;

function normalizeUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** The per-user config dir (`~/.config/logfire-broker` on Linux), or undefined where there is no home. */
function defaultCacheDir(): string | undefined {
  try {
    return loadEnvPaths()('logfire-broker', { suffix: '' }).config;
  } catch {
    return undefined;
  }
}

/**
 * The client behind `createBrokerClient()`: the gates (opt-out, notice, dry run), the cached fast path
 * and, when the cache is not enough, one network episode per run (`tokenFlow.ts`). Nothing it does on
 * behalf of the host throws; a failure turns telemetry off for the rest of the run.
 */
export class BrokerClientImpl implements BrokerClient {
  readonly debug: boolean;
  readonly ci: string | undefined;
  readonly cacheFile: string;
  private readonly settings: TelemetrySettings;
  private readonly app: { name: string; version: string };
  private readonly brokerUrl: string | undefined;
  private readonly budgetMs: number;
  private readonly paths: CachePaths;
  private readonly prefs: PreferenceStore;
  private readonly now: () => number;
  private readonly hasCacheDir: boolean;
  private readonly printed = new Set<string>();
  private record: TokenCache | undefined;
  private recordLoaded = false;
  private offReason: string | undefined;
  private inflight: Promise<string | undefined> | undefined;
  private noticeShownNow = false;
  private dryRunDescribed = false;

  constructor(private readonly options: BrokerClientOptions) {
    this.app = { name: String(options.app?.name ?? ''), version: String(options.app?.version ?? '') };
    this.settings = readSettings(this.app.name, options.env ?? process.env);
    this.debug = this.settings.debug === 'dry-run';
    this.ci = this.settings.ci;
    this.brokerUrl = normalizeUrl(options.brokerUrl);
    const budget = options.budgetMs ?? DEFAULT_BUDGET_MS;
    this.budgetMs = Number.isFinite(budget) && budget > 0 ? budget : DEFAULT_BUDGET_MS;
    this.now = options.now ?? Date.now;
    const cacheDir = options.cacheDir ?? defaultCacheDir();
    this.hasCacheDir = cacheDir !== undefined;
    this.paths = cachePaths(cacheDir ?? '.', this.brokerUrl ?? String(options.brokerUrl), this.app.name);
    this.cacheFile = this.paths.tokenFile;
    this.prefs = new PreferenceStore({
      dir: this.paths.dir,
      preferencesFile: this.paths.preferencesFile,
      tokenFile: this.paths.tokenFile,
      brokerUrl: this.brokerUrl ?? String(options.brokerUrl),
      appName: this.app.name,
      persist: this.hasCacheDir,
      log: (line) => this.log(line),
    });
  }

  get enabled(): boolean {
    return !this.settings.optOut && !this.prefs.peek()?.disabled;
  }

  noticeOnce(): boolean {
    try {
      if (this.options.notice === false || !this.enabled || this.prefs.peek()?.noticeShownAt) return false;
      // A cache the client refuses cannot remember the notice, and telemetry is off anyway.
      if (this.prefs.refusal()) return false;
      const text = this.options.notice ?? defaultNotice(this.app.name, this.settings.prefix);
      this.stderr().write(text.endsWith('\n') ? text : `${text}\n`);
      this.noticeShownNow = true;
      this.prefs.update({ noticeShownAt: new Date(this.now()).toISOString() });
      return true;
    } catch (error) {
      this.log(`could not show the notice: ${String(error)}`);
      return false;
    }
  }

  disable(): void {
    this.prefs.update({ disabled: true });
  }

  enable(): void {
    this.prefs.update({ disabled: false });
  }

  async getWriteToken(): Promise<string | undefined> {
    try {
      const gate = this.gate();
      if (gate) {
        this.log(gate);
        return undefined;
      }
      if (this.debug) {
        this.describeDryRun();
        return undefined;
      }
      if (this.offReason) return undefined;
      const installId = this.prefs.get().installId;
      if (!this.recordLoaded) {
        this.recordLoaded = true;
        const read = readTokenCache(this.paths.tokenFile, this.brokerUrl!, this.app.name);
        this.record = read.value;
        if (read.kind === 'refused') return this.turnOff(new CacheRefusedError(read.problem));
        if (read.problem) this.log(read.problem);
      }
      const verdict = judge(this.record, this.now(), installId);
      if (verdict === 'use') return this.obeyed(this.record!.writeToken);
      if (verdict === 'paused') {
        this.log(pausedReason(this.record!));
        return undefined;
      }
      this.inflight ??= this.renew(installId).finally(() => (this.inflight = undefined));
      return this.obeyed(await this.inflight);
    } catch (error) {
      return this.turnOff(error);
    }
  }

  async getIngestBaseUrl(): Promise<string | undefined> {
    const token = await this.getWriteToken();
    return token === undefined ? undefined : this.record?.ingestBaseUrl;
  }

  async resourceAttributes(): Promise<Record<string, string>> {
    // Opted-out users get no install id created on their behalf.
    const installId = this.enabled
      ? this.safely(() => this.prefs.get().installId)
      : this.prefs.peek()?.installId;
    return this.attributes(installId);
  }

  async traceSampleRate(): Promise<number> {
    const token = await this.getWriteToken();
    return token === undefined ? 0 : this.settingsNow().sampleRate;
  }

  async reset(): Promise<void> {
    try {
      if (!this.brokerUrl || !this.hasCacheDir) return;
      const deadline = new Deadline(this.budgetMs);
      const log = (line: string) => this.log(line);
      await withLock(this.paths.tokenFile, deadline, async () => {
        const cached = readTokenCache(this.paths.tokenFile, this.brokerUrl!, this.app.name).value;
        if (cached) {
          this.record = cached; // so its secrets are masked in the lines below
          const http = { brokerUrl: this.brokerUrl!, fetch: this.options.fetch ?? fetch, deadline, log };
          try {
            const outcome = await selfRevoke(http, cached.tokenId, cached.clientSecret);
            log(
              outcome === 'revoked'
                ? `reset: the broker revoked token ${cached.tokenId} and its chain`
                : `reset: the broker no longer knows token ${cached.tokenId}; nothing to revoke`,
            );
          } catch (error) {
            // The cache goes anyway: a reset must not leave this user's token on disk.
            log(
              `reset: token ${cached.tokenId} could not be revoked (${String(error)}); it expires ${cached.expiresAt}`,
            );
          }
        }
        removeCacheFile(this.paths.tokenFile);
      });
    } catch (error) {
      this.log(`reset failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.record = undefined;
      this.recordLoaded = false;
    }
  }

  async logfireOptions(): Promise<Record<string, unknown>> {
    const resourceAttributes = await this.resourceAttributes();
    const common = { serviceName: this.app.name, serviceVersion: this.app.version, resourceAttributes };
    const token = await this.getWriteToken();
    const baseUrl = token === undefined ? undefined : this.record?.ingestBaseUrl;
    if (token === undefined || baseUrl === undefined) {
      // In a dry run Logfire prints the spans it would have sent.
      return { ...common, sendToLogfire: false, ...(this.debug ? { console: true } : {}) };
    }
    const sampleRate = this.settingsNow().sampleRate;
    return {
      ...common,
      sendToLogfire: true,
      // The operator's trace sample rate (@pydantic/logfire-node's head sampling; older versions ignore it).
      ...(sampleRate < 1 ? { sampling: { head: sampleRate } } : {}),
      // Called by Logfire at each export: the current token, renewed if it expired meanwhile.
      token: async () => {
        const current = await this.getWriteToken();
        if (current === undefined) throw new Error(`${this.app.name} telemetry is off for this run`);
        return current;
      },
      advanced: { baseUrl },
    };
  }

  async flush(flush: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.budgetMs);
      timer.unref();
    });
    try {
      const work = Promise.resolve()
        .then(flush)
        .then(() => 'done' as const);
      const result = await Promise.race([work, timeout]);
      if (result === 'timeout') {
        work.catch(() => undefined); // a late failure must not surface as an unhandled rejection
        this.log(`flush did not finish within ${this.budgetMs} ms; pending telemetry dropped`);
      }
    } catch (error) {
      this.log(`flush failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Why telemetry is off before anything touches the network, if it is. */
  private gate(): string | undefined {
    if (this.settings.optOut) return `telemetry is off: ${this.settings.optOut}`;
    if (!this.brokerUrl) return 'telemetry is off: brokerUrl is not an http(s) URL';
    if (!this.hasCacheDir) return 'telemetry is off: there is no per-user config directory (pass cacheDir)';
    const refused = this.prefs.refusal();
    if (refused) return `telemetry is off: ${refused}`;
    const prefs = this.prefs.peek();
    if (prefs?.disabled) return `telemetry is off: disabled for ${this.app.name} (enable() turns it back on)`;
    if (this.options.notice !== false && !this.noticeShownNow && !prefs?.noticeShownAt) {
      return 'telemetry is off until the first-run notice has been shown (noticeOnce())';
    }
    return undefined;
  }

  private async renew(installId: string): Promise<string | undefined> {
    const context: FlowContext = {
      paths: this.paths,
      brokerUrl: this.brokerUrl!,
      app: this.app,
      installId,
      reloadInstallId: () => this.prefs.reload(),
      platform: this.platform(),
      metadata: this.metadata(),
      now: this.now,
      fetch: this.options.fetch ?? fetch,
      budgetMs: this.budgetMs,
      log: (line) => this.log(line),
    };
    const result = await renewToken(context);
    this.record = result.record;
    if (result.off) {
      this.log(result.off);
      return undefined;
    }
    return result.record?.writeToken;
  }

  /** The remote client settings last received (cached), or telemetry on at the full rate. */
  private settingsNow(): ClientSettings {
    return remoteSettings(this.record?.settings) ?? { telemetry: 'on', sampleRate: 1 };
  }

  /** `token`, unless the operator's settings turn telemetry off; a debug line says why either way. */
  private obeyed(token: string | undefined): string | undefined {
    if (token === undefined) return undefined;
    const settings = this.settingsNow();
    const app = `${this.app.name} ${this.app.version}`;
    if (settings.telemetry === 'off') {
      this.log(
        settings.reason === 'client_outdated'
          ? `telemetry is off: the broker needs ${CLIENT_LIBRARY.name} ${settings.minClientVersion ?? '(newer)'} or later, this is ${CLIENT_LIBRARY.version}; update ${this.app.name}`
          : `telemetry is off: the broker's operator turned telemetry off for ${app} (kill switch)`,
      );
      return undefined;
    }
    if (settings.sampleRate < 1) {
      this.log(
        `the broker's operator samples ${Math.round(settings.sampleRate * 1000) / 10}% of traces for ${app}`,
      );
    }
    return token;
  }

  private turnOff(error: unknown): undefined {
    this.offReason = error instanceof Error ? error.message : String(error);
    this.log(`telemetry is off for this run: ${this.offReason}`);
    return undefined;
  }

  /** Prints, once per run, what a real run would do (`<APP>_TELEMETRY_DEBUG=1`). Reads, never sends. */
  private describeDryRun(): void {
    if (this.dryRunDescribed) return;
    this.dryRunDescribed = true;
    const installId = this.prefs.get().installId;
    const lines = dryRunLines({
      record: readTokenCache(this.paths.tokenFile, this.brokerUrl!, this.app.name).value,
      installId,
      now: this.now(),
      app: this.app,
      brokerUrl: this.brokerUrl!,
      platform: this.platform(),
      ci: this.ci,
      attributes: this.attributes(installId),
      prefix: this.settings.prefix,
    });
    for (const line of lines) this.log(line);
  }

  private attributes(installId: string | undefined): Record<string, string> {
    return {
      'service.name': this.app.name,
      'service.version': this.app.version,
      ...(installId ? { 'logfire_broker.install_id': installId } : {}),
      'logfire_broker.platform': this.platform(),
      ...(this.ci ? { ci: this.ci } : {}),
    };
  }

  private platform(): string {
    return this.options.platform ?? currentPlatform();
  }

  private metadata(): Record<string, string> {
    const entries = Object.entries(this.options.metadata ?? {}).filter(([key]) => key !== 'ci');
    if (this.ci) entries.unshift(['ci', this.ci]);
    return Object.fromEntries(entries.slice(0, MAX_METADATA_ENTRIES));
  }

  private stderr(): { write(chunk: string): unknown } {
    return this.options.stderr ?? process.stderr;
  }

  private safely<T>(work: () => T): T | undefined {
    try {
      return work();
    } catch (error) {
      this.log(String(error));
      return undefined;
    }
  }

  /** A debug line, printed once per run when `<APP>_TELEMETRY_DEBUG` is set. Secrets are masked, always. */
  private log(line: string): void {
    if (this.settings.debug === 'off' || this.printed.has(line)) return;
    this.printed.add(line);
    let text = line;
    for (const secret of [this.record?.writeToken, this.record?.clientSecret]) {
      if (secret) text = text.split(secret).join('[redacted]');
    }
    try {
      this.stderr().write(`[${this.app.name} telemetry] ${text}\n`);
    } catch {
      // A closed stderr must not break the host.
    }
  }
}
