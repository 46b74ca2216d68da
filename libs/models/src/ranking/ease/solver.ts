import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { whenWorkerReady, workerScript } from '@recsys/core';
import type { RatingMatrix } from '@recsys/data';
import { wasmApi, WasmMemory } from '../../wasm';
import { EASE_CONTROL, EaseKernel, easeKernel, EaseLayout, easeLayout, EaseTask, easeWasmModule, EaseWorkerInput, EaseWorkerMessage, runEaseTasks } from './tasks';

const PAGE = 65536;
/** A wasm32 memory holds at most 65,536 pages (4 GiB). */
const MAX_PAGES = 65536;

/** How the interaction matrix X is read from a RatingMatrix (stored value v = code × 0.5). */
export interface EaseInteractionView {
  /** Entries with v < minWeight are not interactions. */
  minWeight: number;
  /** x_ui = 1 (true) or v (false). */
  binary: boolean;
}

/**
 * The EASE closed form on the WebAssembly SIMD kernel (libs/models/assembly/ease.ts) in one
 * shared WebAssembly memory laid out by {@link easeLayout}: the Gram matrix G = XᵀX + λI
 * ({@link gram}, or {@link setMatrix} for a given symmetric matrix), its inverse in place by the
 * blocked symmetric sweep ({@link invert}), then B ({@link weights}). The calling thread and
 * threads − 1 worker threads share every phase through a task cursor in that memory.
 */
export class EaseSolver {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private readonly kernel: EaseKernel;
  private disposed = false;

  private constructor(
    readonly layout: EaseLayout,
    private readonly memory: WasmMemory,
  ) {
    this.control = new Int32Array(memory.buffer, layout.control, EASE_CONTROL.length);
    this.kernel = easeKernel(memory, easeWasmModule());
  }

  /**
   * A solver for n items (and the interaction matrix of nUsers users and nnz interactions that
   * {@link gram} will copy in), with `threads` threads. Refuses (RangeError, bytes stated) a
   * layout beyond WebAssembly's 4 GiB.
   */
  static async create(n: number, options: { nUsers?: number; nnz?: number; threads?: number; blockSize?: number; gramTileBytes?: number } = {}): Promise<EaseSolver> {
    const threads = options.threads ?? availableParallelism();
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`ease: threads must be an integer ≥ 1, got ${threads}`);
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`ease: the item count must be an integer ≥ 1, got ${n}`);
    const layout = easeLayout(n, options.nUsers ?? 0, options.nnz ?? 0, threads, options.blockSize, options.gramTileBytes);
    const pages = Math.ceil(layout.bytes / PAGE);
    if (pages > MAX_PAGES) {
      throw new RangeError(
        `ease: ${n} items need ${layout.bytes} bytes of kernel memory (the ${layout.np}² × 4 B = ${layout.np * layout.np * 4} B matrix plus 9 B per interaction and scratch), beyond WebAssembly's 4 GiB`,
      );
    }
    const memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
    const solver = new EaseSolver(layout, memory);
    if (threads > 1) await solver.startWorkers(threads - 1);
    return solver;
  }

  private async startWorkers(count: number): Promise<void> {
    const { filename, options } = workerScript(__dirname, 'worker');
    const module = easeWasmModule();
    const ready: Array<Promise<void>> = [];
    for (let t = 0; t < count; t++) {
      const workerData: EaseWorkerInput = { layout: this.layout, memory: this.memory, module, thread: t + 1 };
      const worker = new Worker(filename, { ...options, workerData });
      this.workers.push(worker);
      ready.push(whenWorkerReady(worker, `EASE worker ${t + 1}`));
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      await this.dispose();
      throw new Error(`ease: a worker thread failed to start: ${(error as Error).message}`);
    }
  }

  /** Bytes of the kernel's memory. */
  get memoryBytes(): number {
    return this.layout.bytes;
  }

  /** One phase on every thread: the workers and this thread take tasks until none is left. */
  private async run(task: EaseTask): Promise<void> {
    if (this.disposed) throw new Error('ease: the solver is disposed');
    Atomics.store(this.control, EASE_CONTROL.cursor, 0);
    const replies = this.workers.map(
      (worker) =>
        new Promise<EaseWorkerMessage>((resolve) => {
          const onExit = (code: number): void => resolve({ type: 'error', message: `worker thread exited with code ${code}` });
          worker.once('exit', onExit);
          worker.once('message', (message: EaseWorkerMessage) => {
            worker.off('exit', onExit);
            resolve(message);
          });
          worker.postMessage(task);
        }),
    );
    let failure: string | null = null;
    try {
      runEaseTasks(this.kernel, this.layout, this.control, task, 0);
    } catch (error) {
      failure = (error as Error).message;
    }
    for (const reply of await Promise.all(replies)) if (reply.type === 'error' && failure === null) failure = reply.message;
    if (failure !== null) throw new Error(`ease: ${failure}`);
  }

  /**
   * G = XᵀX + λI into the matrix (lower triangle): X from `train`'s entries whose value is ≥
   * `view.minWeight` (x = 1 or the value, see {@link EaseInteractionView}), copied into the
   * kernel's memory by user and by movie (9 bytes per interaction), then built by row tiles.
   */
  async gram(train: RatingMatrix, lambda: number, view: EaseInteractionView): Promise<void> {
    const l = this.layout;
    if (train.nMovies !== l.n || train.nUsers !== l.nUsers) throw new RangeError(`ease: the solver was laid out for ${l.nUsers} users and ${l.n} items, the data has ${train.nUsers} and ${train.nMovies}`);
    const buffer = this.memory.buffer;
    const minCode = view.minWeight * 2;
    const copy = (ptrFrom: Uint32Array, idxFrom: Int32Array, codesFrom: Uint8Array, rows: number, ptrAt: number, idxAt: number, codesAt: number | null): void => {
      const ptr = new Uint32Array(buffer, ptrAt, rows + 1);
      const idx = new Int32Array(buffer, idxAt, l.nnz);
      const codes = codesAt === null ? null : new Uint8Array(buffer, codesAt, l.nnz);
      let at = 0;
      for (let r = 0; r < rows; r++) {
        ptr[r] = at;
        for (let k = ptrFrom[r], end = ptrFrom[r + 1]; k < end; k++) {
          const code = codesFrom[k];
          if (code < minCode) continue;
          if (at >= l.nnz) throw new RangeError(`ease: more interactions than the ${l.nnz} the solver was laid out for`);
          idx[at] = idxFrom[k];
          if (codes !== null) codes[at] = code;
          at++;
        }
      }
      ptr[rows] = at;
      if (at !== l.nnz) throw new RangeError(`ease: ${at} interactions, the solver was laid out for ${l.nnz}`);
    };
    copy(train.userPtr, train.userMovies, train.userRatings, train.nUsers, l.userPtr, l.userMovies, l.codes);
    copy(train.moviePtr, train.movieUsers, train.movieRatings, train.nMovies, l.moviePtr, l.movieUsers, null);
    await this.run({ type: 'gram', lambda, binary: view.binary });
  }

  /** Puts the lower triangle of the symmetric n × n row-major `g` into the matrix (padding: identity), in place of {@link gram}. */
  setMatrix(g: Float64Array): void {
    const { n, np } = this.layout;
    if (g.length !== n * n) throw new RangeError(`ease: setMatrix needs ${n} × ${n} values, got ${g.length}`);
    const m = this.matrixView();
    m.fill(0);
    for (let i = 0; i < np; i++) for (let j = 0; j <= i; j++) m[i * np + j] = i < n ? g[i * n + j] : i === j ? 1 : 0;
  }

  /** The np × np matrix (row stride np) as it is now. */
  matrixView(): Float32Array {
    const { np, matrix } = this.layout;
    return new Float32Array(this.memory.buffer, matrix, np * np);
  }

  /**
   * The matrix ← −G⁻¹ (lower triangle) by np / nb sweep steps: the calling thread packs the
   * panel and inverts the pivot block, all threads share the rank-nb update. Throws when a pivot
   * is not positive (G not positive definite in f32: λ too small), naming the item.
   */
  async invert(onStep?: (step: number, steps: number) => void): Promise<void> {
    const { np, nb, matrix, panel, block, blockWork } = this.layout;
    const steps = np / nb;
    for (let s = 0; s < steps; s++) {
      const k0 = s * nb;
      this.kernel.easePack(matrix, np, k0, nb, panel);
      const bad = this.kernel.easeInvertBlock(matrix, np, k0, nb, block, blockWork);
      if (bad >= 0) {
        throw new RangeError(`ease: the Gram matrix is not positive definite in f32 at item index ${k0 + bad} (pivot ≤ 0): increase lambda`);
      }
      await this.run({ type: 'update', k0 });
      onStep?.(s + 1, steps);
    }
  }

  /**
   * B from the inverted matrix, in place: B_ij = −P_ij / P_jj (P = G⁻¹), B_ii = 0, then the rows
   * compacted to stride n. Returns B, n × n row-major over the kernel's memory (valid until dispose
   * drops the last reference; copy it to keep it apart from the memory).
   */
  async weights(): Promise<Float32Array> {
    const { n, np, scale } = this.layout;
    const m = this.matrixView();
    const s = new Float32Array(this.memory.buffer, scale, np);
    for (let j = 0; j < n; j++) s[j] = -1 / m[j * np + j];
    await this.run({ type: 'finish' });
    if (np !== n) for (let i = 1; i < n; i++) m.copyWithin(i * n, i * np, i * np + n);
    return m.subarray(0, n * n);
  }

  /** Terminates the workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Interactions of `train` with value ≥ minWeight (the nnz of the Gram build's X). */
export function countInteractions(train: RatingMatrix, minWeight: number): number {
  if (minWeight <= 0) return train.nRatings;
  const minCode = minWeight * 2;
  const codes = train.userRatings;
  let count = 0;
  for (let k = 0; k < train.nRatings; k++) if (codes[k] >= minCode) count++;
  return count;
}
