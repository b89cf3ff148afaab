/**
 * The Python client's own suite (clients/python/tests, standard library `unittest`), run by `npm test` as a
 * child process: it starts the real local broker and the Python example CLI itself. This test fails when
 * any Python test fails or errors, and shows the suite's output.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const PACKAGE = resolve(__dirname, '..', 'clients', 'python');

jest.setTimeout(180_000);

function runUnittest(): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PYTHONPATH: join(PACKAGE, 'src'),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const child = spawn('python3', ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
    cwd: PACKAGE,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done({ code, output }));
  });
}

describe('the Python client library (clients/python)', () => {
  it('passes its unittest suite against the real local broker', async () => {
    const { code, output } = await runUnittest();
    // The whole output on failure, so the failing Python test is named in jest's report.
    expect({ code, tail: code === 0 ? '' : output }).toEqual({ code: 0, tail: '' });
    expect(output).toMatch(/\nOK\b/);
    expect(output).not.toMatch(/\bFAILED\b/);
  });
});
