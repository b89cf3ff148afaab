import { UsageError } from '../errors';
import { parseQuotaChanges } from './config';

describe('Function: parseQuotaChanges', () => {
  it('reads whole numbers, and `default` as dropping the override', () => {
    expect(
      parseQuotaChanges(['mintsPerIpPerHour=20', 'mintsPerDay=default', 'mintsPerInstallPerDay=0']),
    ).toEqual({
      mintsPerIpPerHour: 20,
      mintsPerDay: null,
      mintsPerInstallPerDay: 0,
    });
  });

  it.each(['mintsPerDay', 'mintsPerDay=-1', 'mintsPerDay=1.5', 'mintsPerDay=lots', '=3'])(
    'refuses %s as a usage error',
    (pair) => {
      expect(() => parseQuotaChanges([pair])).toThrow(UsageError);
    },
  );

  it('refuses a quota given twice', () => {
    expect(() => parseQuotaChanges(['mintsPerDay=1', 'mintsPerDay=2'])).toThrow(/twice/);
  });
});
