/**
 * The relay's upstream pool (docs/relay.md): the few Logfire write tokens the relay forwards with, instead
 * of one per install. One item in the tokens table holds a `current` and a `previous` token, each sealed
 * (AES-256-GCM) under a key derived with HKDF from the upstream credential, which stays in Secrets
 * Manager: neither the table, nor Pulumi state, nor a log line reveals them. A relay process keeps the
 * opened pool for a minute. Every change replaces the item under a version check, so concurrent relays
 * agree on one pool, and a token that lost such a race is deleted again at Logfire.
 */
import type { AuditAction, AuditActor, AuditEntry, AuditLog } from './audit';
import type { BrokerDeps } from './deps';
import { openReply, sealReply } from './credentials';
import { errorName, UpstreamUnavailable } from './errors';
import { appendAudit } from './jobs';
import type { Clock, Log, RelayStore, SealedPoolToken, StoredPool, Upstream } from './ports';

/**
 * The rotation job's relay step: a pool whose current token is older than BROKER_ROTATE_AFTER gets a new
 * one (created at first if there is none). Not in user-token mode, where Logfire cannot delete the old
 * token: each rotation would leave one more live token behind.
 * @example await rotateUpstreamPool(deps, run.now) // 'rotated' | 'not_due' | 'not_rotatable' | 'off'
 */
export async function rotateUpstreamPool(
  deps: BrokerDeps,
  now: number,
): Promise<'rotated' | 'not_due' | 'not_rotatable' | 'off'> {
  if (!deps.relay) return 'off';
  const pool = await deps.relay.pool.open({ fresh: true });
  if (now - pool.current.createdAt < deps.settings.rotateAfterMs) return 'not_due';
  if (!deps.upstream.canRevoke) return 'not_rotatable';
  await deps.relay.pool.rotate(pool);
  return 'rotated';
}

/** A pooled token, opened. */
export interface PoolToken {
  token: string;
  upstreamId?: string;
  tokenPrefix?: string;
  createdAt: number;
  expiresAt: number;
}

/** The pool as a relay uses it; `stored` is what the table holds (sealed), for the next replacement. */
export interface OpenPool {
  version: number;
  current: PoolToken;
  previous?: PoolToken;
  stored: StoredPool;
}

export interface UpstreamPoolOptions {
  store: RelayStore;
  upstream: Upstream;
  audit: AuditLog;
  clock: Clock;
  log: Log;
  /** The secret the pool key is derived from: the upstream credential (a fixed string for the dev upstream). */
  keyMaterial: () => Promise<string>;
  /** Pool tokens expire at Logfire this long after their creation (BROKER_TOKEN_TTL). */
  tokenTtlMs: number;
  /** How long a process uses the pool it read before reading it again. */
  cacheMs?: number;
}

/** Long enough that a relay reads the pool about once a minute; short enough that a rotation spreads fast. */
const DEFAULT_CACHE_MS = 60_000;
/** After a failed repair (Logfire refuses the broker too), this process leaves Logfire's API alone a while. */
const REPAIR_BACKOFF_MS = 60_000;
const LOAD_ATTEMPTS = 3;

/**
 * @example
 * const pool = new UpstreamPool({ store, upstream, audit, clock, log, keyMaterial, tokenTtlMs });
 * const { current } = await pool.open();
 */
export class UpstreamPool {
  private cached?: { pool: OpenPool; until: number };
  private loading?: Promise<OpenPool>;
  private repairing?: Promise<OpenPool>;
  private repairBlockedUntil = 0;

  constructor(private readonly options: UpstreamPoolOptions) {}

  /**
   * The pool: this process's copy while it is fresh, else read from the store (`fresh` always reads),
   * and created on first use: one Logfire call, however many relays start at once.
   */
  open(options: { fresh?: boolean } = {}): Promise<OpenPool> {
    const cached = this.cached;
    if (!options.fresh && cached && this.options.clock.now() < cached.until) {
      return Promise.resolve(cached.pool);
    }
    if (options.fresh) return this.load();
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /**
   * The rotation job's step: a new current; the current becomes previous (clients of relays that still
   * hold the old pool keep working); the one before is deleted at Logfire where the mode can delete.
   * @example await pool.rotate(await pool.open({ fresh: true }));
   */
  async rotate(seen: OpenPool): Promise<OpenPool> {
    const next = await this.replace(seen.stored, {
      previous: { sealed: seen.stored.current, open: seen.current },
      dropped: seen.stored.previous ? [seen.stored.previous] : [],
      action: 'relay.pool_rotated',
      actor: 'system:rotation',
      reason: 'the current pool token is due for rotation',
    });
    return next ?? this.open({ fresh: true });
  }

  /**
   * Replaces a current token that Logfire refuses (deleted in Logfire's UI, expired while rotation did not
   * run), keeping `previous`. One repair at a time per process, and after a failed one none for a minute, so
   * a broken credential does not turn every relayed batch into a management call.
   */
  repair(seen: OpenPool): Promise<OpenPool> {
    const now = this.options.clock.now();
    if (now < this.repairBlockedUntil) {
      const seconds = Math.ceil((this.repairBlockedUntil - now) / 1000);
      return Promise.reject(
        new UpstreamUnavailable(
          `Logfire refuses the relay's write token; try again in ${seconds} seconds.`,
          seconds,
        ),
      );
    }
    this.repairing ??= this.repairOnce(seen)
      .catch((error: unknown) => {
        this.repairBlockedUntil = this.options.clock.now() + REPAIR_BACKOFF_MS;
        throw error;
      })
      .finally(() => (this.repairing = undefined));
    return this.repairing;
  }

  /** Drops this process's copy, so the next `open` reads the store. */
  forget(): void {
    this.cached = undefined;
  }

  private async repairOnce(seen: OpenPool): Promise<OpenPool> {
    const latest = await this.open({ fresh: true });
    // Another relay repaired or rotated it meanwhile: use theirs.
    if (latest.version !== seen.version) return latest;
    const { previous } = latest;
    const next = await this.replace(latest.stored, {
      previous:
        previous && latest.stored.previous ? { sealed: latest.stored.previous, open: previous } : undefined,
      dropped: [latest.stored.current],
      action: 'relay.pool_repaired',
      actor: 'system:relay',
      reason: 'Logfire refused the current pool token',
    });
    return next ?? this.open({ fresh: true });
  }

  private async load(): Promise<OpenPool> {
    for (let attempt = 0; attempt < LOAD_ATTEMPTS; attempt++) {
      const stored = await this.options.store.getUpstreamPool();
      const pool = stored ? await this.unseal(stored) : await this.create();
      if (pool) return this.remember(pool);
      if (stored) {
        // Sealed under another key: the credential was changed. Its tokens cannot be used; replace both.
        this.options.log.warn('relay pool sealed under another credential; replacing its tokens', {
          version: stored.version,
        });
        const replaced = await this.replace(stored, {
          dropped: [stored.current, ...(stored.previous ? [stored.previous] : [])],
          action: 'relay.pool_repaired',
          actor: 'system:relay',
          reason: 'the pool was sealed under another upstream credential',
        });
        if (replaced) return this.remember(replaced);
      }
    }
    throw new UpstreamUnavailable('The relay could not agree on its Logfire token; try again shortly.', 2);
  }

  /** Makes the first pool; undefined when a concurrent relay stored one first (ours is deleted again). */
  private async create(): Promise<OpenPool | undefined> {
    const fresh = await this.newToken();
    const stored: StoredPool = { version: 1, current: fresh.sealed, updatedAt: this.options.clock.now() };
    if (!(await this.options.store.putUpstreamPool(stored))) {
      await this.discard(fresh.sealed, 'another relay created the pool first');
      return undefined;
    }
    await this.record('relay.pool_created', 'system:relay', 'first relayed batch', stored);
    return { version: 1, current: fresh.open, stored };
  }

  /** Stores a new current under a version check; undefined (and the new token deleted) when it lost. */
  private async replace(
    stored: StoredPool,
    change: {
      previous?: { sealed: SealedPoolToken; open: PoolToken };
      dropped: SealedPoolToken[];
      action: AuditAction;
      actor: AuditActor;
      reason: string;
    },
  ): Promise<OpenPool | undefined> {
    const fresh = await this.newToken();
    const next: StoredPool = {
      version: stored.version + 1,
      current: fresh.sealed,
      ...(change.previous ? { previous: change.previous.sealed } : {}),
      updatedAt: this.options.clock.now(),
    };
    if (!(await this.options.store.putUpstreamPool(next, stored.version))) {
      await this.discard(fresh.sealed, 'the pool was changed by another relay meanwhile');
      return undefined;
    }
    for (const old of change.dropped) await this.discard(old, change.reason);
    await this.record(change.action, change.actor, change.reason, next);
    return this.remember({
      version: next.version,
      current: fresh.open,
      previous: change.previous?.open,
      stored: next,
    });
  }

  private async newToken(): Promise<{ open: PoolToken; sealed: SealedPoolToken }> {
    const { upstream, clock, tokenTtlMs } = this.options;
    const createdAt = clock.now();
    const expiresAt = createdAt + tokenTtlMs;
    const made = await upstream.createWriteToken({ expiresAt: new Date(expiresAt) });
    const about = { upstreamId: made.upstreamId, tokenPrefix: made.tokenPrefix, createdAt, expiresAt };
    const key = await this.options.keyMaterial();
    const sealed = sealReply({ token: made.token }, String(createdAt), key, 'upstream pool');
    return { open: { token: made.token, ...about }, sealed: { sealed, ...about } };
  }

  /** Opens both tokens; undefined if they were sealed under another key (the credential changed). */
  private async unseal(stored: StoredPool): Promise<OpenPool | undefined> {
    const key = await this.options.keyMaterial();
    const open = (slot: SealedPoolToken): PoolToken | undefined => {
      const opened = openReply<{ token?: unknown }>(
        slot.sealed,
        String(slot.createdAt),
        key,
        'upstream pool',
      );
      if (typeof opened?.token !== 'string') return undefined;
      const { upstreamId, tokenPrefix, createdAt, expiresAt } = slot;
      return { token: opened.token, upstreamId, tokenPrefix, createdAt, expiresAt };
    };
    const current = open(stored.current);
    if (!current) return undefined;
    const previous = stored.previous && open(stored.previous);
    return { version: stored.version, current, previous, stored };
  }

  private remember(pool: OpenPool): OpenPool {
    const now = this.options.clock.now();
    this.cached = { pool, until: now + (this.options.cacheMs ?? DEFAULT_CACHE_MS) };
    return pool;
  }

  /** Deletes a token the pool no longer holds, where Logfire can; it expires by itself otherwise. */
  private async discard(token: SealedPoolToken, why: string): Promise<void> {
    const { upstream, log } = this.options;
    const about = {
      upstreamId: token.upstreamId,
      tokenPrefix: token.tokenPrefix,
      expiresAt: new Date(token.expiresAt).toISOString(),
      why,
    };
    if (!upstream.canRevoke || !token.upstreamId) {
      log.warn('pool token left at Logfire: this mode cannot delete it', about);
      return;
    }
    try {
      await upstream.deleteWriteToken(token.upstreamId);
      log.info('pool token deleted at Logfire', about);
    } catch (error) {
      log.warn('pool token not deleted at Logfire; it expires by itself', {
        ...about,
        cause: errorName(error),
      });
    }
  }

  private async record(action: AuditAction, actor: AuditActor, reason: string, pool: StoredPool) {
    const entry: AuditEntry = {
      at: this.options.clock.now(),
      action,
      actor,
      reason,
      details: {
        version: pool.version,
        ...(pool.current.upstreamId ? { upstreamId: pool.current.upstreamId } : {}),
        ...(pool.current.tokenPrefix ? { tokenPrefix: pool.current.tokenPrefix } : {}),
      },
    };
    this.options.log.info(`relay pool: ${action.slice('relay.pool_'.length)}`, entry.details);
    await appendAudit(this.options, [entry]);
  }
}
