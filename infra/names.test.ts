import { HANDLERS } from './handlers';
import { accountWideName, namePrefix } from './names';

describe('Function: namePrefix', () => {
  it('keeps a clean <project>-<stack> as it is, so existing stacks keep their names', () => {
    expect(namePrefix('logfire-broker', 'prod')).toBe('logfire-broker-prod');
    expect(namePrefix('logfire-broker', 'prod-eu')).toBe('logfire-broker-prod-eu');
  });

  it.each([
    ['prod.eu', 'prod-eu'],
    ['prod_eu', 'prod-eu'],
    ['prod eu', 'prod.eu'],
    // Two long names that differ only after the 40th character.
    ['team-a-production-eu-west-1-blue', 'team-a-production-eu-west-1-green'],
    ['x'.repeat(60) + '1', 'x'.repeat(60) + '2'],
  ])('gives %s and %s different names', (one, other) => {
    expect(namePrefix('logfire-broker', one)).not.toBe(namePrefix('logfire-broker', other));
  });

  it('never maps a cleaned name onto a clean one: only cleaned names hold "_"', () => {
    const cleaned = namePrefix('logfire-broker', 'prod.eu');
    expect(cleaned).toMatch(/^logfire-broker-prod-eu_[0-9a-f]{8}$/);
    // A stack literally named like the cleaned name's text cannot take it.
    expect(namePrefix('logfire-broker', cleaned.slice('logfire-broker-'.length))).not.toBe(cleaned);
  });

  it('keeps every function name within Lambda limits and characters', () => {
    for (const stack of ['prod', 'a.very/long stack name that goes on and on', 'x'.repeat(100)]) {
      const prefix = namePrefix('logfire-broker', stack);
      expect(prefix.length).toBeLessThanOrEqual(40);
      expect(prefix).toMatch(/^[A-Za-z0-9_-]+[A-Za-z0-9]$/);
      for (const handler of HANDLERS) expect(`${prefix}-${handler.name}`.length).toBeLessThanOrEqual(64);
    }
  });
});

describe('Function: accountWideName', () => {
  it('names a per-account resource after the stack and its region, so two regions never share it', () => {
    expect(accountWideName('logfire-broker-prod', 'eu-west-1')).toBe('logfire-broker-prod-eu-west-1');
    expect(accountWideName('logfire-broker-prod', 'eu-west-1')).not.toBe(
      accountWideName('logfire-broker-prod', 'us-east-1'),
    );
  });

  it('stays within the limit and distinct when it has to cut', () => {
    const one = accountWideName('p'.repeat(60), 'eu-west-1', 64);
    const other = accountWideName('p'.repeat(60), 'eu-west-2', 64);
    expect(one.length).toBeLessThanOrEqual(64);
    expect(one).not.toBe(other);
  });
});
