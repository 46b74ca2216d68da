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
  readonly bytes: number;
}

/**
 * Floats from one movie's bias to the next (64 bytes: one cache line each). Packed biases put 16
 * movies on a line, which every rating writes: two threads then take turns owning the lines of the
 * popular movies' biases even when they rate different movies (false sharing).
 */
export const MOVIE_BIAS_STRIDE = 16;

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
  return kernel.svdppUsers(l.order, from, to, l.userPtr, l.ratings, l.P, l.Q, l.Y, l.userBias, l.movieBias, l.norm, l.shrink, z, z + 4 * l.kp, l.kp, p.mu, p.lr, p.reg, p.lrBias, p.regBias);
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
  /** Σ e² per thread (shared). */
  readonly sse: Float64Array;
  /** This worker's index (its scratch rows and its sse slot). */
  readonly thread: number;
}

export type SvdppWorkerRequest = { type: 'epoch'; parameters: SvdppEpochParameters };
export type SvdppWorkerMessage = { type: 'ready' } | { type: 'done' } | { type: 'aborted' };
