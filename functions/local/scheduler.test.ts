import type { BrokerDeps } from '../core/deps';
import type { Page } from '../core/ports';
import { capturingLog, type LogLine } from '../../test/support/broker';
import { startSchedules } from './scheduler';

const empty: Page<never> = { items: [], scannedCount: 0 };

/** Deps whose store has nothing due; `listDueForRotation` is replaceable to slow a run down or fail it. */
function stubDeps(lines: LogLine[], listDueForRotation: () => Promise<Page<never>>): BrokerDeps {
  const none = () => Promise.resolve(empty);
  return {
    store: {
      listDueForRotation,
      listChainRevocations: none,
      listStale: none,
      listExpired: none,
      listPendingUpstreamDeletions: none,
    } as unknown as BrokerDeps['store'],
    audit: { append: () => Promise.resolve() } as unknown as BrokerDeps['audit'],
    upstream: { canRevoke: true } as BrokerDeps['upstream'],
    clock: { now: () => 1_700_000_000_000 },
    log: capturingLog(lines),
    settings: { staleAfterMs: 1000 } as BrokerDeps['settings'],
  };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Function: startSchedules', () => {
  it('runs rotation then the sweep on every interval, never two runs at once, until stopped', async () => {
    const lines: LogLine[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const deps = stubDeps(lines, async () => {
      runs += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await wait(30); // longer than the interval
      inFlight -= 1;
      return empty;
    });
    const schedules = startSchedules(deps, 5, deps.log);
    await wait(150);
    await schedules.stop();
    const after = runs;
    await wait(50);

    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBe(after);
    expect(maxInFlight).toBe(1);
    const order = lines.map((l) => l.message).filter((m) => m === 'rotation run' || m === 'sweep run');
    expect(order.slice(0, 2)).toEqual(['rotation run', 'sweep run']);
  });

  it('logs a failed run and keeps the schedule going', async () => {
    const lines: LogLine[] = [];
    let calls = 0;
    const deps = stubDeps(lines, () =>
      ++calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(empty),
    );
    const schedules = startSchedules(deps, 5, deps.log);
    await wait(60);
    await schedules.stop();
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', attributes: { cause: 'Error: boom' } }),
    );
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
