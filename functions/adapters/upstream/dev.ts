/**
 * The built-in upstream of local mode (DESIGN §7), used when no Logfire credential is set: it issues local
 * write tokens and serves ingest the way Logfire does at the root of a base URL (`POST /v1/{signal}`,
 * `GET /v1/info`), printing one line per batch instead of storing it. It answers like Logfire (401 for an
 * unknown or deleted token), so the same client code, the Python SDK included, works against both.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { BrokerError, InvalidRequest, PayloadTooLarge, Unauthorized } from '../../core/errors';
import {
  systemClock,
  type Clock,
  type ListedWriteToken,
  type Log,
  type Upstream,
  type UpstreamToken,
} from '../../core/ports';
import { DevTokenFile, type DevTokenEntry } from './devTokenFile';
import { summarizeOtlpJson, summarizeOtlpProtobuf, type OtlpSignal } from './otlpSummary';

export { DEV_TOKENS_FILE } from './devTokenFile';
export type { OtlpSignal } from './otlpSummary';

export interface OtlpPost {
  signal: OtlpSignal;
  /** The `Authorization` header as received: the raw write token, as Logfire expects. */
  authorization?: string;
  contentType?: string;
  /** The `Content-Encoding` header (the Python SDK sends gzip). */
  contentEncoding?: string;
  /** Reads the body; called only once the token and the content type are accepted. */
  readBody(): Promise<Buffer>;
}

/** An accepted export: OTLP/HTTP answers in the request's content type, and an empty message is a success. */
export interface OtlpAnswer {
  contentType: typeof PROTOBUF | typeof JSON_TYPE;
  body: string;
}

/** What `GET /v1/info` answers for a valid write token; the Python SDK calls it at every `configure`. */
export interface ProjectInfo {
  project_name: string;
  project_url: string;
}

export interface DevUpstreamOptions {
  log: Log;
  /**
   * Where clients send OTLP: a base URL without a path, e.g. `http://127.0.0.1:8787`, because the Python SDK
   * joins `/v1/traces` at the root of it (`urljoin`) and so drops any path.
   */
  ingestBaseUrl: string;
  /** When given, live tokens survive a restart in `<dataDir>/dev-upstream-tokens.json`. */
  dataDir?: string;
  clock?: Clock;
}

/** OTLP batches may be far larger than API bodies; Logfire takes up to 100 MB, the dev upstream 20 MiB. */
export const MAX_OTLP_BYTES = 20 * 1024 * 1024;
export const DEV_PROJECT_NAME = 'dev-upstream';
/** Logfire fixes the description of every token its public API creates (DESIGN §5). */
const DESCRIPTION = 'Created by Public API';
/** As long as the prefix Logfire shows for its own tokens. */
const TOKEN_PREFIX_LENGTH = 15;
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
/** Counting items of OTLP/JSON means parsing it; above this size the summary gives bytes only. */
const MAX_JSON_TO_COUNT = 5 * 1024 * 1024;
const DECODERS: Record<string, ((body: Buffer) => Promise<Buffer>) | undefined> = {
  identity: async (body) => body,
  gzip: (body) => decompress(promisify(gunzip), body, 'gzip'),
  deflate: (body) => decompress(promisify(inflate), body, 'deflate'),
};

class UnsupportedOtlpMedia extends BrokerError {
  constructor(message: string) {
    super(415, 'unsupported_media_type', message);
  }
}

/**
 * @example
 * const dev = new DevUpstream({ log, ingestBaseUrl: 'http://127.0.0.1:8787', dataDir: '.broker-data' });
 * const { token } = await dev.createWriteToken({ expiresAt });
 * await dev.receiveOtlp({ signal: 'traces', authorization: token, contentType: 'application/x-protobuf', readBody });
 */
export class DevUpstream implements Upstream {
  readonly kind = 'dev' as const;
  readonly canRevoke = true;
  readonly ingestBaseUrl: string;
  private readonly tokens = new Map<string, DevTokenEntry>();
  private readonly file?: DevTokenFile;
  private readonly clock: Clock;

  constructor(private readonly options: DevUpstreamOptions) {
    this.ingestBaseUrl = options.ingestBaseUrl.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    if (options.dataDir) {
      this.file = new DevTokenFile(options.dataDir, options.log);
      for (const entry of this.file.load(this.clock.now())) this.tokens.set(entry.tokenHash, entry);
    }
  }

  async prepare(): Promise<void> {}

  /** Tokens that would be accepted now. */
  get liveTokenCount(): number {
    return this.liveEntries().length;
  }

  async createWriteToken(request: { expiresAt: Date }): Promise<UpstreamToken> {
    const token = `dev_wt_${randomBytes(32).toString('base64url')}`;
    const entry: DevTokenEntry = {
      upstreamId: `dev_${randomBytes(12).toString('base64url')}`,
      tokenHash: sha256(token),
      tokenPrefix: token.slice(0, TOKEN_PREFIX_LENGTH),
      createdAt: this.clock.now(),
      expiresAt: request.expiresAt.getTime(),
    };
    this.tokens.set(entry.tokenHash, entry);
    await this.persist();
    return { upstreamId: entry.upstreamId, token, tokenPrefix: entry.tokenPrefix };
  }

  /** Unknown ids count as deleted, like Logfire's 404. */
  async deleteWriteToken(upstreamId: string): Promise<void> {
    const entry = [...this.tokens.values()].find((candidate) => candidate.upstreamId === upstreamId);
    if (!entry) return;
    this.tokens.delete(entry.tokenHash);
    await this.persist();
  }

  /** The live tokens, as Logfire's list shows them (expired ones are gone at Logfire too). */
  async listWriteTokens(): Promise<ListedWriteToken[]> {
    return this.liveEntries().map((entry) => ({
      upstreamId: entry.upstreamId,
      description: DESCRIPTION,
      createdAt: new Date(entry.createdAt).toISOString(),
      expiresAt: new Date(entry.expiresAt).toISOString(),
      ...(entry.tokenPrefix ? { tokenPrefix: entry.tokenPrefix } : {}),
    }));
  }

  /** `GET {ingestBaseUrl}/v1/info`. Throws `Unauthorized` unless the token is live. */
  projectInfo(authorization: string | undefined): ProjectInfo {
    this.liveEntry(authorization);
    return { project_name: DEV_PROJECT_NAME, project_url: this.ingestBaseUrl };
  }

  /**
   * `POST {ingestBaseUrl}/v1/{signal}`: checks the token and the content type before the body is read, so a
   * client without a valid token is refused without sending its batch. Throws a `BrokerError` (401, 400,
   * 413, 415) when the export is refused.
   */
  async receiveOtlp(post: OtlpPost): Promise<OtlpAnswer> {
    const entry = this.liveEntry(post.authorization);
    const contentType = (post.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== JSON_TYPE && contentType !== PROTOBUF) {
      throw new UnsupportedOtlpMedia(`Send OTLP as ${PROTOBUF} or ${JSON_TYPE}.`);
    }
    const encoding = post.contentEncoding?.trim().toLowerCase() || 'identity';
    const decode = DECODERS[encoding];
    if (!decode) throw new UnsupportedOtlpMedia('Send OTLP uncompressed, or with gzip or deflate.');

    const sent = await post.readBody();
    const body = await decode(sent);
    const summary: Record<string, unknown> = {
      signal: post.signal,
      bytes: sent.length,
      ...(encoding === 'identity' ? {} : { encoding, decodedBytes: body.length }),
      contentType,
      upstreamId: entry.upstreamId,
    };
    if (contentType === PROTOBUF) Object.assign(summary, summarizeOtlpProtobuf(post.signal, body));
    else if (body.length <= MAX_JSON_TO_COUNT)
      Object.assign(summary, summarizeOtlpJson(post.signal, parseJson(body)));
    this.options.log.info(`dev upstream received ${post.signal}`, summary);
    return contentType === PROTOBUF ? { contentType, body: '' } : { contentType, body: '{}' };
  }

  private liveEntry(authorization: string | undefined): DevTokenEntry {
    const token = authorization?.trim();
    const entry = token ? this.tokens.get(sha256(token)) : undefined;
    if (!entry || entry.expiresAt <= this.clock.now()) throw new Unauthorized();
    return entry;
  }

  private liveEntries(): DevTokenEntry[] {
    const now = this.clock.now();
    return [...this.tokens.values()].filter((entry) => entry.expiresAt > now);
  }

  private persist(): Promise<void> {
    return this.file ? this.file.save([...this.tokens.values()]) : Promise.resolve();
  }
}

async function decompress(
  run: (body: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>,
  body: Buffer,
  encoding: string,
): Promise<Buffer> {
  try {
    return await run(body, { maxOutputLength: MAX_OTLP_BYTES });
  } catch (error) {
    // A small body that inflates past the limit (a zip bomb) is refused like a large one.
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new PayloadTooLarge(MAX_OTLP_BYTES);
    throw new InvalidRequest(`The body is not valid ${encoding} data.`);
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidRequest('The body is not valid JSON.');
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
