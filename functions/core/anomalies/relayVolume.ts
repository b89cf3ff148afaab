/**
 * The relay-volume rule (docs/anomalies.md): a token whose relay bytes today are far above its own recent
 * daily baseline. It reads the relay's per-token counters through the store (`listRelayUsage`), not the
 * audit trail. One detection per token and UTC day, whichever window sees it first.
 */
import type { BrokerDeps } from '../deps';
import type { JobRun } from '../jobs';
import type { RelayUsage } from './ports';
import type { AnomalyWindow, Detection } from './rules';

const DAY_MS = 86_400_000;
/** A baseline below this counts as this: a token that sent 10 KB a day and now 300 KB is no spike worth acting on. */
export const RELAY_BASELINE_FLOOR_BYTES = 1024 * 1024;

/**
 * Whether `usage` is a spike: today's bytes more than `threshold` times the baseline (at least the floor).
 * @example isRelaySpike({ tokenId, bytesToday: 50e6, bytesBaseline: 2e6 }, 10) // true
 */
export function isRelaySpike(usage: RelayUsage, threshold: number): boolean {
  return usage.bytesToday > threshold * Math.max(usage.bytesBaseline, RELAY_BASELINE_FLOOR_BYTES);
}

/**
 * Reads the usage that changed since the window started, a page at a time; stops at the budget.
 * @example const { detections, complete } = await relayVolumeDetections(deps, run, window, 10);
 */
export async function relayVolumeDetections(
  deps: BrokerDeps,
  run: JobRun,
  window: AnomalyWindow,
  threshold: number,
): Promise<{ detections: Detection[]; itemsRead: number; complete: boolean }> {
  const day = Math.floor(window.start / DAY_MS) * DAY_MS;
  const detections: Detection[] = [];
  let itemsRead = 0;
  let cursor: string | undefined;
  do {
    if (run.overBudget()) return { detections, itemsRead, complete: false };
    const page = await deps.store.listRelayUsage(window.start, run.pageSize, cursor);
    itemsRead += page.scannedCount;
    for (const usage of page.items) {
      if (!isRelaySpike(usage, threshold)) continue;
      const times = usage.bytesBaseline > 0 ? usage.bytesToday / usage.bytesBaseline : Infinity;
      detections.push({
        rule: 'relay-volume',
        subjectKey: `token:${usage.tokenId}`,
        subject: `token ${usage.tokenId}`,
        period: { start: day, end: day + DAY_MS },
        target: { kind: 'token', tokenId: usage.tokenId },
        count: Number.isFinite(times) ? Math.floor(times) : usage.bytesToday,
        threshold,
        summary: Number.isFinite(times)
          ? `${usage.bytesToday} bytes relayed today, ${times.toFixed(1)} times its baseline`
          : `${usage.bytesToday} bytes relayed today, with no baseline yet`,
        evidence: { bytesToday: usage.bytesToday, bytesBaseline: usage.bytesBaseline },
        tokenId: usage.tokenId,
      });
    }
    cursor = page.cursor;
  } while (cursor);
  return { detections, itemsRead, complete: true };
}
