// Shared by the SVD++ trainer and its worker threads (relative imports only, so the worker also
// runs from TypeScript sources under jest).
import type { SvdppKernel } from './kernel';
import type { WasmMemory, WasmModule } from '../../wasm';

/** Byte offsets of everything the SVD++ kernel reads and writes in the one linear memory (16-byte aligned). */
export interface SvdppLayout {
  readonly nUsers: number;
  readonly nMovies: number;
  readonly nRatings: number;
  readonly factors: number;
  /** Floats per factor row: factors rounded up to a multiple of 4 (padding lanes zero). */
  readonly kp: number;
  readonly P: number;
  readonly Q: number;
  readonly Y: number;
  readonly userBias: number;
  readonly movieBias: number;
  /** f32 per user: |N(u)|^-½ (0 for a user without ratings). */
  readonly norm: number;
  /** f32 per user: (1 − lr·reg)^|N(u)|. */
  readonly shrink: number;
  /** u32 × (nUsers + 1): user u's ratings are `ratings[userPtr[u] .. userPtr[u+1])`. */
  readonly userPtr: number;
  /** u32 per rating: `(movie << 8) | (stars × 2)`, by user, movies ascending. */
  readonly ratings: number;
  /** u32 per user: this epoch's order of the users. */
  readonly order: number;
  /**
   * Per thread, two scratch rows (z and g) of kp floats, thread t's from `scratch + t·scratchBytes`,
   * each thread's on cache lines of its own: the kernel writes g at every rating and reads z, so a
   * line shared by two threads' rows would move between the cores at every rating.
   */
  readonly scratch: number;
  readonly scratchBytes: number;
  /** With worker threads, thread t's {@link WorkingCopies} from `working + t·workingBytes`; 0 without. */
  readonly working: number;
  readonly workingBytes: number;
  /** Users a worker claims at a time, one run on its working copies ({@link runUsersOnCopies}). */
  readonly usersPerRun: number;
  readonly bytes: number;
}

/**
 * A worker thread's copies of the movie parameters (byte offsets; rows indexed as the shared Q, Y
 * and movie biases): the working copies its runs update, the base copies they start from, and the
 * scale of each y_j over the run (see pushMovies in assembly/svdpp.ts).
 */
export interface WorkingCopies {
  readonly Q: number;
  readonly Y: number;
  readonly bias: number;
  readonly baseQ: number;
  readonly baseY: number;
  readonly baseBias: number;
  readonly yScale: number;
}

const line = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Bytes of one thread's {@link WorkingCopies}, each array from a cache line's start. */
export function workingBytes(nMovies: number, kp: number): number {
  return 4 * line(nMovies * kp * 4) + 3 * line(nMovies * 4);
}

/** Thread `thread`'s working copies in layout `l` (which has them when it has workers). */
export function workingCopies(l: SvdppLayout, thread: number): WorkingCopies {
  const rows = line(l.nMovies * l.kp * 4);
  const column = line(l.nMovies * 4);
  const Q = l.working + thread * l.workingBytes;
  const bias = Q + 4 * rows;
  return { Q, Y: Q + rows, baseQ: Q + 2 * rows, baseY: Q + 3 * rows, bias, baseBias: bias + column, yScale: bias + 2 * column };
}

/** The f32 hyper-parameters of an epoch. */
export interface SvdppEpochParameters {
  readonly mu: number;
  readonly lr: number;
  readonly reg: number;
  readonly lrBias: number;
  readonly regBias: number;
}

/** Users per kernel call (and per claim of a worker): V8 switches to the optimised code at the next call. */
export const USERS_PER_CALL = 2048;

/** Runs the kernel over `order[from .. to)` with thread `thread`'s scratch rows. */
export function runUsers(kernel: SvdppKernel, l: SvdppLayout, from: number, to: number, thread: number, p: SvdppEpochParameters): number {
  const z = l.scratch + thread * l.scratchBytes;
  return kernel.svdppUsers(l.order, from, to, l.userPtr, l.ratings, l.P, l.Q, l.Y, l.userBias, l.movieBias, l.norm, l.shrink, z, z + 4 * l.kp, 0, l.kp, p.mu, p.lr, p.reg, p.lrBias, p.regBias);
}

/**
 * The kernel over `order[from .. to)` on thread `thread`'s working copies (several threads):
 * copy the shared Q, Y and movie biases into the working and base copies, train, then apply the
 * run's changes to the shared arrays under `lock` (pushMovies). A thread writes only its own copies
 * while it trains, so the threads do not pass cache lines back and forth at every rating as they
 * do writing one Q, Y and bias in place (Hogwild); each sees the other's work one run late.
 */
export function runUsersOnCopies(kernel: SvdppKernel, f32: Float32Array, l: SvdppLayout, from: number, to: number, thread: number, lock: Int32Array, p: SvdppEpochParameters): number {
  const w = workingCopies(l, thread);
  const rowFloats = l.nMovies * l.kp;
  const copy = (to: number, from: number, floats: number): void => void f32.copyWithin(to >>> 2, from >>> 2, (from >>> 2) + floats);
  copy(w.Q, l.Q, rowFloats);
  copy(w.baseQ, l.Q, rowFloats);
  copy(w.Y, l.Y, rowFloats);
  copy(w.baseY, l.Y, rowFloats);
  copy(w.bias, l.movieBias, l.nMovies);
  copy(w.baseBias, l.movieBias, l.nMovies);
  f32.fill(1, w.yScale >>> 2, (w.yScale >>> 2) + l.nMovies);
  const z = l.scratch + thread * l.scratchBytes;
  const sse = kernel.svdppUsers(l.order, from, to, l.userPtr, l.ratings, l.P, w.Q, w.Y, l.userBias, w.bias, l.norm, l.shrink, z, z + 4 * l.kp, w.yScale, l.kp, p.mu, p.lr, p.reg, p.lrBias, p.regBias);
  // One push at a time: two at once could each read a row before the other wrote it.
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0);
  try {
    kernel.pushMovies(l.nMovies, l.Q, l.Y, l.movieBias, w.Q, w.Y, w.bias, w.baseQ, w.baseY, w.baseBias, w.yScale, l.kp);
  } finally {
    Atomics.store(lock, 0, 0);
  }
  return sse;
}

/**
 * Users per run of a worker: enough for about 32 ratings per movie (copying the movie arrays in and
 * out then costs about a tenth of the run), at most 1/64 of the users per thread (how late a
 * thread sees the others' updates: 2,731 users of 480,189 at the Netflix Prize's size with 2
 * threads), at least 64. At 1/16 (10M Prize-layout ratings, 15,006 users a run) the held-out
 * RMSE after the default 20 epochs was 0.8248 against 0.8230 on one thread; at 1/64 0.8235.
 */
export function usersPerRun(nUsers: number, nMovies: number, nRatings: number, threads: number): number {
  const forRatings = Math.ceil((32 * nMovies * nUsers) / Math.max(1, nRatings));
  return Math.max(64, Math.min(forRatings, Math.ceil(nUsers / (64 * threads))));
}

/** Indices into the control Int32Array shared with the workers. */
export const SVDPP_CONTROL = Object.freeze({
  /** Next position of the order to claim. */
  cursor: 0,
  /** Non-zero: stop. */
  abort: 1,
});

export interface SvdppWorkerInput {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly layout: SvdppLayout;
  readonly control: Int32Array;
  /** The lock of the pushes to the shared arrays (one int, 0 free). */
  readonly lock: Int32Array;
  /** Σ e² per thread (shared). */
  readonly sse: Float64Array;
  /** This worker's index (its scratch rows and its sse slot). */
  readonly thread: number;
}

export type SvdppWorkerRequest = { type: 'epoch'; parameters: SvdppEpochParameters };
export type SvdppWorkerMessage = { type: 'ready' } | { type: 'done' } | { type: 'aborted' };
