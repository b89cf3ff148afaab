import { ConfigError, readConfig } from '../../config';
import { DEFAULT_UPSTREAM_BUDGET_MS, upstreamBudgetMs } from './budget';

describe('Function: upstreamBudgetMs', () => {
  it.each([1, 3, 6, 15, 29, 300, 600])(
    'fits a create, its compensating delete and the DynamoDB writes into a %i s function',
    (seconds) => {
      const timeoutMs = seconds * 1000;

      const budget = upstreamBudgetMs(timeoutMs);

      expect(budget).toBeGreaterThan(0);
      // Two Logfire requests and at least half a second (or a fifth of the time) for everything else.
      expect(2 * budget + Math.max(500, timeoutMs / 5)).toBeLessThanOrEqual(timeoutMs);
    },
  );

  it('never gives one request more than 25 s, however long the function may run', () => {
    expect(upstreamBudgetMs(600_000)).toBe(DEFAULT_UPSTREAM_BUDGET_MS);
    expect(upstreamBudgetMs(undefined)).toBe(25_000);
  });
});

describe('Setting: BROKER_FUNCTION_TIMEOUT', () => {
  it('derives the upstream budget from the function timeout the stack sets', () => {
    expect(readConfig({ BROKER_FUNCTION_TIMEOUT: '3s' }).upstreamBudgetMs).toBe(1200);
    expect(readConfig({ BROKER_FUNCTION_TIMEOUT: '29s' }).upstreamBudgetMs).toBe(11_600);
  });

  it('gives 25 s without it (the local server has no function timeout)', () => {
    expect(readConfig({}).upstreamBudgetMs).toBe(25_000);
    expect(readConfig({ BROKER_FUNCTION_TIMEOUT: ' ' }).upstreamBudgetMs).toBe(25_000);
  });

  it.each(['500ms', '3', 'soon'])('refuses %p, naming the variable', (value) => {
    expect(() => readConfig({ BROKER_FUNCTION_TIMEOUT: value })).toThrow(ConfigError);
    expect(() => readConfig({ BROKER_FUNCTION_TIMEOUT: value })).toThrow(/^BROKER_FUNCTION_TIMEOUT: /);
  });
});
