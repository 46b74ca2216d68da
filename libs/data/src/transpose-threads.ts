import { Worker } from 'node:worker_threads';
import { workerScript } from '@recsys/core';
import { transpose, transposeUsers } from './counting-sort';

/** Below this many ratings a transpose is not worth a thread. */
const PARALLEL_MIN_RATINGS = 1 << 20;

/** The rows (CSR) to transpose, the column starts, and the columns (CSC) to write. */
export interface TransposeArrays {
  readonly userPtr: Uint32Array;
  readonly userMovies: Int32Array;
  readonly userRatings: Uint8Array;
  readonly nU: number;
  readonly nM: number;
  readonly moviePtr: Uint32Array;
  readonly movieUsers: Int32Array;
  readonly movieRatings: Uint8Array;
}

/** What a transpose worker writes: the rows of users [uFrom, uTo), from column positions `next`. */
export interface TransposeJob {
  readonly userPtr: Uint32Array;
  readonly userMovies: Int32Array;
  readonly userRatings: Uint8Array;
  readonly uFrom: number;
  readonly uTo: number;
  readonly next: Uint32Array;
  readonly movieUsers: Int32Array;
  readonly movieRatings: Uint8Array;
}

/** Whether a typed array is a view of a SharedArrayBuffer (a worker can write it in place). */
export function isShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/**
 * A zeroed typed array of n elements, over a SharedArrayBuffer when `shared` (so that worker
 * threads can write it in place), else over an ordinary ArrayBuffer.
 */
export function newArray<T extends Int32Array | Uint32Array | Uint8Array | Uint16Array>(
  ctor: { new (n: number): T; new (buffer: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  n: number,
  shared: boolean,
): T {
  return shared ? new ctor(new SharedArrayBuffer(n * ctor.BYTES_PER_ELEMENT)) : new ctor(n);
}

/**
 * Bounds of `threads` ranges of users with about equal ratings each: range t is users
 * [bounds[t], bounds[t + 1]) (binary search of the row starts).
 */
export function userBounds(userPtr: Uint32Array, nU: number, threads: number): number[] {
  const nr = userPtr[nU];
  const bounds = [0];
  for (let t = 1; t < threads; t++) {
    const want = Math.floor((nr * t) / threads);
    let lo = bounds[t - 1];
    let hi = nU;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (userPtr[mid] < want) lo = mid + 1;
      else hi = mid;
    }
    bounds.push(lo);
  }
  bounds.push(nU);
  return bounds;
}

/**
 * `transpose` on `threads` threads: the users are cut into ranges of about equal ratings; one
 * pass over the rows counts each range's ratings per movie, so each range knows where its
 * ratings of each movie start (the column start plus the earlier ranges' ratings of that movie)
 * and writes them with no thread touching another's positions. The same result as `transpose`
 * (users ascending within each column). The rating arrays must be views of SharedArrayBuffers
 * (else, or with one thread or fewer than `minRatings` ratings, it runs `transpose` here); the
 * pointers are copied.
 */
export async function transposeOnThreads(a: TransposeArrays, threads: number, minRatings = PARALLEL_MIN_RATINGS): Promise<void> {
  const { userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers, movieRatings } = a;
  const nr = userMovies.length;
  const shared = [userMovies, userRatings, movieUsers, movieRatings].every(isShared);
  if (threads <= 1 || nr < minRatings || !shared) {
    transpose(userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers, movieRatings);
    return;
  }
  const bounds = userBounds(userPtr, nU, threads);
  // Where each range's ratings of each movie start.
  const starts: Uint32Array[] = [];
  const next = moviePtr.slice(0, nM);
  for (let t = 0; t < threads; t++) {
    starts.push(next.slice());
    const end = userPtr[bounds[t + 1]];
    for (let j = userPtr[bounds[t]]; j < end; j++) next[userMovies[j]]++;
  }
  const { filename, options } = workerScript(__dirname, 'transpose-worker');
  const done: Array<Promise<void>> = [];
  for (let t = 1; t < threads; t++) {
    const job: TransposeJob = { userPtr, userMovies, userRatings, uFrom: bounds[t], uTo: bounds[t + 1], next: starts[t], movieUsers, movieRatings };
    const worker = new Worker(filename, { ...options, workerData: job });
    done.push(
      new Promise<void>((resolve, reject) => {
        worker.on('message', () => resolve());
        worker.on('error', reject);
        worker.on('exit', (code) => reject(new Error(`transpose thread exited (code ${code}) before it was done`)));
      }),
    );
  }
  transposeUsers(userPtr, userMovies, userRatings, bounds[0], bounds[1], starts[0], movieUsers, movieRatings);
  await Promise.all(done);
}
