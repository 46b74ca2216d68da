import { Worker } from 'node:worker_threads';
import { whenWorkerReady, workerScript } from '@recsys/core';
import { ALS_CONTROL } from './protocol';
import type { ChunkWorkerMessage } from './pool-worker';


/**
 * Worker threads that take part in passes over shared memory (the ALS and iALS trainers): each
 * {@link run} posts one request to every worker, does the calling thread's share meanwhile, and
 * resolves when all have answered `done`. The work itself is shared out through a counter in the
 * trainer's `control` words ({@link ALS_CONTROL}): a failure anywhere sets its abort word so
 * that every thread stops taking work, and {@link run} rejects with the first error.
 */
export class ChunkWorkerPool<Request> {
  private readonly workers: Worker[] = [];
  private pending: { remaining: number; errors: string[]; resolve: () => void } | null = null;
  private failure: Error | null = null;
  private disposed = false;

  constructor(
    /** Names the owner in errors, e.g. `AlsTrainer`. */
    private readonly name: string,
    private readonly control: Int32Array,
  ) {}

  /** Worker threads started. */
  get size(): number {
    return this.workers.length;
  }

  /** Starts `count` workers running the entry `entry` of `dir` (see workerScript), each with `input(thread)` (threads 1..count). */
  async start(dir: string, entry: string, count: number, input: (thread: number) => unknown): Promise<void> {
    const { filename, options } = workerScript(dir, entry);
    const ready: Array<Promise<void>> = [];
    for (let t = 0; t < count; t++) {
      const worker = new Worker(filename, { ...options, workerData: input(t + 1) });
      this.workers.push(worker);
      ready.push(whenWorkerReady(worker, `${this.name} worker ${t + 1}`));
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      await this.dispose();
      throw new Error(`${this.name}: a worker thread failed to start: ${(error as Error).message}`);
    }
    for (const worker of this.workers) {
      worker.on('message', (message: ChunkWorkerMessage) => this.onWorkerMessage(message));
      worker.on('error', (error: Error) => this.fail(`worker thread failed: ${error.message}`));
      worker.on('exit', (code: number) => {
        if (!this.disposed) this.fail(`worker thread exited with code ${code}`);
      });
    }
  }

  private onWorkerMessage(message: ChunkWorkerMessage): void {
    const pending = this.pending;
    if (pending === null || message.type === 'ready') return;
    if (message.type === 'error') pending.errors.push(message.message);
    if (--pending.remaining === 0) {
      this.pending = null;
      pending.resolve();
    }
  }

  private fail(message: string): void {
    if (this.failure === null) this.failure = new Error(`${this.name}: ${message}`);
    Atomics.store(this.control, ALS_CONTROL.abort, 1);
    const pending = this.pending;
    this.pending = null;
    pending?.resolve();
  }

  /** Posts `request` to every worker, runs `local` on this thread, and waits for all; rethrows the first failure. */
  async run(request: Request, local: () => void): Promise<void> {
    if (this.failure) throw this.failure;
    const control = this.control;
    let done: Promise<void> | null = null;
    const errors: string[] = [];
    if (this.workers.length > 0) {
      done = new Promise<void>((resolve) => {
        this.pending = { remaining: this.workers.length, errors, resolve };
      });
      for (const worker of this.workers) worker.postMessage(request);
    }
    try {
      local();
    } catch (error) {
      Atomics.store(control, ALS_CONTROL.abort, 1);
      errors.push((error as Error).message);
    }
    if (done) await done;
    if (this.failure) throw this.failure;
    if (errors.length > 0) {
      Atomics.store(control, ALS_CONTROL.abort, 0);
      throw new Error(errors[0]);
    }
  }

  /** Terminates the workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, ALS_CONTROL.abort, 1);
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
    const pending = this.pending;
    this.pending = null;
    pending?.resolve();
  }
}
