/**
 * Quotas (R9, DESIGN §6): fixed windows counted in DynamoDB, one conditional write per check, so two
 * concurrent requests can never both take the last slot. This module is the pure part: which counter a
 * request takes from, when its window ends, and what a refusal tells the caller.
 */
import { QuotaExceeded } from './errors';

export type QuotaPeriod = 'minute' | 'hour' | 'day';

const PERIOD_MS: Record<QuotaPeriod, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** One counter: what it counts, for whom, and the fixed window it counts in. */
export interface QuotaCounter {
  /** What is counted, e.g. `mint:ip`; part of the counter's key. */
  scope: string;
  /** Whom it counts: an install id, an address, a network, a token id, or `global`. */
  subject: string;
  /** Epoch ms when the window started and ends; the counter item lives until `endsAt`. */
  startsAt: number;
  endsAt: number;
  limit: number;
}

/**
 * The counter of `scope`/`subject` for the window that contains `now` (UTC-aligned: minutes, hours, days).
 * @example quotaCounter('mint:ip', '203.0.113.7', 'hour', 50, Date.parse('2026-12-01T10:20:00Z')).endsAt // 11:00
 */
export function quotaCounter(
  scope: string,
  subject: string,
  period: QuotaPeriod,
  limit: number,
  now: number,
): QuotaCounter {
  const length = PERIOD_MS[period];
  const startsAt = Math.floor(now / length) * length;
  return { scope, subject, startsAt, endsAt: startsAt + length, limit };
}

/** Whole seconds until `counter`'s window frees a slot (at least 1): what `Retry-After` says. */
export function retryAfterSeconds(counter: QuotaCounter, now: number): number {
  return Math.max(1, Math.ceil((counter.endsAt - now) / 1000));
}

/** The refusal for `counter`, with an accurate `Retry-After`. */
export function quotaExceeded(counter: QuotaCounter, what: string, now: number): QuotaExceeded {
  return new QuotaExceeded(
    `Quota exceeded: ${what} (${counter.limit} per ${periodName(counter)}); retry after the window ends.`,
    retryAfterSeconds(counter, now),
  );
}

function periodName(counter: QuotaCounter): string {
  const length = counter.endsAt - counter.startsAt;
  return (
    (Object.entries(PERIOD_MS).find(([, ms]) => ms === length)?.[0] as QuotaPeriod | undefined) ?? 'window'
  );
}
