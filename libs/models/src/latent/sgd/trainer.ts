import { Worker } from 'node:worker_threads';
import { referenceKernel, SGD_WASM_PATH, SgdKernel, sgdWasmModule, wasmKernel } from './kernel';
import { initFactors, MAX_KERNEL_MOVIES, partitionRatings, planLayout, SgdLayout, SgdPartition, writeRatings } from './layout';
import { wasmApi, WasmMemory } from '../../wasm';
import type { FactorState, FactorTrainer } from '../factor-trainer';
import type { SgdOptions } from './plain-trainer';
import { Backend, logBackend, resolveBackend } from '../../backend';
import { CONTROL, EpochParameters, runBlock, SgdWorkerInput, SgdWorkerMessage, SgdWorkerRequest } from './schedule';
import { derive, Random, whenWorkerReady, workerScript } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';

/** Options of {@link createSgdTrainer}: {@link SgdOptions} (k ≥ 1 here) and how the epochs run. */
export interface SgdTrainerOptions extends SgdOptions {
  /** Worker threads; default 1 (the epoch runs in the calling thread). */
  threads?: number;
  /**
   * Ratings of `train` left out (1 byte per by-user position, 1 = left out): the trainer is the
   * one of the matrix without them (same indices), built straight from `train` without that copy.
   */
  exclude?: Uint8Array;
  /**
   * `wasm` runs the AssemblyScript SIMD kernel (libs/models/wasm/sgd.wasm); `js` the plain
   * TypeScript reference kernel with identical arithmetic in the calling thread (blocks in
   * schedule order, even when `threads` > 1), which gives bit-identical results, only slower;
   * `auto` (default) `wasm` when the kernel is built, else `js`. `wasm` without the built kernel
   * is an error naming the file and the command that builds it. The choice is logged once per
   * process ({@link setBackendLogger}).
   */
  backend?: Backend;
  /**
   * Blocks per side B of the user × movie grid; default 1 for one thread, 4 × threads otherwise
   * (capped by the user and movie counts). Results depend on B, not on how many threads run it.
   * Measured at 10M ratings, 100 factors, one thread: B = 4 costs 0.42–0.47 CPU-s an epoch
   * against 0.57–0.62 for B = 1, but one block keeps one thread's fits as they were (the API's
   * guard specs sit on a knife edge); on two threads 8 and 4 cost the same CPU and 8 balances the
   * rounds better.
   */
  blocks?: number;
}

const PAGE = 65536;
const MAX_PAGES = 65536;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`createSgdTrainer: ${name} must be an integer ≥ 1, got ${value}`);
  return value;
}

function finite(name: string, value: number, min = -Infinity): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`SgdTrainer: ${name} must be a finite number${min > -Infinity ? ` ≥ ${min}` : ''}, got ${value}`);
  }
  return value;
}

/**
 * Purposes of the streams derived from the seed (`derive(seed, purpose)`: changing one use never
 * shifts another). The numbers give the seeds of the trainer's earlier per-purpose hash, so fits
 * stay bit-identical.
 */
const STREAM = Object.freeze({ init: 0xd9eb7c82, partition: 0xb3d6f905, schedule: 0x8dc27588 });

/**
 * Build an SGD trainer of the biased matrix factorisation r̂ = μ + b_u + b_i + q_i·p_u (Surprise's SVD)
 * on `train`.
 *
 * Each epoch applies, rating by rating, with e = r − r̂:
 *   b_u += lrBias·(e − regBias·b_u);  b_i += lrBias·(e − regBias·b_i);
 *   p_u += lr·(e·q_i − reg·p_u);       q_i += lr·(e·p_u − reg·q_i)   (both with the old p_u, q_i)
 * in f32. p and q start N(initMean, initStd²) from the seeded generator (p rows, then q rows, in
 * internal order), biases 0, μ the training mean.
 *
 * Order (LibMF's): users and movies are renumbered in a seeded random order and cut into B
 * groups of about equal rating counts, each a contiguous range of the new numbers, giving B × B
 * blocks; each epoch visits every block once in B rounds of B blocks that share no user group
 * and no movie group (a Latin square with seeded row, column and round permutations). Within a
 * block each user's ratings are processed together, users in ascending new number: their rows
 * stream through memory while the block's movie rows stay in the core's cache. With threads > 1, worker threads share the memory and split each round's blocks, with
 * a barrier between rounds; two threads never touch the same user or movie rows at once, and the
 * result equals the serial run of the same schedule: deterministic for a seed and B.
 *
 * Memory: 4·kp bytes per user and per movie for the factors (kp = k rounded up to 4), 16 bytes
 * per user and movie for the biases and the renumbering, 4 bytes per rating plus 8 per
 * (user, block) segment.
 */
export async function createSgdTrainer(train: RatingMatrix, options: SgdTrainerOptions): Promise<BlockSgdTrainer> {
  const factors = positiveInteger('factors', options.factors);
  const threads = positiveInteger('threads', options.threads ?? 1);
  const seed = options.seed ?? 42;
  if (!Number.isFinite(seed)) throw new RangeError(`createSgdTrainer: seed must be a finite number, got ${seed}`);
  const initStd = finite('initStd', options.initStd ?? 0.1, 0);
  const initMean = finite('initMean', options.initMean ?? 0);
  const lr = finite('lr', options.lr, 0);
  const reg = finite('reg', options.reg, 0);
  const hyper: SgdHyper = { lr, reg, lrBias: finite('lrBias', options.lrBias ?? lr, 0), regBias: finite('regBias', options.regBias ?? reg, 0) };
  const exclude = options.exclude ?? null;
  if (exclude !== null && exclude.length !== train.nRatings) throw new RangeError(`createSgdTrainer: exclude has ${exclude.length} entries, expected one per rating (${train.nRatings})`);
  if (train.nRatings === 0) throw new RangeError('createSgdTrainer: the training matrix has no ratings');
  if (train.nMovies > MAX_KERNEL_MOVIES) {
    throw new RangeError(`createSgdTrainer: ${train.nMovies} movies exceed the kernel's limit of ${MAX_KERNEL_MOVIES}`);
  }
  const requestedBlocks = positiveInteger('blocks', options.blocks ?? (threads === 1 ? 1 : 4 * threads));
  const blocks = Math.max(1, Math.min(requestedBlocks, train.nUsers, train.nMovies, 4096));
  const backend = resolveBackend('SGD', options.backend ?? 'auto', SGD_WASM_PATH);
  const useWasm = backend.wasm;
  logBackend(`models: SGD kernel in ${useWasm ? 'WebAssembly' : 'TypeScript'} (${backend.reason})`);

  const partition = partitionRatings(train, blocks, derive(seed, STREAM.partition), exclude);
  const workerCount = useWasm && threads > 1 ? Math.min(threads, blocks) : 0;
  const layout = planLayout(train, factors, partition);
  if (layout.nRatings === 0) throw new RangeError('createSgdTrainer: exclude leaves out every rating of the training matrix');
  const pages = Math.ceil(layout.bytes / PAGE);
  if (pages > MAX_PAGES) {
    throw new RangeError(`createSgdTrainer: ${layout.bytes} bytes of factors and ratings exceed WebAssembly's 4 GiB`);
  }
  const memory = useWasm ? new wasmApi.Memory({ initial: pages, maximum: pages, shared: true }) : null;
  const buffer: ArrayBuffer | SharedArrayBuffer = memory ? memory.buffer : new ArrayBuffer(pages * PAGE);
  const blockSeg = writeRatings(buffer, layout, train, partition, exclude);
  const initRng = derive(seed, STREAM.init);
  initFactors(buffer, layout.P, train.nUsers, factors, layout.kp, initMean, initStd, initRng);
  initFactors(buffer, layout.Q, train.nMovies, factors, layout.kp, initMean, initStd, initRng);
  const mu = train.globalMean(exclude ?? undefined);
  const kernel: SgdKernel = memory ? wasmKernel(memory) : referenceKernel(buffer);

  const trainer = new BlockSgdTrainer(layout, partition, buffer, kernel, useWasm, blockSeg, mu, hyper, derive(seed, STREAM.schedule));
  if (workerCount > 0) await trainer.startWorkers(memory!, workerCount);
  return trainer;
}

/** The step sizes and L2 weights of every epoch, checked. */
interface SgdHyper {
  readonly lr: number;
  readonly reg: number;
  readonly lrBias: number;
  readonly regBias: number;
}

/**
 * The blocked SGD trainer {@link createSgdTrainer} builds: owns the factors in (shared)
 * WebAssembly memory; ratings in blocks of contiguous user and movie ranges (LibMF's layout).
 */
export class BlockSgdTrainer implements FactorTrainer {
  readonly factors: number;
  /** Blocks per side actually used. */
  readonly blocks: number;
  /** Worker threads actually started (0 when epochs run in the calling thread). */
  workers = 0;
  readonly converged = false;
  private readonly schedule: Int32Array;
  private readonly blockSse: Float64Array;
  private readonly control: Int32Array;
  private readonly threads: Worker[] = [];
  private epochs = 0;
  private disposed = false;
  /** Set by finalState(), which reorders the factor rows in place. */
  private finalised = false;
  private busy = false;
  /** Set while an epoch runs in the workers: settles it on 'done' / failure. */
  private pending: { remaining: number; resolve: () => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly layout: SgdLayout,
    /** Internal index of each user and movie (rows of the memory), kept to unscramble {@link state}. */
    private readonly partition: SgdPartition,
    private readonly buffer: ArrayBuffer | SharedArrayBuffer,
    private readonly kernel: SgdKernel,
    /** Whether the WebAssembly SIMD kernel runs (else the TypeScript reference kernel). */
    readonly wasm: boolean,
    private readonly blockSeg: Uint32Array,
    /** μ, the training mean (the kernel computes with it rounded to f32). */
    private readonly mu: number,
    private readonly hyper: SgdHyper,
    private readonly scheduleRng: Random,
  ) {
    this.factors = layout.factors;
    this.blocks = layout.blocks;
    const B = layout.blocks;
    this.schedule = new Int32Array(new SharedArrayBuffer(B * B * 4));
    this.blockSse = new Float64Array(new SharedArrayBuffer(B * B * 8));
    this.control = new Int32Array(new SharedArrayBuffer((CONTROL.cursors + B) * 4));
  }

  /** Bytes of the memory holding factors, biases and the blocked ratings. */
  get memoryBytes(): number {
    return this.buffer.byteLength;
  }

  async startWorkers(memory: WasmMemory, count: number): Promise<void> {
    const sharedBlockSeg = new Uint32Array(new SharedArrayBuffer(this.blockSeg.byteLength));
    sharedBlockSeg.set(this.blockSeg);
    const input: SgdWorkerInput = {
      module: sgdWasmModule(),
      memory,
      layout: this.layout,
      blockSeg: sharedBlockSeg,
      control: this.control,
      schedule: this.schedule,
      blockSse: this.blockSse,
      threads: count,
    };
    const { filename, options } = workerScript(__dirname, 'worker');
    const ready: Array<Promise<void>> = [];
    for (let t = 0; t < count; t++) {
      const worker = new Worker(filename, { ...options, workerData: input });
      this.threads.push(worker);
      ready.push(whenWorkerReady(worker, `SGD worker ${t + 1}`));
    }
    this.workers = count;
    try {
      await Promise.all(ready);
    } catch (error) {
      await this.dispose();
      throw new Error(`SgdTrainer: a worker thread failed to start: ${(error as Error).message}`);
    }
    for (const worker of this.threads) {
      worker.on('message', (message: SgdWorkerMessage) => this.onWorkerMessage(message));
      worker.on('error', (error: Error) => this.fail(new Error(`SgdTrainer: worker thread failed: ${error.message}`)));
      worker.on('exit', (code: number) => {
        if (!this.disposed) this.fail(new Error(`SgdTrainer: worker thread exited with code ${code}`));
      });
    }
  }

  private onWorkerMessage(message: SgdWorkerMessage): void {
    const pending = this.pending;
    if (pending === null) return;
    if (message.type === 'aborted') {
      this.fail(this.failure ?? new Error('SgdTrainer: epoch aborted'));
    } else if (message.type === 'done' && --pending.remaining === 0) {
      this.pending = null;
      pending.resolve();
    }
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    Atomics.store(this.control, CONTROL.abort, 1);
    Atomics.notify(this.control, CONTROL.generation);
    const pending = this.pending;
    this.pending = null;
    pending?.reject(this.failure);
  }

  /** This epoch's Latin square: round r, slot i → block i·B + τ[(σ[i] + ρ[r]) mod B]. */
  private planEpoch(): void {
    const B = this.blocks;
    const rng = this.scheduleRng;
    const sigma = new Int32Array(B);
    const tau = new Int32Array(B);
    const rho = new Int32Array(B);
    for (let i = 0; i < B; i++) sigma[i] = tau[i] = rho[i] = i;
    rng.shuffle(sigma);
    rng.shuffle(tau);
    rng.shuffle(rho);
    for (let r = 0; r < B; r++) {
      for (let i = 0; i < B; i++) this.schedule[r * B + i] = i * B + tau[(sigma[i] + rho[r]) % B];
    }
  }

  /** One epoch over every block; resolves to the RMSE of the errors met, each before its update (as LibMF reports). */
  async step(): Promise<number> {
    if (this.finalised) throw new Error('SgdTrainer: step() after finalState()');
    if (this.disposed) throw new Error('SgdTrainer: step() after dispose()');
    if (this.failure) throw this.failure;
    if (this.busy) throw new Error('SgdTrainer: step() while another epoch runs');
    const parameters: EpochParameters = {
      mu: Math.fround(this.mu),
      ...this.hyper,
    };
    this.busy = true;
    try {
      this.planEpoch();
      const B = this.blocks;
      if (this.threads.length === 0) {
        for (let slot = 0; slot < B * B; slot++) {
          const b = this.schedule[slot];
          this.blockSse[b] = runBlock(this.kernel, this.layout, this.blockSeg, b, parameters);
        }
      } else {
        for (let r = 0; r < B; r++) Atomics.store(this.control, CONTROL.cursors + r, 0);
        const done = new Promise<void>((resolve, reject) => {
          this.pending = { remaining: this.threads.length, resolve, reject };
        });
        const request: SgdWorkerRequest = { type: 'epoch', parameters };
        for (const worker of this.threads) worker.postMessage(request);
        await done;
      }
    } finally {
      this.busy = false;
    }
    this.epochs++;
    let sse = 0;
    for (let b = 0; b < this.blockSse.length; b++) sse += this.blockSse[b];
    return Math.sqrt(sse / this.layout.nRatings);
  }

  /** Copies of the parameters by matrix index, factor rows unpadded. */
  state(): FactorState {
    if (this.disposed) throw new Error('SgdTrainer: state() after dispose()');
    const { factors: k, kp } = this.layout;
    const { userIndex, movieIndex } = this.partition;
    const f32 = new Float32Array(this.buffer);
    const unpad = (offset: number, index: Uint32Array): Float32Array => {
      const out = new Float32Array(index.length * k);
      const at = offset >>> 2;
      for (let r = 0; r < index.length; r++) {
        const from = at + index[r] * kp;
        out.set(f32.subarray(from, from + k), r * k);
      }
      return out;
    };
    return {
      globalMean: this.mu,
      userBias: this.biasesByMatrixIndex(this.layout.userBias, userIndex),
      movieBias: this.biasesByMatrixIndex(this.layout.movieBias, movieIndex),
      userFactors: unpad(this.layout.P, userIndex),
      movieFactors: unpad(this.layout.Q, movieIndex),
      k,
    };
  }

  /**
   * The last parameters: as {@link state}, except that factor rows with no padding (k a multiple of
   * 4, kp = k) are views of the trainer's memory instead of copies (that memory, ratings included,
   * then lives as long as the model does; at 100M ratings and 100 factors the copy would add
   * 1.9 bytes per rating to the fit's peak). The rows are first put back into matrix order in
   * place (the layout renumbers users and movies into contiguous groups), one cycle of the
   * permutation at a time with one row of scratch, so the trainer cannot step afterwards.
   */
  finalState(): FactorState {
    if (this.layout.kp !== this.layout.factors || this.disposed) return this.state();
    const { nUsers, nMovies, factors: k } = this.layout;
    const { userIndex, movieIndex } = this.partition;
    const userBias = this.biasesByMatrixIndex(this.layout.userBias, userIndex);
    const movieBias = this.biasesByMatrixIndex(this.layout.movieBias, movieIndex);
    this.finalised = true;
    return {
      globalMean: this.mu,
      userBias,
      movieBias,
      userFactors: gatherRowsInPlace(new Float32Array(this.buffer, this.layout.P, nUsers * k), userIndex, k),
      movieFactors: gatherRowsInPlace(new Float32Array(this.buffer, this.layout.Q, nMovies * k), movieIndex, k),
      k,
    };
  }

  /** The f32 biases at byte `offset` (internal order), as f64 by matrix index (`index`: matrix → internal). */
  private biasesByMatrixIndex(offset: number, index: Uint32Array): Float64Array {
    const f32 = new Float32Array(this.buffer);
    const out = new Float64Array(index.length);
    for (let i = 0, at = offset >>> 2; i < index.length; i++) out[i] = f32[at + index[i]];
    return out;
  }

  /** Terminates the workers; the trainer cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, CONTROL.abort, 1);
    Atomics.notify(this.control, CONTROL.generation);
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((worker) => worker.terminate()));
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new Error('SgdTrainer: disposed during an epoch'));
  }
}

/**
 * Row r of the result is row index[r] of `rows` (k floats each), computed in place in `rows`
 * (returned): `index` is a permutation, followed one cycle at a time with a single row of
 * scratch and one byte per row to mark the rows already placed.
 */
export function gatherRowsInPlace(rows: Float32Array, index: Uint32Array, k: number): Float32Array {
  const n = index.length;
  const placed = new Uint8Array(n);
  const scratch = new Float32Array(k);
  for (let start = 0; start < n; start++) {
    if (placed[start] || index[start] === start) continue;
    scratch.set(rows.subarray(start * k, start * k + k));
    let at = start;
    for (;;) {
      placed[at] = 1;
      const from = index[at];
      if (from === start) {
        rows.set(scratch, at * k);
        break;
      }
      rows.copyWithin(at * k, from * k, from * k + k);
      at = from;
    }
  }
  return rows;
}
