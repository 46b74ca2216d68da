import { Random, shareArray } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';
import { availableParallelism } from 'node:os';
import { ALS_BLOCK_BYTES, ALS_BLOCK_CHUNK_ROWS, ALS_CG_PRECONDITIONER, ALS_CG_STEPS, AlsPreconditioner, alsBlockRows, alsChunks, AlsRowKernel, AlsRowParams, AlsRowSolver, alsRowSolverFor } from './passes';
import { runChunks } from './chunks';
import { ALS_CONTROL, AlsLayout, AlsRatings, AlsShared, alsSharedViews, AlsWorkerInput, AlsWorkerRequest } from './protocol';
import { ChunkWorkerPool } from './pool';
import { ALS_WASM_PATH, alsScratchBytes, alsWasmModule, wasmAlsPasses } from './wasm';
import { wasmApi } from '../../wasm';
import type { FactorState, FactorTrainer } from '../factor-trainer';
import { Backend, logBackend, resolveBackend } from '../../backend';
import { memoryPlan } from '../sgd/layout';

export interface AlsTrainerOptions {
  /** k ≥ 0. */
  factors: number;
  /** λ of the factors (sum form). */
  reg: number;
  /** λ_b of the biases (sum form). */
  regBias: number;
  /** λ_b of the movie biases when it differs from the users' (baseline: Surprise's reg_i); default `regBias`. */
  regMovieBias?: number;
  /**
   * Which side each iteration solves first: `users-first` (default) or `movies-first` (as
   * Surprise's ALS baselines). The training RMSE is taken after the second half step.
   */
  order?: 'users-first' | 'movies-first';
  /** Initial factors, nUsers × k and nMovies × k row-major (copied); biases start at 0. Give these or `randomFactors`. */
  userFactors?: Float32Array;
  movieFactors?: Float32Array;
  /**
   * Draw the initial factors straight into the trainer's memory instead of copying given ones:
   * the values of `initialFactors(nUsers, nMovies, k, seed, std, mean)` (mean + std · N(0, 1)
   * from `Random(seed)`, P row by row, then Q), without the separate copy of 4·k bytes per user
   * and movie that would otherwise stay resident until a garbage collection. `mean` default 0.
   */
  randomFactors?: { seed: number; std: number; mean?: number };
  /** Threads solving rows: the calling thread plus threads − 1 workers. Default `os.availableParallelism()`. */
  threads?: number;
  /** Row solver; default {@link alsRowSolverFor}: CG with the WebAssembly kernel, else Cholesky up to 16 factors and CG above. */
  solver?: AlsRowSolver;
  /** CG steps per row (cg only); default {@link ALS_CG_STEPS} = 2. */
  cgSteps?: number;
  /** Preconditioner of the CG steps (cg only); default {@link ALS_CG_PRECONDITIONER} (`none`). */
  preconditioner?: AlsPreconditioner;
  /**
   * Where the cg passes run: `wasm`, the AssemblyScript SIMD kernel (libs/models/wasm/als.wasm);
   * `js`, plain TypeScript; `auto` (default) `wasm` when the kernel is built, else `js`. `wasm`
   * without the built kernel is an error naming the file and the command that builds it, and so
   * is `wasm` with nothing for the kernel to do (the cholesky solver, or k = 0). The choice is
   * logged once per process when k ≥ 1 ({@link setBackendLogger}).
   */
  backend?: Backend;
  /** Ratings per chunk of rows that a thread takes at a time ({@link alsChunks}); default 16384. */
  chunkRatings?: number;
  /**
   * The cg solver (k ≥ 1) solves the movies' half step blocked (see {@link AlsRowKernel}),
   * reading the user factors in blocks of about this many bytes; default {@link ALS_BLOCK_BYTES}
   * (1 MiB); 0 solves the movies row by row like the users.
   */
  blockBytes?: number;
  /** Ratings per chunk of movies of the blocked half step (at most {@link ALS_BLOCK_CHUNK_ROWS} movies each); default {@link alsBlockChunkRatings}. */
  blockChunkRatings?: number;
}

const PAGE = 65536;

/**
 * The default ratings per chunk of the blocked movies half step: nRatings / (6·threads), within
 * [2²¹, 2²³]. Each pass over a chunk streams the whole fixed (user) factor matrix block by block,
 * so larger chunks read it fewer times per half step; six chunks per thread or more keep the
 * threads' shares even (they take chunks from a shared counter). Measured on the 100M
 * Prize-shaped snapshot, 100 factors, 2 threads, ALS_BLOCK_BYTES blocks, movies half steps after
 * the first: 2²¹ (the former fixed default) 4.9–5.4 s (five runs), 2²³ 3.5–4.0 s (five runs), the
 * same training RMSE to 5 decimals. Up to 25M ratings (2 threads) the chunk stays 2²¹, as before.
 * The cost: each thread's scratch area holds a chunk's slice of the rating arrays (5 bytes a
 * rating: 40 MiB a thread at 2²³).
 */
export function alsBlockChunkRatings(nRatings: number, threads: number): number {
  return Math.min(1 << 23, Math.max(1 << 21, Math.ceil(nRatings / (6 * Math.max(1, threads)))));
}

/** Bytes of a cache line: the threads' scratch areas and the control words start on one. */
const CACHE_LINE = 64;

/** Most ratings and most rows of any chunk given by its boundaries over `ptr`. */
export function chunkExtent(ptr: Uint32Array, bounds: Uint32Array): { ratings: number; rows: number } {
  let ratings = 0;
  let rows = 0;
  for (let c = 0; c + 1 < bounds.length; c++) {
    ratings = Math.max(ratings, ptr[bounds[c + 1]] - ptr[bounds[c]]);
    rows = Math.max(rows, bounds[c + 1] - bounds[c]);
  }
  return { ratings, rows };
}

/**
 * Offsets of every array for `train`, k factors, `threads` scratch areas and the chunk
 * boundaries `userChunks`, `movieChunks` (each scratch area holds the largest chunk's slice of
 * the rating arrays). The rating arrays themselves get no space: the trainer reads the matrix's.
 */
export function alsLayout(train: RatingMatrix, factors: number, threads: number, userChunks: Uint32Array, movieChunks: Uint32Array): AlsLayout {
  const kp = Math.max(4, Math.ceil(factors / 4) * 4);
  const plan = memoryPlan();
  const take = plan.take;
  const users = chunkExtent(train.userPtr, userChunks);
  const movies = chunkExtent(train.moviePtr, movieChunks);
  const maxChunkRatings = Math.max(users.ratings, movies.ratings);
  const maxChunkRows = Math.max(users.rows, movies.rows);
  // Each thread's scratch area on cache lines of its own (a whole number of lines from a line's start).
  const scratchBytes = Math.ceil(alsScratchBytes(kp, maxChunkRatings, maxChunkRows) / CACHE_LINE) * CACHE_LINE;
  const nUserChunks = userChunks.length - 1;
  const nMovieChunks = movieChunks.length - 1;
  return {
    nUsers: train.nUsers,
    nMovies: train.nMovies,
    nRatings: train.nRatings,
    factors,
    kp,
    threads,
    nUserChunks,
    nMovieChunks,
    maxChunkRatings,
    maxChunkRows,
    P: take(train.nUsers * kp * 4),
    Q: take(train.nMovies * kp * 4),
    userBias: take(train.nUsers * 8),
    movieBias: take(train.nMovies * 8),
    userChunks: take((nUserChunks + 1) * 4),
    movieChunks: take((nMovieChunks + 1) * 4),
    chunkSse: take(Math.max(nUserChunks, nMovieChunks) * 8),
    control: take(ALS_CONTROL.length * 4, CACHE_LINE),
    scratch: take(threads * scratchBytes, CACHE_LINE),
    scratchBytes,
    bytes: plan.end(),
  };
}

/** A copy of `rows` rows of kp floats as rows of k floats. */
export function unpadRows(from: Float32Array, rows: number, k: number, kp: number): Float32Array {
  if (kp === k) return from.slice();
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) out.set(from.subarray(r * kp, r * kp + k), r * k);
  return out;
}

/** `a` itself when it lives in shared memory (a worker then reads it in place), else a copy of it in a SharedArrayBuffer. */
function sharedView<T extends Uint32Array | Int32Array | Uint8Array>(a: T): T {
  return a.buffer instanceof SharedArrayBuffer ? a : shareArray(a);
}

/**
 * The matrix's rating arrays for the trainer's threads: as they are for one thread; for worker
 * threads each array in shared memory, copied (its 4 or 1 bytes per rating) only when it is not
 * there already (a snapshot read by `readSnapshot` is).
 */
export function ratingArrays(train: RatingMatrix, threads: number): AlsRatings {
  const { userPtr, userMovies, userRatings, moviePtr, movieUsers, movieRatings } = train;
  const arrays = { userPtr, userMovies, userRatings, moviePtr, movieUsers, movieRatings };
  if (threads === 1) return arrays;
  return {
    userPtr: sharedView(userPtr),
    userMovies: sharedView(userMovies),
    userRatings: sharedView(userRatings),
    moviePtr: sharedView(moviePtr),
    movieUsers: sharedView(movieUsers),
    movieRatings: sharedView(movieRatings),
  };
}

/** Copies rows of k floats into rows of kp floats. */
export function padRows(from: Float32Array, to: Float32Array, rows: number, k: number, kp: number): void {
  for (let r = 0; r < rows; r++) to.set(from.subarray(r * k, r * k + k), r * kp);
}

/** Fills the first k floats of each of `rows` rows of kp floats with mean + std · N(0, 1) draws, in row-major order. */
export function drawRows(random: Random, to: Float32Array, rows: number, k: number, kp: number, mean: number, std: number): void {
  for (let r = 0; r < rows; r++) {
    const row = r * kp;
    for (let f = 0; f < k; f++) to[row + f] = mean + std * random.normal();
  }
}

/**
 * Sets up ALS on `train`: the initial factors (rows padded to kp = 4⌈k/4⌉) and zero biases go
 * into one buffer: the shared WebAssembly memory when the SIMD kernel runs, else a
 * SharedArrayBuffer (threads > 1) or, for one plain-TypeScript thread, an ArrayBuffer. The
 * rating arrays are read in place, never copied into the trainer (worker threads share them
 * when they live in SharedArrayBuffers, see {@link ratingArrays}); the SIMD kernel gets each
 * chunk's slice of them in its thread's scratch area (5 bytes per rating of the chunk). k = 0 fits the biases alone, each row in closed form (see {@link AlsRowKernel}). Rows are cut
 * into fixed chunks of about 16k ratings ({@link alsChunks}) that the threads take from a shared
 * counter. Every row's result depends only on the other side's values and its own previous ones,
 * and the RMSE sums per chunk in chunk order, so results are bit-identical for any thread count.
 */
export async function createAlsTrainer(train: RatingMatrix, options: AlsTrainerOptions): Promise<AlsTrainer> {
  const k = options.factors;
  const threads = options.threads ?? availableParallelism();
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`createAlsTrainer: factors must be an integer ≥ 0, got ${k}`);
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`createAlsTrainer: threads must be an integer ≥ 1, got ${threads}`);
  const given = options.userFactors !== undefined || options.movieFactors !== undefined;
  if (given === (options.randomFactors !== undefined)) {
    throw new RangeError('createAlsTrainer: give either userFactors and movieFactors or randomFactors');
  }
  if (given) {
    const userLength = options.userFactors?.length;
    const movieLength = options.movieFactors?.length;
    if (userLength !== train.nUsers * k || movieLength !== train.nMovies * k) {
      throw new RangeError(
        `createAlsTrainer: initial factors have ${userLength ?? 'no'} and ${movieLength ?? 'no'} values, expected ${train.nUsers} × ${k} and ${train.nMovies} × ${k}`,
      );
    }
  }
  const requested = options.backend ?? 'auto';
  const backend = resolveBackend('ALS', requested, ALS_WASM_PATH);
  const wasmWanted = backend.wasm;
  const blockBytes = options.blockBytes ?? ALS_BLOCK_BYTES;
  if (!(Number.isInteger(blockBytes) && blockBytes >= 0)) throw new RangeError(`createAlsTrainer: blockBytes must be an integer ≥ 0, got ${blockBytes}`);
  const solver = options.solver ?? alsRowSolverFor(k, wasmWanted);
  const blocked = solver === 'cg' && k > 0 && blockBytes > 0;
  const params: AlsRowParams = {
    factors: k,
    mu: train.globalMean(),
    reg: options.reg,
    regBias: options.regBias,
    regMovieBias: options.regMovieBias,
    solver,
    cgSteps: options.cgSteps ?? ALS_CG_STEPS,
    preconditioner: options.preconditioner ?? ALS_CG_PRECONDITIONER,
    movieBlockRows: blocked ? alsBlockRows(Math.max(4, Math.ceil(k / 4) * 4), blockBytes) : 0,
  };
  // The SIMD passes serve only the cg solver (Cholesky forms the matrix in TypeScript) with k ≥ 1.
  const useWasm = params.solver === 'cg' && k > 0 && wasmWanted;
  if (requested === 'wasm' && !useWasm) {
    throw new RangeError(`createAlsTrainer: backend 'wasm' needs the cg row solver and factors ≥ 1 (got ${params.solver}, ${k} factors); use 'auto' or 'js'`);
  }
  if (k > 0) {
    const reason = wasmWanted && !useWasm ? `the ${params.solver} row solver runs in TypeScript` : backend.reason;
    logBackend(`models: ALS passes in ${useWasm ? 'WebAssembly' : 'TypeScript'} (${reason})`);
  }
  const chunkRatings = options.chunkRatings ?? 1 << 14;
  if (!(Number.isInteger(chunkRatings) && chunkRatings >= 1)) throw new RangeError(`createAlsTrainer: chunkRatings must be an integer ≥ 1, got ${chunkRatings}`);
  const userChunks = alsChunks(train.userPtr, train.nUsers, chunkRatings);
  const blockChunkRatings = options.blockChunkRatings ?? alsBlockChunkRatings(train.nRatings, threads);
  if (!(Number.isInteger(blockChunkRatings) && blockChunkRatings >= 1)) {
    throw new RangeError(`createAlsTrainer: blockChunkRatings must be an integer ≥ 1, got ${blockChunkRatings}`);
  }
  const movieChunks = blocked ? alsChunks(train.moviePtr, train.nMovies, blockChunkRatings, ALS_BLOCK_CHUNK_ROWS) : alsChunks(train.moviePtr, train.nMovies, chunkRatings);
  const layout = alsLayout(train, k, threads, userChunks, movieChunks);
  const pages = Math.ceil(layout.bytes / PAGE);
  if (useWasm && pages > 65536) throw new RangeError(`createAlsTrainer: ${layout.bytes} bytes of ratings and factors exceed WebAssembly's 4 GiB`);
  const memory = useWasm ? new wasmApi.Memory({ initial: pages, maximum: pages, shared: true }) : null;
  const buffer = memory ? memory.buffer : threads > 1 ? new SharedArrayBuffer(layout.bytes) : new ArrayBuffer(layout.bytes);
  const ratings = ratingArrays(train, threads);
  const shared = alsSharedViews(buffer, layout, ratings);
  const { users, movies } = shared.views;
  if (options.randomFactors) {
    const { seed, std, mean = 0 } = options.randomFactors;
    const random = new Random(seed);
    drawRows(random, users.factors, train.nUsers, k, layout.kp, mean, std);
    drawRows(random, movies.factors, train.nMovies, k, layout.kp, mean, std);
  } else {
    padRows(options.userFactors!, users.factors, train.nUsers, k, layout.kp);
    padRows(options.movieFactors!, movies.factors, train.nMovies, k, layout.kp);
  }
  shared.userChunks.set(userChunks);
  shared.movieChunks.set(movieChunks);
  const module = memory ? alsWasmModule() : null;
  const passes = memory ? wasmAlsPasses(memory, module!, layout, params.mu, layout.scratch) : undefined;
  const kernel = new AlsRowKernel(params, shared.views, passes);
  const trainer = new AlsTrainer(layout, shared, kernel, memory !== null, options.order === 'movies-first');
  if (threads > 1) {
    const base = { params, layout, ratings, memory, module, buffer: memory ? null : (buffer as SharedArrayBuffer) };
    await trainer.startWorkers(threads - 1, (thread) => ({ ...base, thread }));
  }
  return trainer;
}

/**
 * Alternating least squares for r̂ = μ + b_u + b_i + p_u·q_i (μ fixed at the training mean): each
 * {@link step} solves every user's [p_u; b_u] with Q, b_i fixed, then every movie's [q_i; b_i]
 * with P, b_u fixed (or movies first), as {@link AlsRowKernel} describes. Built by {@link createAlsTrainer}.
 */
export class AlsTrainer implements FactorTrainer {
  readonly solver: AlsRowSolver;
  readonly converged = false;
  private readonly pool: ChunkWorkerPool<AlsWorkerRequest>;
  private disposed = false;

  constructor(
    private readonly layout: AlsLayout,
    private readonly shared: AlsShared,
    private readonly kernel: AlsRowKernel,
    /** Whether the WebAssembly SIMD passes run (cg solver with libs/models/wasm/als.wasm built). */
    readonly wasm: boolean,
    private readonly moviesFirst: boolean,
  ) {
    this.solver = kernel.params.solver;
    this.pool = new ChunkWorkerPool('AlsTrainer', shared.control);
  }

  /** Bytes of the buffer holding the factors, biases and the threads' scratch areas. */
  get memoryBytes(): number {
    return this.layout.bytes;
  }

  /** Copies of the factors (unpadded) and biases; readable after dispose too. */
  state(): FactorState {
    const { nUsers, nMovies, factors: k, kp } = this.layout;
    const { users, movies } = this.shared.views;
    return {
      globalMean: this.kernel.params.mu,
      userBias: users.bias.slice(),
      movieBias: movies.bias.slice(),
      userFactors: unpadRows(users.factors, nUsers, k, kp),
      movieFactors: unpadRows(movies.factors, nMovies, k, kp),
      k,
    };
  }

  /** Worker threads started (threads − 1). */
  get workers(): number {
    return this.pool.size;
  }

  async startWorkers(count: number, input: (thread: number) => AlsWorkerInput): Promise<void> {
    await this.pool.start(__dirname, 'worker', count, input);
  }

  /** One half step over all chunks: the workers and this thread take chunks until none is left. */
  private async half(byUser: boolean, withSse: boolean): Promise<void> {
    Atomics.store(this.shared.control, ALS_CONTROL.cursor, 0);
    await this.pool.run({ type: 'half', byUser, withSse }, () => runChunks(this.kernel, this.shared, byUser, withSse));
  }

  /** One half step per side; resolves to the training RMSE after it (unclipped). */
  async step(): Promise<number> {
    if (this.disposed) throw new Error('AlsTrainer: step() after dispose()');
    const usersFirst = !this.moviesFirst;
    await this.half(usersFirst, false);
    await this.half(!usersFirst, true);
    // Σ e² per chunk of the second half step, summed in chunk order (the same for any thread count).
    const sse = this.shared.chunkSse;
    const chunks = usersFirst ? this.layout.nMovieChunks : this.layout.nUserChunks;
    let sum = 0;
    for (let c = 0; c < chunks; c++) sum += sse[c];
    return Math.sqrt(sum / this.layout.nRatings);
  }

  /** Terminates the workers; the state stays readable. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.pool.dispose();
  }
}
