import { tokenRecord } from '../../test/support/dynalite';
import { InvalidRequest } from './errors';
import { cidrMatcher, compileFilter, versionRange } from './tokenFilter';

describe('Function: versionRange', () => {
  it.each([
    [
      '>=1.2.0 <1.4.0',
      ['1.2.0', '1.3.9', '1.3.0-beta.1', 'v1.2.1'],
      ['1.1.9', '1.4.0', '1.10.0', '1.2.0-rc.1'],
    ],
    ['<2', ['1.99.0', '0.1'], ['2.0.0', '2.0.0+build.5']],
    ['1.3.1', ['1.3.1', '1.3.1+meta'], ['1.3.10', '1.3.1-beta']],
    ['>1.0.0-alpha.2 <=1.0.0', ['1.0.0-alpha.10', '1.0.0-beta', '1.0.0'], ['1.0.0-alpha.2', '1.0.0-1']],
  ])('compares like semver: %s', (range, inside, outside) => {
    const test = versionRange(range);
    for (const version of inside) expect([version, test(version)]).toEqual([version, true]);
    for (const version of outside) expect([version, test(version)]).toEqual([version, false]);
  });

  it('takes {min, max} with min inclusive and max exclusive, and matches no unparseable version', () => {
    const test = versionRange({ min: '1.2', max: '1.4' });
    expect(['1.2.0', '1.3.99'].map(test)).toEqual([true, true]);
    expect(['1.4.0', 'dev', ''].map(test)).toEqual([false, false, false]);
  });

  it.each(['', '>=banana', '>= 1.0', {}])('refuses %p', (range) => {
    expect(() => versionRange(range as string)).toThrow(InvalidRequest);
  });
});

describe('Function: cidrMatcher', () => {
  it('matches IPv4, IPv6 and IPv4-mapped addresses, a bare address being one host', () => {
    const test = cidrMatcher(['203.0.113.0/24', '2001:db8::/32', '198.51.100.7']);
    expect(['203.0.113.255', '::ffff:203.0.113.9', '2001:db8:1::1', '198.51.100.7'].map(test)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['203.0.114.1', '2001:db9::1', '198.51.100.8', 'not-an-ip'].map(test)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it.each(['203.0.113.0/33', '2001:db8::/129', 'example.com/8', '10.0.0.0/8/1', '10.0.0.0/x'])(
    'refuses %s',
    (cidr) => {
      expect(() => cidrMatcher([cidr])).toThrow(InvalidRequest);
    },
  );
});

describe('Function: compileFilter', () => {
  it('requires every criterion given to hold', () => {
    const test = compileFilter({
      installId: 'install-1',
      appName: 'acme-cli',
      appVersion: '>=1.2.0',
      sourceCidr: '127.0.0.0/8',
      createdAt: { from: 1_700_000_000_000, to: 1_700_000_000_001 },
    });
    expect(test(tokenRecord())).toBe(true);
    expect(test(tokenRecord({ appVersion: '1.1.0' }))).toBe(false);
    expect(test(tokenRecord({ sourceIp: '10.0.0.1' }))).toBe(false);
    expect(test(tokenRecord({ createdAt: 1_700_000_000_001 }))).toBe(false);
    expect(test(tokenRecord({ installId: 'install-2' }))).toBe(false);
  });

  it('refuses an empty filter and an empty or inverted time range', () => {
    expect(() => compileFilter({})).toThrow('at least one filter criterion');
    expect(() => compileFilter({ createdAt: { from: 2, to: 1 } })).toThrow(InvalidRequest);
    expect(() => compileFilter({ sourceCidr: [] })).toThrow(InvalidRequest);
  });
});
