import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

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

/** What a pooled worker posts: `ready` once started, then `done` or `error` once per request. */
export type PooledWorkerReply = { type: 'ready' } | { type: 'done' } | { type: 'error'; message: string };

/**
 * Worker threads that each answer every request once (`done` or `error`), e.g. one epoch of a
 * trainer: {@link WorkerPool.run} posts the request to all of them and resolves when all have
 * answered. A worker that fails or exits outside {@link WorkerPool.dispose} fails the pool:
 * `onFailure` runs at once (to raise the caller's abort flag), the current and every later run
 * rejects with the reason.
 */
export class WorkerPool<Request> {
  private pending: { remaining: number; errors: string[]; resolve: () => void } | null = null;
  private failure: Error | null = null;
  private disposed = false;

  private constructor(
    private readonly workers: Worker[],
    private readonly label: string,
  ) {}

  /**
   * Starts one worker of `script` per input (its workerData) and waits until each is ready; a
   * worker that fails to start terminates the others and rejects, naming the label.
   */
  static async start<Request, Input>(
    script: { filename: string; options: WorkerOptions },
    label: string,
    inputs: readonly Input[],
    onFailure: () => void,
  ): Promise<WorkerPool<Request>> {
    const workers = inputs.map((workerData) => new Worker(script.filename, { ...script.options, workerData }));
    const pool = new WorkerPool<Request>(workers, label);
    try {
      await Promise.all(workers.map((worker, t) => whenWorkerReady(worker, `${label} worker ${t + 1}`)));
    } catch (error) {
      await pool.dispose();
      throw new Error(`${label}: a worker thread failed to start: ${(error as Error).message}`);
    }
    for (const worker of workers) {
      worker.on('message', (message: PooledWorkerReply) => pool.onReply(message));
      worker.on('error', (error: Error) => pool.fail(`worker thread failed: ${error.message}`, onFailure));
      worker.on('exit', (code: number) => {
        if (!pool.disposed) pool.fail(`worker thread exited with code ${code}`, onFailure);
      });
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  private onReply(message: PooledWorkerReply): void {
    const pending = this.pending;
    if (pending === null || message.type === 'ready') return;
    if (message.type === 'error') pending.errors.push(message.message);
    if (--pending.remaining === 0) {
      this.pending = null;
      pending.resolve();
    }
  }

  private fail(message: string, onFailure: () => void): void {
    if (this.failure === null) this.failure = new Error(`${this.label}: ${message}`);
    onFailure();
    const pending = this.pending;
    this.pending = null;
    pending?.resolve();
  }

  /** Posts `request` to every worker; resolves to the messages of the workers that answered `error` (none: all done). */
  async run(request: Request): Promise<string[]> {
    if (this.failure) throw this.failure;
    if (this.disposed) throw new Error(`${this.label}: run() after dispose()`);
    const errors: string[] = [];
    const done = new Promise<void>((resolve) => {
      this.pending = { remaining: this.workers.length, errors, resolve };
    });
    for (const worker of this.workers) worker.postMessage(request);
    await done;
    if (this.failure) throw this.failure;
    return errors;
  }

  /** Terminates the workers; a run still waiting resolves. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    const pending = this.pending;
    this.pending = null;
    pending?.resolve();
  }
}
