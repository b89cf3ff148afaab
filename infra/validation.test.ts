import { SettingsReader, cidrCheck, emailCheck, scheduleCheck } from './validation';

describe('Method: scheduleCheck', () => {
  it.each([
    'rate(1 hour)',
    'rate(15 minutes)',
    'rate(2 days)',
    'cron(0 3 * * ? *)',
    'cron(0/15 * ? * MON-FRI *)',
  ])('accepts %s', (expression) => expect(scheduleCheck(expression)).toBeUndefined());

  it.each([
    ['rate(1 hours)', 'singular'],
    ['rate(5 minute)', 'plural'],
    ['rate(0 minutes)', 'at least 1'],
    ['rate(1 week)', 'unit "week"'],
    ['cron(0 3 * * *)', '5 cron fields'],
    ['cron(0 3 * * MON *)', 'exactly one of day-of-month and day-of-week'],
    ['at(2030-01-01T00:00:00)', 'not rate'],
    ['every hour', 'not rate'],
  ])('refuses %s (%s)', (expression, why) => expect(scheduleCheck(expression)).toContain(why));
});

describe('Method: cidrCheck and emailCheck', () => {
  it('accepts IPv4 and IPv6 ranges WAF takes, and refuses the rest', () => {
    for (const cidr of ['203.0.113.0/24', '198.51.100.7/32', '2001:db8::/32'])
      expect(cidrCheck(cidr)).toBeUndefined();
    for (const cidr of ['0.0.0.0/0', '10.0.0.0/33', '300.1.1.1/32', 'example.com/24', '::/0']) {
      expect(cidrCheck(cidr)).toMatch(/not an IPv4 or IPv6 CIDR/);
    }
  });

  it('accepts an e-mail address and refuses other text', () => {
    expect(emailCheck('ops@example.com')).toBeUndefined();
    expect(emailCheck('ops@localhost')).toBeDefined();
  });
});

describe('Class: SettingsReader', () => {
  it('reads lists as JSON or comma-separated text, and empty values as unset', () => {
    const read = new SettingsReader({ a: '["x", "y"]', b: 'x, y', c: '  ' });
    const ok = () => undefined;
    expect(read.list('a', ok)).toEqual(['x', 'y']);
    expect(read.list('b', ok)).toEqual(['x', 'y']);
    expect(read.list('c', ok)).toEqual([]);
    expect(read.has('c')).toBe(false);
  });

  it('names the key and the bad entry', () => {
    const read = new SettingsReader({ list: '["ok", "bad"]', map: '{"mint": -1}', json: '[oops' });
    const check = (item: string) => (item === 'bad' ? 'is bad' : undefined);
    expect(() => read.list('list', check)).toThrow('logfire-broker:list entry "bad" is bad');
    expect(() => read.integerMap('map', ['mint'], 0, 10)).toThrow(
      'logfire-broker:map mint must be a whole number',
    );
    expect(() => read.list('json', check)).toThrow('logfire-broker:json is not valid JSON');
  });

  it('refuses fractions where a whole number is needed', () => {
    expect(() => new SettingsReader({ n: '2.5' }).integer('n', 1, 0, 10)).toThrow(
      'must be a whole number, got 2.5',
    );
    expect(new SettingsReader({ n: '2.5' }).number('n', 1, 0, 10)).toBe(2.5);
  });
});
