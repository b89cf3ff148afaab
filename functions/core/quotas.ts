/**
 * Enforcing the quotas (R9, DESIGN §6). Every check is one conditional write on a counter (no
 * read-then-write), so concurrent requests never pass a limit; a refusal is `QuotaExceeded` (429) with the
 * seconds until the window frees a slot. Limits are the configured ones, overridden by what the operator
 * stored at run time (read at most every 30 s per process, so a mint costs no extra read).
 */
import type { BrokerDeps, QuotaLimits } from './deps';
import { errorName } from './errors';
import { networkOf } from './network';
import type { RuntimeOverrides, TokenStore } from './ports';
import { quotaCounter, quotaExceeded, type QuotaCounter } from './quota';

const OVERRIDES_TTL_MS = 30_000;
const overrides = new WeakMap<TokenStore, { readAt: number; overrides: RuntimeOverrides }>();

/** The operator's run-time settings: quota limits and the mint allowlist, stored in one item. */
async function runtimeOverrides(deps: BrokerDeps): Promise<RuntimeOverrides> {
  let cached = overrides.get(deps.store);
  if (!cached || performance.now() - cached.readAt > OVERRIDES_TTL_MS) {
    const read = await deps.store.getRuntimeOverrides().catch((error: unknown) => {
      // The configured limits still hold: a failed read must not lift every quota, nor stop every mint.
      deps.log.warn('quota overrides not read; using the configured limits', { cause: errorName(error) });
      return cached?.overrides ?? { limits: {} };
    });
    cached = { readAt: performance.now(), overrides: read };
    overrides.set(deps.store, cached);
  }
  return cached.overrides;
}

/**
 * The limits in force: configuration, then the operator's overrides (cached per store for 30 s).
 * @example (await quotaLimits(deps)).mintsPerIpPerHour // 60
 */
export async function quotaLimits(deps: BrokerDeps): Promise<QuotaLimits> {
  return { ...deps.settings.quotas, ...(await runtimeOverrides(deps)).limits };
}

/**
 * The mint allowlist in force: the operator's run-time list when there is one, else `BROKER_MINT_ALLOW_CIDRS`
 * (read with the quota overrides, so a mint pays no extra request).
 * @example mintAllowlist(await mintAllowCidrs(deps))(sourceIp)
 */
export async function mintAllowCidrs(deps: BrokerDeps): Promise<readonly string[]> {
  return (await runtimeOverrides(deps)).mintAllowCidrs ?? deps.settings.mintAllowCidrs;
}

/** Drops the cached overrides (after the operator changes them in this process, and in tests). */
export function forgetQuotaOverrides(store: TokenStore): void {
  overrides.delete(store);
}

/**
 * Takes one slot of every counter, or none: a counter that refuses gives back what the others took, and
 * the refusal names the counter whose window ends last (so a retry after `Retry-After` can pass them all).
 */
async function takeAll(
  deps: BrokerDeps,
  counters: Array<[QuotaCounter, string]>,
  now: number,
): Promise<void> {
  const active = counters.filter(([counter]) => counter.limit > 0);
  const taken = await Promise.all(active.map(([counter]) => deps.store.takeQuota(counter)));
  const refused = active.filter((_, i) => !taken[i]);
  if (refused.length === 0) return;
  await Promise.all(
    active.filter((_, i) => taken[i]).map(([counter]) => deps.store.refundQuota(counter)),
  ).catch((error: unknown) => deps.log.warn('quota not given back', { cause: errorName(error) }));
  const [counter, what] = refused.reduce((a, b) => (b[0].endsAt > a[0].endsAt ? b : a));
  deps.log.warn('quota exceeded', { scope: counter.scope, subject: counter.subject, limit: counter.limit });
  throw quotaExceeded(counter, what, now);
}

/**
 * A mint's quotas: per install per day, per source address and per network per hour, and across the
 * broker per day.
 * @example await takeMintQuota(deps, request.installId, origin.sourceIp);
 */
export async function takeMintQuota(deps: BrokerDeps, installId: string, sourceIp: string): Promise<void> {
  const limits = await quotaLimits(deps);
  const now = deps.clock.now();
  const network = networkOf(sourceIp);
  const counters: Array<[QuotaCounter, string]> = [
    [
      quotaCounter('mint:install', installId, 'day', limits.mintsPerInstallPerDay, now),
      'mints for this installation',
    ],
    [quotaCounter('mint:ip', sourceIp, 'hour', limits.mintsPerIpPerHour, now), 'mints from this address'],
    [quotaCounter('mint:global', 'global', 'day', limits.mintsPerDay, now), 'mints across the broker'],
  ];
  if (network) {
    counters.push([
      quotaCounter('mint:network', network, 'hour', limits.mintsPerNetworkPerHour, now),
      'mints from this network',
    ]);
  }
  await takeAll(deps, counters, now);
}

/**
 * A refresh's quota, per token chain per hour (every refresh makes a new token, so the chain is what bounds
 * one client).
 * @example await takeRefreshQuota(deps, claimed.chainId);
 */
export async function takeRefreshQuota(deps: BrokerDeps, chainId: string): Promise<void> {
  const limits = await quotaLimits(deps);
  const now = deps.clock.now();
  await takeAll(
    deps,
    [
      [
        quotaCounter('refresh:chain', chainId, 'hour', limits.refreshesPerTokenPerHour, now),
        'refreshes of this token',
      ],
    ],
    now,
  );
}
