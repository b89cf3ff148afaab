/**
 * The DynamoDB tables as plain data (docs/data-model.md). No SDK import: the Pulumi stack builds the real
 * tables from these values, and `ensureTables` creates the same ones in a local dynalite.
 *
 * One table holds tokens, idempotency keys and (later) quota counters, keyed by `pk`/`sk` with a prefix per
 * item kind. The audit trail has its own table because it is append-only, large, and kept for another span.
 */

/** Names of the attributes the indexes are built on. The `gsi*` ones exist only while a token is in the state the index serves. */
export const ATTR = {
  pk: 'pk',
  sk: 'sk',
  /** DynamoDB TTL: epoch SECONDS, unlike every other time (epoch ms). */
  ttl: 'ttl',
  /** `hash(tokenId) % shards`, fixed at create: spreads the time-ordered indexes over a few partitions. */
  shard: 'shard',
  installId: 'installId',
  chainId: 'chainId',
  createdAt: 'createdAt',
  /** = refreshAfter while status is `active`. */
  rotateAt: 'gsiRotateAt',
  /** = lastHeartbeatAt, or createdAt before the first heartbeat, while status is live (active, paused, rotate). */
  seenAt: 'gsiSeenAt',
  /** = expiresAt while status is not terminal (not revoked, superseded, expired). */
  expireAt: 'gsiExpireAt',
  /** When the upstream token is next due for deletion; set at refresh (after the grace) and at revoke. */
  deleteAt: 'gsiDeleteAt',
  /** = shard, written only for tokens that have an upstreamId: tokens Logfire cannot delete never enter the queue. */
  deleteShard: 'gsiDeleteShard',
  deleteAttempts: 'deleteAttempts',
  /** = shard, set by the relay's first charge (relay mode): the byRelayAt index holds only tokens that relayed. */
  relayShard: 'gsiRelayShard',
  /** `<app>#<version key>` (core/indexKeys.ts) while status is not terminal: bulk filters by app and version. */
  appVersion: 'gsiAppVersion',
  /** The source address as a sortable key (core/indexKeys.ts) while status is not terminal: filters by CIDR. */
  source: 'gsiSource',
  /** Logfire's id of the token's write token (API-key and dev modes): reconciliation asks "is this one ours?". */
  upstreamId: 'upstreamId',
} as const;

export const INDEX = {
  /** Tokens of one install, newest first (admin). */
  byInstall: 'byInstall',
  /** Tokens of one refresh chain (reuse detection revokes the whole chain). */
  byChain: 'byChain',
  /** Active tokens by refreshAfter: the rotation job reads only the due ones. */
  byRotateAt: 'byRotateAt',
  /** Live tokens by last heartbeat: the sweep finds the silent ones. */
  bySeenAt: 'bySeenAt',
  /** Non-terminal tokens by expiresAt: the sweep marks the expired ones. */
  byExpireAt: 'byExpireAt',
  /** The durable queue of upstream tokens still to delete at Logfire. */
  byDeleteAt: 'byDeleteAt',
  /** Which record holds a Logfire token: the sweep's reconciliation never deletes a recorded one. */
  byUpstreamId: 'byUpstreamId',
  /** Tokens by their last relayed batch (relay mode): the relay-volume anomaly rule reads the recent ones. */
  byRelayAt: 'byRelayAt',
  /** Non-terminal tokens by app and version (admin filters and bulk jobs read only the matching ones). */
  byAppVersion: 'byAppVersion',
  /** Non-terminal tokens by source address (admin filters and bulk jobs by network). */
  bySource: 'bySource',
} as const;

export const AUDIT_INDEX = {
  byInstall: 'byInstall',
  byTime: 'byTime',
} as const;

/** Few shards: each list query fans out over all of them, and 4 partitions already absorb thousands of writes/s. */
export const DEFAULT_SHARDS = 4;

/** Token records stay this long after expiresAt (admin and audit look-ups), then DynamoDB's TTL removes them. */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;

/** Audit entries are kept a year. */
export const AUDIT_RETENTION_MS = 365 * 86_400_000;

/** Key prefixes: one table, several item kinds, no collisions between a token id and a key hash. */
export const KEY = {
  token: (tokenId: string) => ({ pk: `token#${tokenId}`, sk: 'token' }),
  idempotency: (keyHash: string) => ({ pk: `idem#${keyHash}`, sk: 'idem' }),
  /**
   * A quota counter: one item per subject and window (its start, epoch ms), incremented with a conditional ADD.
   * @example KEY.quota('mint:ip', '203.0.113.7', 1764583200000) // { pk: 'quota#mint:ip#203.0.113.7', sk: '1764583200000' }
   */
  quota: (scope: string, subject: string, windowStart: number) => ({
    pk: `quota#${scope}#${subject}`,
    sk: String(windowStart),
  }),
  /** The operator's run-time overrides of the quota limits (the admin surface writes them). */
  quotaOverrides: () => ({ pk: 'settings#quotas', sk: 'settings' }),
  /** A bulk admin job (docs/admin-api.md): its filter, its progress and where it goes on. */
  bulkJob: (jobId: string) => ({ pk: `bulkjob#${jobId}`, sk: 'bulkjob' }),
  /** The admin second factor's state: the last TOTP step used, the failures and the lock. */
  otpState: () => ({ pk: 'admin#otp', sk: 'otp' }),
} as const;

export const TOKEN_PK_PREFIX = 'token#';

/**
 * A kind of note kept in the tokens table beside the records: `pk = <prefix>#<id>`, `sk = <prefix>`, with
 * its `chainId` attribute set to a reserved `partition` (no token id starts with `#`), so the byChain index
 * lists every pending note of the kind, oldest first, with one Query and no new index.
 */
function noteKind(prefix: string, partition: string, what: string) {
  return {
    partition,
    key: (id: string) => ({ pk: `${prefix}#${id}`, sk: prefix }),
    idOf: (pk: unknown): string => {
      if (typeof pk !== 'string' || !pk.startsWith(`${prefix}#`))
        throw new Error(`not a ${what} key: ${String(pk)}`);
      return pk.slice(prefix.length + 1);
    },
  } as const;
}

/**
 * A chain revocation in progress (reuse detection): written before the chain walk and deleted by the sweep
 * once every member is revoked.
 */
export const CHAIN_REVOCATIONS = noteKind('chainrevoke', '#chain-revocations', 'chain revocation');

/**
 * A mint's write-ahead intent (docs/lifecycle.md, "Crash-consistent minting"), keyed by the token id it will
 * have: written before Logfire is asked for a token and removed in the same batch that stores the record.
 * One left behind means the process died (or Logfire timed out) in between; the sweep's reconciliation
 * then looks for the token at Logfire by the exact `expires_at` the intent asked for.
 */
export const MINT_INTENTS = noteKind('intent', '#mint-intents', 'mint intent');

/** CreateTable-shaped description, without SDK types so the infra program can read it too. */
export interface TableDefinition {
  tableName: string;
  attributes: Array<{ name: string; type: 'S' | 'N' }>;
  hashKey: string;
  rangeKey?: string;
  ttlAttribute: string;
  globalIndexes: Array<{
    name: string;
    hashKey: string;
    rangeKey?: string;
    projection: { type: 'ALL' } | { type: 'KEYS_ONLY' } | { type: 'INCLUDE'; nonKeyAttributes: string[] };
  }>;
}

/**
 * The tokens table. Indexes use KEYS_ONLY/INCLUDE projections with keys that a heartbeat does not touch,
 * so a heartbeat writes the table plus one small index entry (bySeenAt), nothing more.
 * @example tokensTable('logfire-broker-tokens').globalIndexes.map((index) => index.name) // ['byInstall', ...]
 */
export function tokensTable(tableName: string): TableDefinition {
  const byShard = (name: string, rangeKey: string, hashKey: string = ATTR.shard) => ({
    name,
    hashKey,
    rangeKey,
    projection: { type: 'KEYS_ONLY' as const },
  });
  return {
    tableName,
    hashKey: ATTR.pk,
    rangeKey: ATTR.sk,
    ttlAttribute: ATTR.ttl,
    attributes: [
      { name: ATTR.pk, type: 'S' },
      { name: ATTR.sk, type: 'S' },
      { name: ATTR.shard, type: 'N' },
      { name: ATTR.installId, type: 'S' },
      { name: ATTR.chainId, type: 'S' },
      { name: ATTR.createdAt, type: 'N' },
      { name: ATTR.rotateAt, type: 'N' },
      { name: ATTR.seenAt, type: 'N' },
      { name: ATTR.expireAt, type: 'N' },
      { name: ATTR.deleteAt, type: 'N' },
      { name: ATTR.deleteShard, type: 'N' },
      { name: ATTR.upstreamId, type: 'S' },
      { name: ATTR.relayShard, type: 'N' },
      { name: 'relayLastAt', type: 'N' },
      { name: ATTR.appVersion, type: 'S' },
      { name: ATTR.source, type: 'S' },
    ],
    globalIndexes: [
      {
        name: INDEX.byInstall,
        hashKey: ATTR.installId,
        rangeKey: ATTR.createdAt,
        projection: { type: 'KEYS_ONLY' },
      },
      {
        name: INDEX.byChain,
        hashKey: ATTR.chainId,
        rangeKey: ATTR.createdAt,
        projection: { type: 'KEYS_ONLY' },
      },
      byShard(INDEX.byRotateAt, ATTR.rotateAt),
      byShard(INDEX.bySeenAt, ATTR.seenAt),
      byShard(INDEX.byExpireAt, ATTR.expireAt),
      {
        name: INDEX.byDeleteAt,
        hashKey: ATTR.deleteShard,
        rangeKey: ATTR.deleteAt,
        // The deletion worker needs these without a second read; they change only at status changes.
        projection: { type: 'INCLUDE', nonKeyAttributes: ['upstreamId', 'status', ATTR.deleteAttempts] },
      },
      {
        name: INDEX.byUpstreamId,
        hashKey: ATTR.upstreamId,
        projection: { type: 'KEYS_ONLY' },
      },
      byShard(INDEX.byRelayAt, 'relayLastAt', ATTR.relayShard),
      byShard(INDEX.byAppVersion, ATTR.appVersion),
      byShard(INDEX.bySource, ATTR.source),
    ],
  };
}

/**
 * The audit table: append-only. `pk` is the subject (`token#<id>`, `admin#<principal>`, `global`), `sk` is
 * `<15-digit epoch ms>#<event id>` so a subject's entries sort by time; `shard` + `sk` give the time-range
 * view, `installId` + `sk` the per-install view (sparse: only entries about an install carry it).
 */
export function auditTable(tableName: string): TableDefinition {
  return {
    tableName,
    hashKey: ATTR.pk,
    rangeKey: ATTR.sk,
    ttlAttribute: ATTR.ttl,
    attributes: [
      { name: ATTR.pk, type: 'S' },
      { name: ATTR.sk, type: 'S' },
      { name: ATTR.installId, type: 'S' },
      { name: ATTR.shard, type: 'N' },
    ],
    globalIndexes: [
      {
        name: AUDIT_INDEX.byInstall,
        hashKey: ATTR.installId,
        rangeKey: ATTR.sk,
        projection: { type: 'ALL' },
      },
      { name: AUDIT_INDEX.byTime, hashKey: ATTR.shard, rangeKey: ATTR.sk, projection: { type: 'ALL' } },
    ],
  };
}

/** The audit table's default name, derived from the tokens table's. */
export function defaultAuditTableName(tokensTableName: string): string {
  return `${tokensTableName}-audit`;
}

/**
 * Which shard a token's time-ordered index entries go to (FNV-1a, stable across processes).
 * @example shardOf('tok_abc', 4) // 0..3
 */
export function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
