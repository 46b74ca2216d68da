import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker, WorkerOptions } from 'node:worker_threads';

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

/**
 * Resolves when `worker` posts `{ type: 'ready' }`; rejects when it fails or exits first (so a
 * worker that dies while starting is reported instead of waited for forever).
 */
export function whenWorkerReady(worker: Worker, name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      cleanUp();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanUp();
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    };
    const onMessage = (message: { type?: unknown } | null): void => {
      if (message?.type !== 'ready') return;
      cleanUp();
      resolve();
    };
    const cleanUp = (): void => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.off('message', onMessage);
    };
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.on('message', onMessage);
  });
}
