// Handing the rating arrays to worker threads without copying them per thread: the main thread
// puts them in SharedArrayBuffers once, each worker wraps views around the same memory.
// Internal to the lib (not exported from index.ts).
import type { RatingArrays } from './rating-arrays';

/** The array's buffer when the array already spans a whole SharedArrayBuffer, else a copy into a new one. */
export function sharedBufferOf(a: Uint32Array | Int32Array | Uint8Array | Float64Array): SharedArrayBuffer {
  if (a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a.buffer;
  const buffer = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return buffer;
}

/** RatingArrays as SharedArrayBuffers, to post to worker threads. */
export interface SharedRatingArrays {
  nUsers: number;
  nMovies: number;
  userPtr: SharedArrayBuffer;
  userMovies: SharedArrayBuffer;
  userRatings: SharedArrayBuffer;
  moviePtr: SharedArrayBuffer;
  movieUsers: SharedArrayBuffer;
  movieRatings: SharedArrayBuffer;
}

/** The matrix arrays in shared memory (copied once unless they already are shared). */
export function shareRatingArrays(matrix: RatingArrays): SharedRatingArrays {
  return {
    nUsers: matrix.nUsers,
    nMovies: matrix.nMovies,
    userPtr: sharedBufferOf(matrix.userPtr),
    userMovies: sharedBufferOf(matrix.userMovies),
    userRatings: sharedBufferOf(matrix.userRatings),
    moviePtr: sharedBufferOf(matrix.moviePtr),
    movieUsers: sharedBufferOf(matrix.movieUsers),
    movieRatings: sharedBufferOf(matrix.movieRatings),
  };
}

/** Typed-array views over shared rating arrays (in a worker, or on the main thread after sharing). */
export function ratingArraysOf(shared: SharedRatingArrays): RatingArrays {
  return {
    nUsers: shared.nUsers,
    nMovies: shared.nMovies,
    userPtr: new Uint32Array(shared.userPtr),
    userMovies: new Int32Array(shared.userMovies),
    userRatings: new Uint8Array(shared.userRatings),
    moviePtr: new Uint32Array(shared.moviePtr),
    movieUsers: new Int32Array(shared.movieUsers),
    movieRatings: new Uint8Array(shared.movieRatings),
  };
}
