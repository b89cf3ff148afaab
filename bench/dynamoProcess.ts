/** dynalite in a child process, in memory: its CPU is not the broker's, as DynamoDB's is not in AWS. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ROOT } from './bundles';

/** @example const { endpoint, child } = await dynamoProcess(); ...; child.kill(); */
export async function dynamoProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const script =
    "const server = require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });" +
    "server.listen(0, '127.0.0.1', () => console.log(server.address().port));";
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { endpoint: `http://127.0.0.1:${chunk.toString().trim()}`, child };
}
