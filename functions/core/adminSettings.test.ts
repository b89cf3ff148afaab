/**
 * The operator's quota overrides (admin API) on dynalite: each change is one write with no read first, so
 * concurrent changes of different quotas all stay, and dropping one leaves the others.
 */
import { startTestBroker, type TestBroker } from '../../test/support/broker';
import { keepBusy } from '../../test/support/busy';
import { getQuotas, putQuotas } from './adminSettings';
import { quotaLimits } from './quotas';

const CONTEXT = { actor: 'admin:arn:aws:iam::123456789012:user/ops', reason: 'test' } as const;

describe('Function: putQuotas', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startTestBroker();
  });
  afterEach(() => broker.close());

  it('keeps every one of 6 concurrent changes of different quotas, also on a busy machine', async () => {
    const busy = await keepBusy(10_000, 2);
    try {
      const names = [
        'mintsPerInstallPerDay',
        'mintsPerIpPerHour',
        'mintsPerNetworkPerHour',
        'mintsPerDay',
        'heartbeatsPerTokenPerHour',
        'refreshesPerTokenPerHour',
      ] as const;
      await Promise.all(names.map((name, i) => putQuotas(broker.deps, { [name]: 100 + i }, CONTEXT)));
      const { overrides } = await getQuotas(broker.deps);
      expect(overrides).toEqual(Object.fromEntries(names.map((name, i) => [name, 100 + i])));
    } finally {
      await busy.stop();
    }
  });

  it('drops one override with null and leaves the others; the limits in force follow', async () => {
    await putQuotas(broker.deps, { mintsPerIpPerHour: 7, mintsPerDay: 9 }, CONTEXT);
    const after = await putQuotas(broker.deps, { mintsPerIpPerHour: null }, CONTEXT);
    expect(after.overrides).toEqual({ mintsPerDay: 9 });
    expect((await getQuotas(broker.deps)).overrides).toEqual({ mintsPerDay: 9 });
    const limits = await quotaLimits(broker.deps);
    expect(limits.mintsPerDay).toBe(9);
    expect(limits.mintsPerIpPerHour).toBe(broker.deps.settings.quotas.mintsPerIpPerHour);
  });
});
