/**
 * The built-in upstream of local mode (DESIGN §7), used when no Logfire credential is set: it issues local
 * write tokens and accepts OTLP posted with them, printing one line per batch instead of storing it.
 * It answers like Logfire (401 for an unknown or deleted token), so the same client code works against both.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock, type Log, type Upstream, type UpstreamToken } from '../../core/ports';

export type OtlpSignal = 'traces' | 'logs' | 'metrics';

export interface OtlpPost {
  signal: OtlpSignal;
  /** The `Authorization` header as received: the raw write token, as Logfire expects. */
  authorization?: string;
  contentType?: string;
  body: Buffer;
}

export interface OtlpAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface DevUpstreamOptions {
  log: Log;
  /** Where clients send OTLP, e.g. `http://127.0.0.1:8787/dev-logfire`. */
  ingestBaseUrl: string;
  /** When given, live tokens survive a restart in `<dataDir>/dev-upstream-tokens.json`. */
  dataDir?: string;
  clock?: Clock;
}

/** What is remembered per token: its SHA-256, never the token, so the file grants nothing if copied. */
interface DevTokenEntry {
  upstreamId: string;
  tokenHash: string;
  description: string;
  createdAt: number;
  expiresAt: number;
}

export const DEV_TOKENS_FILE = 'dev-upstream-tokens.json';

const ITEMS: Record<OtlpSignal, [resources: string, scopes: string, items: string]> = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'],
  logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
  metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'],
};

/** Counting items means parsing; above this size the summary gives bytes only. */
const MAX_JSON_TO_COUNT = 5 * 1024 * 1024;

/**
 * @example
 * const dev = new DevUpstream({ log, ingestBaseUrl: 'http://127.0.0.1:8787/dev-logfire', dataDir: '.broker-data' });
 * const { token } = await dev.createWriteToken({ description: 'install 42', expiresAt });
 * dev.receiveOtlp({ signal: 'traces', authorization: token, contentType: 'application/json', body });
 */
export class DevUpstream implements Upstream {
  readonly kind = 'dev' as const;
  readonly canRevoke = true;
  readonly ingestBaseUrl: string;
  private readonly tokens = new Map<string, DevTokenEntry>();
  private readonly file?: string;
  private readonly clock: Clock;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly options: DevUpstreamOptions) {
    this.ingestBaseUrl = options.ingestBaseUrl.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
      this.file = join(options.dataDir, DEV_TOKENS_FILE);
      this.load(this.file);
    }
  }

  async prepare(): Promise<void> {}

  /** Tokens that would be accepted now. */
  get liveTokenCount(): number {
    const now = this.clock.now();
    return [...this.tokens.values()].filter((entry) => entry.expiresAt > now).length;
  }

  async createWriteToken(request: { description: string; expiresAt: Date }): Promise<UpstreamToken> {
    const token = `dev_wt_${randomBytes(32).toString('base64url')}`;
    const entry: DevTokenEntry = {
      upstreamId: `dev_${randomBytes(12).toString('base64url')}`,
      tokenHash: sha256(token),
      description: request.description,
      createdAt: this.clock.now(),
      expiresAt: request.expiresAt.getTime(),
    };
    this.tokens.set(entry.tokenHash, entry);
    await this.persist();
    return { upstreamId: entry.upstreamId, token };
  }

  /** Unknown ids count as deleted, like Logfire's 404. */
  async deleteWriteToken(upstreamId: string): Promise<void> {
    const entry = [...this.tokens.values()].find((candidate) => candidate.upstreamId === upstreamId);
    if (!entry) return;
    this.tokens.delete(entry.tokenHash);
    await this.persist();
  }

  /** Handles `POST {ingestBaseUrl}/v1/{signal}`; the local server sends the reply as JSON. */
  receiveOtlp(post: OtlpPost): OtlpAnswer {
    const token = post.authorization?.trim();
    const entry = token ? this.tokens.get(sha256(token)) : undefined;
    if (!entry || entry.expiresAt <= this.clock.now())
      return { status: 401, body: { detail: 'Invalid token' } };

    const contentType = (post.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/json' && contentType !== 'application/x-protobuf') {
      return { status: 415, body: { detail: 'Send OTLP as application/x-protobuf or application/json.' } };
    }
    const summary: Record<string, unknown> = {
      signal: post.signal,
      bytes: post.body.length,
      contentType,
      upstreamId: entry.upstreamId,
    };
    if (contentType === 'application/json' && post.body.length <= MAX_JSON_TO_COUNT && !isGzip(post.body)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(post.body.toString('utf8'));
      } catch {
        return { status: 400, body: { detail: 'The body is not valid JSON.' } };
      }
      Object.assign(summary, summarize(post.signal, parsed));
    }
    this.options.log.info(`dev upstream received ${post.signal}`, summary);
    return { status: 200, body: {} };
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const stored = JSON.parse(text) as { tokens?: DevTokenEntry[] };
      const now = this.clock.now();
      for (const entry of stored.tokens ?? []) {
        if (
          typeof entry.tokenHash === 'string' &&
          typeof entry.upstreamId === 'string' &&
          entry.expiresAt > now
        ) {
          this.tokens.set(entry.tokenHash, entry);
        }
      }
    } catch {
      // Dev data only: start empty; clients get 401 and mint again.
      this.options.log.warn('dev upstream token file is unreadable; starting with no tokens', { file });
    }
  }

  /** Writes are chained, so the file always ends with the latest state even when calls overlap. */
  private persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const snapshot = JSON.stringify({ version: 1, tokens: [...this.tokens.values()] }, null, 2);
    const write = this.writes.then(() => writeFileAtomically(file, snapshot));
    this.writes = write.catch(() => undefined);
    return write;
  }
}

/** Temp file + rename: a crash mid-write leaves the old file, never half a file. */
async function writeFileAtomically(file: string, data: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { mode: 0o600 });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function isGzip(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/** Counts spans, log records or metrics and finds `service.name` in an OTLP/JSON export request. */
function summarize(signal: OtlpSignal, parsed: unknown): Record<string, unknown> {
  const [resourcesKey, scopesKey, itemsKey] = ITEMS[signal];
  const resources = asArray((parsed as Record<string, unknown> | null)?.[resourcesKey]);
  let count = 0;
  let serviceName: string | undefined;
  for (const resource of resources) {
    for (const scope of asArray(resource?.[scopesKey])) count += asArray(scope?.[itemsKey]).length;
    const attributes = asArray((resource?.resource as Record<string, unknown> | undefined)?.attributes);
    const service = attributes.find((attribute) => attribute?.key === 'service.name');
    const value = (service?.value as Record<string, unknown> | undefined)?.stringValue;
    if (!serviceName && typeof value === 'string') serviceName = value;
  }
  return { [itemsKey]: count, ...(serviceName ? { serviceName } : {}) };
}

function asArray(value: unknown): Array<Record<string, unknown> | undefined> {
  return Array.isArray(value) ? (value as Array<Record<string, unknown> | undefined>) : [];
}
