import { UsageError } from './errors';
import { checkedTime, describeFilter, parseFilters } from './filters';

const NOW = Date.parse('2026-12-03T12:00:00Z');

describe('Function: parseFilters', () => {
  it('maps each key=value to the API filter, AND-ing different keys', () => {
    expect(
      parseFilters(
        ['app=hello', 'status=paused', 'network=203.0.113.0/24', 'install=abc', 'version=<2.0.0'],
        NOW,
      ),
    ).toEqual({
      app: 'hello',
      status: 'paused',
      network: '203.0.113.0/24',
      install: 'abc',
      version: '<2.0.0',
    });
  });

  it('takes several statuses separated by commas (any of them)', () => {
    expect(parseFilters(['status=active,paused'], NOW)).toEqual({ status: 'active,paused' });
    expect(() => parseFilters(['status=active,sleeping'], NOW)).toThrow(/"sleeping" is none of/);
  });

  it('joins repeated version ranges, as semver AND-s comparators', () => {
    expect(parseFilters(['version=>=1.2.0', 'version=<1.4.0'], NOW)).toEqual({ version: '>=1.2.0 <1.4.0' });
  });

  it('keeps a value only once when the same key=value is repeated', () => {
    expect(parseFilters(['app=hello', 'app=hello'], NOW)).toEqual({ app: 'hello' });
  });

  it('refuses the same key with two different values, which could match nothing', () => {
    expect(() => parseFilters(['app=hello', 'app=other'], NOW)).toThrow(/given twice/);
  });

  it('turns an age into the ISO time that long ago, and keeps ISO times', () => {
    expect(parseFilters(['seen-before=30d', 'created-after=2026-11-01'], NOW)).toEqual({
      seenBefore: '2026-11-03T12:00:00.000Z',
      createdAfter: '2026-11-01T00:00:00.000Z',
    });
    expect(checkedTime('--after', '2h', NOW)).toBe('2026-12-03T10:00:00.000Z');
  });

  it.each([
    ['an unknown key, naming the known ones', 'colour=red', /key among status, app, version/],
    ['a value-less filter', 'app=', /empty/],
    ['no equals sign', 'hello', /key=value/],
    ['an unknown status', 'status=sleeping', /none of active, paused/],
    ['a version that is not a range', 'version=latest', /not a range/],
    ['a network that is not a CIDR', 'network=203.0.113.0/33', /not a CIDR/],
    ['a time that is neither ISO 8601 nor an age', 'seen-before=yesterday', /neither an ISO 8601 time/],
  ])('refuses %s as a usage error', (_what, text, message) => {
    const parse = () => parseFilters([text], NOW);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });

  it('accepts IPv6 networks and a bare address', () => {
    expect(parseFilters(['network=2001:db8::/48'], NOW)).toEqual({ network: '2001:db8::/48' });
    expect(parseFilters(['network=198.51.100.7'], NOW)).toEqual({ network: '198.51.100.7' });
  });
});

describe('Function: describeFilter', () => {
  it('writes the filter back as the operator typed it', () => {
    expect(describeFilter({ app: 'hello', seenBefore: '2026-11-03T12:00:00.000Z' })).toBe(
      'app=hello seen-before=2026-11-03T12:00:00.000Z',
    );
  });
});
