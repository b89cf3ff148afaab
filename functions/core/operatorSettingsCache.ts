/**
 * What the operator changes at run time (quota overrides, the mint allowlist, remote client settings) is read
 * on the request path, so each process keeps its last read for a while: one read per store and period, shared
 * by the requests that arrive while it is in flight, and a failed read keeps the last good value.
 */
import type { BrokerDeps } from './deps';
import { errorName } from './errors';
import type { TokenStore } from './ports';

interface Entry<T> {
  readAt: number;
  value: Promise<T>;
  last?: T;
}

export interface OperatorSettingsCache<T> {
  /** The value, read at most once per `ttlMs` per store. */
  get(deps: BrokerDeps): Promise<T>;
  /** Drops the cached value (after a change in this process, and in tests). */
  forget(store: TokenStore): void;
}

/**
 * @example
 * const overrides = operatorSettingsCache(30_000, (deps) => deps.store.getRuntimeOverrides(), () => ({ limits: {} }), 'quota overrides');
 * const { limits } = await overrides.get(deps);
 */
export function operatorSettingsCache<T>(
  ttlMs: number,
  read: (deps: BrokerDeps) => Promise<T>,
  initial: () => T,
  what: string,
): OperatorSettingsCache<T> {
  const entries = new WeakMap<TokenStore, Entry<T>>();
  return {
    get(deps) {
      const cached = entries.get(deps.store);
      if (cached && performance.now() - cached.readAt <= ttlMs) return cached.value;
      const entry: Entry<T> = {
        readAt: performance.now(),
        last: cached?.last,
        value: Promise.resolve(initial()),
      };
      entry.value = read(deps).then(
        (value) => (entry.last = value),
        (error: unknown) => {
          // What was read last still holds: a failed read must neither lift a limit nor stop every request.
          deps.log.warn(`${what} not read; using the last read (or the configured) values`, {
            cause: errorName(error),
          });
          return entry.last ?? initial();
        },
      );
      entries.set(deps.store, entry);
      return entry.value;
    },
    forget: (store) => void entries.delete(store),
  };
}
