import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from 'node:worker_threads';

/**
 * Where a worker thread's entry file is and how to start it. Compiled code (dist/) runs the
 * `.js` next to the caller; code running from TypeScript sources (jest) runs the `.ts` file
 * through `@swc-node/register`, so tests exercise the same worker code without a build.
 *
 * @param dir the caller's `__dirname`
 * @param name the entry file's name without extension, e.g. `'neighbour-worker'`
 */
export function workerScript(dir: string, name: string): { filename: string; options: WorkerOptions } {
  const js = join(dir, `${name}.js`);
  if (existsSync(js)) return { filename: js, options: {} };
  const ts = join(dir, `${name}.ts`);
  if (!existsSync(ts)) throw new Error(`worker entry ${name} not found in ${dir}`);
  return { filename: ts, options: { execArgv: ['--require', '@swc-node/register'] } };
}
