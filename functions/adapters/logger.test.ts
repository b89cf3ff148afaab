/**
 * The logger as the Lambdas and `npm start` use it, in a real child process (Powertools writes straight to
 * the process's stdout), with every line it printed read back.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

const ORG = '3f6c2a1e-8b4d-4c7a-9e2f-5d1b0a9c8e7f';
const V1_KEY = 'pylf_v1_us_LoggerTestApiKeyThatMustNeverBeLogged0001';
const V2_KEY = `pylf_v2_eu_${ORG}_LoggerTestV2KeyThatMustNeverBeLogged01`;
const V1_PREFIX = 'pylf_v1_us_AbCdEf';
const V2_PREFIX = `pylf_v2_eu_${ORG}_AbCdEf`;

type Line = Record<string, unknown>;

/**
 * Runs `body` with `log = createLog('DEBUG')` in a fresh process; returns the JSON lines it printed on
 * stdout and stderr (Powertools writes WARN and ERROR to stderr), by level.
 */
function logInChild(body: string): Record<string, Line> {
  const script = `import { createLog } from './functions/adapters/logger';\nconst log = createLog('DEBUG');\n${body}`;
  const run = spawnSync(TSX, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`logger child failed: ${run.stderr}`);
  const lines = `${run.stdout}\n${run.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
  return Object.fromEntries(lines.map((line) => [String(line.level), line]));
}

describe('Function: createLog', () => {
  let lines: Record<string, Line>;
  let output: string;

  beforeAll(() => {
    // Act: v1 and v2 credentials in the message, nested attributes and an error, at every level.
    lines = logInChild(`
      class Refused extends Error {
        constructor(message: string, readonly detail: string) { super(message); this.name = 'Refused'; }
      }
      const keys = ${JSON.stringify({ v1: V1_KEY, v2: V2_KEY })};
      log.debug('created with ' + keys.v1, { tokenPrefix: ${JSON.stringify(V1_PREFIX)} });
      log.info('created with ' + keys.v2, { tokenPrefix: ${JSON.stringify(V2_PREFIX)} });
      log.warn('retrying', { reply: { detail: ['Invalid key ' + keys.v2], echo: 'Bearer ' + keys.v1 } });
      log.error('refused', {
        error: new Refused('key ' + keys.v1 + ' lacks scope', 'received ' + keys.v2),
        attempts: 3,
      });
    `);
    output = JSON.stringify(lines);
  });

  it('writes every line, at every level', () => {
    expect(Object.keys(lines).sort()).toEqual(['DEBUG', 'ERROR', 'INFO', 'WARN']);
  });

  it('scrubs v1 and v2 credentials from messages, nested attributes and errors', () => {
    // The secret tails, and the v2 key's part after its org id, appear nowhere.
    for (const key of [V1_KEY, V2_KEY]) expect(output).not.toContain(key.slice(-24));
    expect(lines.DEBUG!.message).toBe('created with [redacted]');
    expect(lines.WARN).toMatchObject({
      reply: { detail: ['Invalid key [redacted]'], echo: 'Bearer [redacted]' },
    });
  });

  it('keeps an error an error: its name, message, stack and fields, redacted', () => {
    expect(lines.ERROR).toMatchObject({
      attempts: 3,
      error: {
        name: 'Refused',
        message: 'key [redacted] lacks scope',
        detail: 'received [redacted]',
        stack: expect.stringContaining('Refused: key [redacted] lacks scope'),
      },
    });
  });

  it("leaves a token prefix readable, as Logfire's UI shows it, so an operator can find the token", () => {
    expect(lines.DEBUG!.tokenPrefix).toBe(V1_PREFIX);
    expect(lines.INFO!.tokenPrefix).toBe(V2_PREFIX);
  });
});
