/**
 * The operator's run-time settings through the admin API (docs/admin-api.md): quota limits over the
 * configured ones, and the mint allowlist instead of `BROKER_MINT_ALLOW_CIDRS`. Both take effect in every
 * process within 30 s (core/quotas.ts caches them that long) and are audited with the admin as actor.
 */
import type { AdminContext } from './admin';
import { parseCidr } from './cidr';
import type { BrokerDeps, QuotaLimits } from './deps';
import { InvalidRequest } from './errors';
import { appendAudit } from './jobs';
import { forgetQuotaOverrides } from './quotas';

const QUOTA_NAMES: ReadonlyArray<keyof QuotaLimits> = [
  'mintsPerInstallPerDay',
  'mintsPerIpPerHour',
  'mintsPerNetworkPerHour',
  'mintsPerDay',
  'heartbeatsPerTokenPerHour',
  'refreshesPerTokenPerHour',
];
const MAX_LIMIT = 1_000_000_000;
const MAX_CIDRS = 1000;

export interface QuotaView {
  defaults: QuotaLimits;
  overrides: Partial<QuotaLimits>;
  effective: QuotaLimits;
}

/** @example (await getQuotas(deps)).effective.mintsPerIpPerHour */
export async function getQuotas(deps: BrokerDeps): Promise<QuotaView> {
  const overrides = await deps.store.getQuotaOverrides();
  return { defaults: deps.settings.quotas, overrides, effective: { ...deps.settings.quotas, ...overrides } };
}

export type QuotaChanges = Partial<Record<keyof QuotaLimits, number | null>>;

/**
 * Checks `{<quota>: number | null}` (400 naming the field), before anything is asked or written.
 * @example checkQuotaChanges({ mintsPerIpPerHour: 10, mintsPerDay: null })
 */
export function checkQuotaChanges(body: Record<string, unknown>): QuotaChanges {
  const changes = Object.entries(body);
  if (changes.length === 0) throw new InvalidRequest('body: give at least one quota to set or drop.');
  for (const [name, value] of changes) {
    if (!QUOTA_NAMES.includes(name as keyof QuotaLimits)) {
      throw new InvalidRequest(`${name}: not a quota; use ${QUOTA_NAMES.join(', ')}.`);
    }
    if (
      value !== null &&
      !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_LIMIT)
    ) {
      throw new InvalidRequest(`${name}: expected a whole number from 0 to ${MAX_LIMIT}, or null.`);
    }
  }
  return body as QuotaChanges;
}

/**
 * Applies checked changes to the stored overrides (null drops one; 0 means no limit).
 * @example await putQuotas(deps, checkQuotaChanges({ mintsPerIpPerHour: 10 }), context);
 */
export async function putQuotas(
  deps: BrokerDeps,
  body: QuotaChanges,
  context: AdminContext,
): Promise<QuotaView> {
  const now = deps.clock.now();
  // One write per change, no read first: a concurrent change of another quota is kept.
  const overrides = await deps.store.changeQuotaOverrides(body, now);
  forgetQuotaOverrides(deps.store);
  await appendAudit(deps, [
    {
      at: now,
      action: 'admin.quotas_changed',
      actor: context.actor,
      sourceIp: context.sourceIp,
      details: { changes: JSON.stringify(body), overrides: JSON.stringify(overrides) },
    },
  ]);
  return { defaults: deps.settings.quotas, overrides, effective: { ...deps.settings.quotas, ...overrides } };
}

export interface AllowlistView {
  mintAllowCidrs: string[];
  source: 'config' | 'override';
}

export async function getAllowlist(deps: BrokerDeps): Promise<AllowlistView> {
  const override = await deps.store.getMintAllowOverride();
  return override
    ? { mintAllowCidrs: override, source: 'override' }
    : { mintAllowCidrs: [...deps.settings.mintAllowCidrs], source: 'config' };
}

/**
 * Checks `{mintAllowCidrs: [...] | null}` and returns the entries in canonical form (null: drop the override).
 * @example checkAllowlist({ mintAllowCidrs: ['203.0.113.7/24'] }) // ['203.0.113.0/24']
 */
export function checkAllowlist(body: Record<string, unknown>): string[] | null {
  const extra = Object.keys(body).filter((key) => key !== 'mintAllowCidrs');
  if (extra.length)
    throw new InvalidRequest(`${extra[0]}: not a setting; send {mintAllowCidrs: [...] | null}.`);
  const value = body.mintAllowCidrs;
  if (value !== null && !Array.isArray(value)) {
    throw new InvalidRequest('mintAllowCidrs: expected a list of CIDRs, or null to use the configured list.');
  }
  let cidrs: string[] | null = null;
  if (Array.isArray(value)) {
    if (value.length > MAX_CIDRS) throw new InvalidRequest(`mintAllowCidrs: at most ${MAX_CIDRS} entries.`);
    cidrs = value.map((entry, i) => {
      const cidr = typeof entry === 'string' && entry.length <= 64 ? parseCidr(entry) : undefined;
      if (!cidr)
        throw new InvalidRequest(`mintAllowCidrs[${i}]: not an IPv4 or IPv6 CIDR like 203.0.113.0/24.`);
      return cidr.cidr;
    });
  }
  return cidrs;
}

/**
 * Sets the mint allowlist (`[]` allows every address) or drops the override (`null`: the configured list).
 * @example await putAllowlist(deps, checkAllowlist(body), context);
 */
export async function putAllowlist(
  deps: BrokerDeps,
  cidrs: string[] | null,
  context: AdminContext,
): Promise<AllowlistView> {
  const now = deps.clock.now();
  await deps.store.putMintAllowOverride(cidrs, now);
  forgetQuotaOverrides(deps.store);
  await appendAudit(deps, [
    {
      at: now,
      action: 'admin.allowlist_changed',
      actor: context.actor,
      sourceIp: context.sourceIp,
      details: { mintAllowCidrs: cidrs === null ? 'config' : cidrs.join(',') },
    },
  ]);
  return cidrs === null ? getAllowlist(deps) : { mintAllowCidrs: cidrs, source: 'override' };
}
