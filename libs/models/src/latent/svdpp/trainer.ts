import { Worker } from 'node:worker_threads';
import { Random, whenWorkerReady, workerScript } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';
import { Shuffler } from '@recsys/optimization';
import { Backend, logBackend, resolveBackend } from '../../backend';
import { wasmApi, WasmMemory } from '../../wasm';
import type { FactorState, FactorTrainer } from '../factor-trainer';
import type { SvdppParams } from '../svdpp-model';
import { memoryPlan } from '../sgd/layout';
import { SVDPP_WASM_PATH, SvdppKernel, svdppReferenceKernel, svdppWasmKernel, svdppWasmModule } from './kernel';
import { runUsers, SVDPP_CONTROL, SvdppEpochParameters, SvdppLayout, SvdppWorkerInput, SvdppWorkerMessage, SvdppWorkerRequest, USERS_PER_CALL, usersPerRun, workingBytes } from './protocol';

/** SVD++'s state: `userFactors` holds the effective vectors p_u + |N(u)|^-½ Σ y_j. */
export interface SvdppState extends FactorState {
  /** p_u alone, nUsers × k. */
  rawUserFactors: Float32Array;
  /** y_j, nMovies × k. */
  implicitFactors: Float32Array;
}

/** What {@link createSvdppTrainer} needs: SvdppParams' training part (threads default 1, backend `auto`). */
export type SvdppTrainerOptions = Pick<SvdppParams, 'factors' | 'lr' | 'lrBias' | 'reg' | 'regBias' | 'initStd' | 'seed'> & { threads?: number; backend?: Backend };

const PAGE = 65536;
const MAX_PAGES = 65536;

/**
 * Byte offsets of the SVD++ arrays for `threads` threads. What several threads write lies on
 * cache lines of its own: factor rows from a line's start (a row of 16 factors is one line), each
 * movie's bias on a line of its own, and each thread's scratch rows on their own lines.
 */
export function planLayout(train: Pick<RatingMatrix, 'nUsers' | 'nMovies' | 'nRatings'>, factors: number, workers: number): SvdppLayout {
  const kp = Math.ceil(factors / 4) * 4;
  const { take, end } = memoryPlan();
  const P = take(train.nUsers * kp * 4, 64);
  const Q = take(train.nMovies * kp * 4, 64);
  const Y = take(train.nMovies * kp * 4, 64);
  const userBias = take(train.nUsers * 4);
  const movieBias = take(train.nMovies * 4, 64);
  const norm = take(train.nUsers * 4);
  const shrink = take(train.nUsers * 4);
  const userPtr = take((train.nUsers + 1) * 4);
  const ratings = take(train.nRatings * 4);
  const order = take(train.nUsers * 4);
  const scratchBytes = Math.ceil((8 * kp) / 64) * 64;
  const scratch = take(Math.max(1, workers) * scratchBytes, 64);
  const perWorker = workingBytes(train.nMovies, kp);
  const working = workers > 0 ? take(workers * perWorker, 64) : 0;
  const run = usersPerRun(train.nUsers, train.nMovies, train.nRatings, Math.max(1, workers));
  return { nUsers: train.nUsers, nMovies: train.nMovies, nRatings: train.nRatings, factors, kp, P, Q, Y, userBias, movieBias, norm, shrink, userPtr, ratings, order, scratch, scratchBytes, working, workingBytes: perWorker, usersPerRun: run, bytes: end() };
}

/** N(0, std²) draws into the first k floats of each padded row, row by row (initialFactors' order). */
function drawRows(f32: Float32Array, offset: number, rows: number, k: number, kp: number, std: number, random: Random): void {
  const base = offset >>> 2;
  for (let r = 0; r < rows; r++) for (let f = 0; f < k; f++) f32[base + r * kp + f] = std * random.normal();
}

/**
 * The SVD++ trainer (see SvdppModel for the model and the updates): everything in one (shared)
 * WebAssembly memory, the AssemblyScript SIMD kernel (libs/models/assembly/svdpp.ts) or its
 * TypeScript reference with identical f32 arithmetic. p, q start as `initialFactors(seed)` draws
 * them, y from the stream of seed + 1, biases 0; users in a fresh seeded order each epoch
 * ({@link Shuffler}), each user's ratings together.
 *
 * Threads: worker threads claim runs of users of the epoch's order from a shared cursor
 * (`usersPerRun`: about 32 ratings per movie, at most 1/64 of the users per thread; 2,731 users at
 * the Netflix Prize's size) and update P (their own users' rows) in place. The movie parameters
 * (Q, b_i, Y) each run reads and writes in the thread's own working copies, taken from the shared
 * arrays when the run starts; at its end the run's changes are applied to the shared arrays, which
 * the other threads changed meanwhile (Q and b_i: + the run's difference; Y: the run's affine map
 * y ↦ s·y + (w − s·base), s the product of the shrinks applied to y_j, see pushMovies in
 * assembly/svdpp.ts), one thread at a time. Writing one shared Q, Y and b_i in place at every
 * rating ("Hogwild!") made the cores pass those cache lines back and forth: 2 threads then cost
 * 3.6× the CPU of one (100M Prize-layout ratings, 16 factors; 5.9 s an epoch against 2.7 s on one
 * thread), 1.2× with the copies (2.0–2.1 s an epoch). A thread sees
 * the others' updates one run late; one thread is deterministic (and equals the reference kernel
 * bit for bit); with more, results vary slightly from run to run.
 *
 * Memory: 4·kp bytes per user (P) and 8·kp per movie (Q, Y), 12 per user for the biases and the
 * per-user constants, 4 per rating (the packed ratings); with worker threads, 16·kp + 12 per movie
 * per worker (its working and base copies).
 */
export async function createSvdppTrainer(train: RatingMatrix, o: SvdppTrainerOptions): Promise<SvdppSgdTrainer> {
  if (!(Number.isInteger(o.factors) && o.factors >= 0)) throw new RangeError(`svdpp: factors must be an integer ≥ 0, got ${o.factors}`);
  const threads = o.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`svdpp: threads must be an integer ≥ 1, got ${threads}`);
  if (train.nRatings === 0) throw new RangeError('svdpp: the training matrix has no ratings');
  if (train.nMovies > 1 << 24) throw new RangeError(`svdpp: ${train.nMovies} movies exceed the kernel's limit of ${1 << 24}`);
  const backend = resolveBackend('SVD++', o.backend ?? 'auto', SVDPP_WASM_PATH);
  logBackend(`models: SVD++ kernel in ${backend.wasm ? 'WebAssembly' : 'TypeScript'} (${backend.reason})`);
  const workers = backend.wasm && threads > 1 ? Math.min(threads, Math.ceil(train.nUsers / USERS_PER_CALL)) : 0;
  const layout = planLayout(train, o.factors, workers);
  const pages = Math.ceil(layout.bytes / PAGE);
  if (pages > MAX_PAGES) throw new RangeError(`svdpp: ${layout.bytes} bytes of factors and ratings exceed WebAssembly's 4 GiB`);
  const memory = backend.wasm ? new wasmApi.Memory({ initial: pages, maximum: pages, shared: true }) : null;
  const buffer = memory ? memory.buffer : new ArrayBuffer(pages * PAGE);

  const f32 = new Float32Array(buffer);
  const u32 = new Uint32Array(buffer);
  const { kp } = layout;
  const k = o.factors;
  const random = new Random(o.seed);
  drawRows(f32, layout.P, train.nUsers, k, kp, o.initStd, random);
  drawRows(f32, layout.Q, train.nMovies, k, kp, o.initStd, random);
  drawRows(f32, layout.Y, train.nMovies, k, kp, o.initStd, new Random(o.seed + 1));
  const keep = 1 - Math.fround(o.lr) * Math.fround(o.reg);
  const { userPtr, userMovies, userRatings } = train;
  for (let u = 0; u <= train.nUsers; u++) u32[(layout.userPtr >>> 2) + u] = userPtr[u];
  for (let u = 0; u < train.nUsers; u++) {
    const n = userPtr[u + 1] - userPtr[u];
    f32[(layout.norm >>> 2) + u] = n > 0 ? 1 / Math.sqrt(n) : 0;
    // (1 − lr·reg)^|N(u)|: the shrinkage of Surprise's |N(u)| steps on y_j, taken at once.
    f32[(layout.shrink >>> 2) + u] = Math.pow(keep, n);
  }
  const at = layout.ratings >>> 2;
  for (let r = 0; r < train.nRatings; r++) u32[at + r] = ((userMovies[r] << 8) | userRatings[r]) >>> 0;

  const kernel = memory ? svdppWasmKernel(memory) : svdppReferenceKernel(buffer);
  const trainer = new SvdppSgdTrainer(train, layout, buffer, kernel, backend.wasm, o);
  if (workers > 0) await trainer.startWorkers(memory!, workers);
  return trainer;
}

/** The SVD++ trainer {@link createSvdppTrainer} builds. */
export class SvdppSgdTrainer implements FactorTrainer<SvdppState> {
  readonly converged = false;
  /** Worker threads started (0: epochs run in the calling thread). */
  workers = 0;
  private readonly mu: number;
  private readonly shuffler: Shuffler;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  /** On a cache line of its own: taken at each push of a worker's run. */
  private readonly lock = new Int32Array(new SharedArrayBuffer(64), 0, 1);
  private readonly sse: Float64Array;
  private readonly threads: Worker[] = [];
  private pending: { remaining: number; resolve: () => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private disposed = false;

  constructor(
    private readonly train: RatingMatrix,
    private readonly layout: SvdppLayout,
    private readonly buffer: ArrayBuffer | SharedArrayBuffer,
    private readonly kernel: SvdppKernel,
    /** Whether the WebAssembly SIMD kernel runs. */
    readonly wasm: boolean,
    private readonly options: SvdppTrainerOptions,
  ) {
    this.mu = train.globalMean();
    this.shuffler = new Shuffler(train.nUsers, options.seed);
    this.sse = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, options.threads ?? 1)));
  }

  async startWorkers(memory: WasmMemory, count: number): Promise<void> {
    const { filename, options } = workerScript(__dirname, 'worker');
    const ready: Array<Promise<void>> = [];
    for (let t = 0; t < count; t++) {
      const input: SvdppWorkerInput = { module: svdppWasmModule(), memory, layout: this.layout, control: this.control, lock: this.lock, sse: this.sse, thread: t };
      const worker = new Worker(filename, { ...options, workerData: input });
      this.threads.push(worker);
      ready.push(whenWorkerReady(worker, `SVD++ worker ${t + 1}`));
    }
    this.workers = count;
    try {
      await Promise.all(ready);
    } catch (error) {
      await this.dispose();
      throw new Error(`svdpp: a worker thread failed to start: ${(error as Error).message}`);
    }
    for (const worker of this.threads) {
      worker.on('message', (message: SvdppWorkerMessage) => {
        const pending = this.pending;
        if (pending === null) return;
        if (message.type === 'aborted') this.fail(new Error('svdpp: epoch aborted'));
        else if (message.type === 'done' && --pending.remaining === 0) {
          this.pending = null;
          pending.resolve();
        }
      });
      worker.on('error', (error: Error) => this.fail(new Error(`svdpp: worker thread failed: ${error.message}`)));
      worker.on('exit', (code: number) => {
        if (!this.disposed) this.fail(new Error(`svdpp: worker thread exited with code ${code}`));
      });
    }
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    Atomics.store(this.control, SVDPP_CONTROL.abort, 1);
    const pending = this.pending;
    this.pending = null;
    pending?.reject(this.failure);
  }

  /** One epoch; resolves to the RMSE of the errors met, each before its update. */
  async step(): Promise<number> {
    if (this.disposed) throw new Error('svdpp: step() after dispose()');
    if (this.failure) throw this.failure;
    if (this.pending) throw new Error('svdpp: step() while another epoch runs');
    const l = this.layout;
    new Uint32Array(this.buffer, l.order, l.nUsers).set(this.shuffler.shuffle());
    const o = this.options;
    const p: SvdppEpochParameters = { mu: Math.fround(this.mu), lr: o.lr, reg: o.reg, lrBias: o.lrBias, regBias: o.regBias };
    let sse = 0;
    if (this.threads.length === 0) {
      for (let from = 0; from < l.nUsers; from += USERS_PER_CALL) sse += runUsers(this.kernel, l, from, Math.min(l.nUsers, from + USERS_PER_CALL), 0, p);
    } else {
      Atomics.store(this.control, SVDPP_CONTROL.cursor, 0);
      const done = new Promise<void>((resolve, reject) => {
        this.pending = { remaining: this.threads.length, resolve, reject };
      });
      const request: SvdppWorkerRequest = { type: 'epoch', parameters: p };
      for (const worker of this.threads) worker.postMessage(request);
      await done;
      for (let t = 0; t < this.threads.length; t++) sse += this.sse[t];
    }
    return Math.sqrt(sse / l.nRatings);
  }

  /** Copies of the parameters, rows unpadded; the user factors are the effective p_u + |N(u)|^-½ Σ y_j. */
  state(): SvdppState {
    if (this.disposed) throw new Error('svdpp: state() after dispose()');
    const l = this.layout;
    const k = l.factors;
    const f32 = new Float32Array(this.buffer);
    const unpad = (offset: number, rows: number): Float32Array => {
      const out = new Float32Array(rows * k);
      const base = offset >>> 2;
      for (let r = 0; r < rows; r++) out.set(f32.subarray(base + r * l.kp, base + r * l.kp + k), r * k);
      return out;
    };
    const rawUserFactors = unpad(l.P, l.nUsers);
    const implicitFactors = unpad(l.Y, l.nMovies);
    return {
      globalMean: this.mu,
      userBias: Float64Array.from(f32.subarray(l.userBias >>> 2, (l.userBias >>> 2) + l.nUsers)),
      movieBias: Float64Array.from(f32.subarray(l.movieBias >>> 2, (l.movieBias >>> 2) + l.nMovies)),
      userFactors: effectiveUserFactors(this.train, rawUserFactors, implicitFactors, k),
      movieFactors: unpad(l.Q, l.nMovies),
      k,
      rawUserFactors,
      implicitFactors,
    };
  }

  /** Terminates the workers; no step afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, SVDPP_CONTROL.abort, 1);
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((worker) => worker.terminate()));
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new Error('svdpp: disposed during an epoch'));
  }
}

/** p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j for every user. */
export function effectiveUserFactors(train: RatingMatrix, P: Float32Array, Y: Float32Array, k: number): Float32Array {
  const out = Float32Array.from(P);
  const sum = new Float64Array(k);
  for (let u = 0; u < train.nUsers; u++) {
    const start = train.userPtr[u];
    const end = train.userPtr[u + 1];
    if (end === start) continue;
    sum.fill(0);
    for (let p = start; p < end; p++) {
      const y = train.userMovies[p] * k;
      for (let f = 0; f < k; f++) sum[f] += Y[y + f];
    }
    const norm = 1 / Math.sqrt(end - start);
    for (let f = 0; f < k; f++) out[u * k + f] += norm * sum[f];
  }
  return out;
}
