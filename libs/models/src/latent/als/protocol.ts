// The ALS trainer's memory layout and its messages with worker threads (als-trainer.ts, als-worker.ts).
import type { AlsRowParams, AlsSide, AlsViews } from './passes';

/** Indices into the shared Int32Array `control`. */
export const ALS_CONTROL = {
  /** Next chunk to take in the current half step. */
  cursor: 0,
  /** Set to 1 to make every thread stop taking chunks (a failure elsewhere). */
  abort: 1,
  length: 4,
} as const;

/**
 * Byte offsets (16-byte aligned) of everything ALS writes, in one buffer (the shared WebAssembly
 * memory, a SharedArrayBuffer, or for one plain-TypeScript thread an ArrayBuffer): the factors
 * (rows of kp f32) and biases (f64), the chunk boundaries (u32), Σ e² per chunk of the second
 * half step (f64), the control words (i32) and one scratch area per thread for the WebAssembly
 * passes (which also receives each chunk's slice of the rating arrays). The rating arrays are
 * not in it: every thread reads the matrix's own ({@link AlsRatings}).
 */
export interface AlsLayout {
  readonly nUsers: number;
  readonly nMovies: number;
  readonly nRatings: number;
  readonly factors: number;
  readonly kp: number;
  readonly threads: number;
  readonly nUserChunks: number;
  readonly nMovieChunks: number;
  /** Most ratings and most rows of any chunk (the scratch area holds a chunk's slice of the rating arrays). */
  readonly maxChunkRatings: number;
  readonly maxChunkRows: number;
  readonly P: number;
  readonly Q: number;
  readonly userBias: number;
  readonly movieBias: number;
  readonly userChunks: number;
  readonly movieChunks: number;
  readonly chunkSse: number;
  readonly control: number;
  readonly scratch: number;
  readonly scratchBytes: number;
  readonly bytes: number;
}

/** Typed-array views of a layout's arrays over `buffer`. */
export interface AlsShared {
  readonly views: AlsViews;
  readonly userChunks: Uint32Array;
  readonly movieChunks: Uint32Array;
  readonly chunkSse: Float64Array;
  readonly control: Int32Array;
}

/**
 * The rating arrays of both sides (a RatingMatrix has them), read in place: by worker threads
 * too, as views over SharedArrayBuffers (shared, not copied, when posted).
 */
export interface AlsRatings {
  readonly userPtr: Uint32Array;
  readonly userMovies: Int32Array;
  readonly userRatings: Uint8Array;
  readonly moviePtr: Uint32Array;
  readonly movieUsers: Int32Array;
  readonly movieRatings: Uint8Array;
}

/** Views of the layout's arrays over `buffer`, with `ratings`' own rating arrays. */
export function alsSharedViews(buffer: ArrayBuffer | SharedArrayBuffer, l: AlsLayout, ratings: AlsRatings): AlsShared {
  const users: AlsSide = { ptr: ratings.userPtr, other: ratings.userMovies, codes: ratings.userRatings, factors: new Float32Array(buffer, l.P, l.nUsers * l.kp), bias: new Float64Array(buffer, l.userBias, l.nUsers) };
  const movies: AlsSide = { ptr: ratings.moviePtr, other: ratings.movieUsers, codes: ratings.movieRatings, factors: new Float32Array(buffer, l.Q, l.nMovies * l.kp), bias: new Float64Array(buffer, l.movieBias, l.nMovies) };
  return {
    views: { kp: l.kp, users, movies },
    userChunks: new Uint32Array(buffer, l.userChunks, l.nUserChunks + 1),
    movieChunks: new Uint32Array(buffer, l.movieChunks, l.nMovieChunks + 1),
    chunkSse: new Float64Array(buffer, l.chunkSse, Math.max(l.nUserChunks, l.nMovieChunks)),
    control: new Int32Array(buffer, l.control, ALS_CONTROL.length),
  };
}

/** What a worker starts from: `memory` (WebAssembly) or `buffer` (plain kernel), the layout and the shared rating arrays. */
export interface AlsWorkerInput {
  params: AlsRowParams;
  layout: AlsLayout;
  ratings: AlsRatings;
  /** Index of the worker's scratch area (the calling thread uses 0). */
  thread: number;
  memory: { buffer: ArrayBuffer | SharedArrayBuffer } | null;
  module: unknown;
  buffer: SharedArrayBuffer | null;
}

export type AlsWorkerRequest = { type: 'half'; byUser: boolean; withSse: boolean };

