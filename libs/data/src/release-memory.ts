import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RatingMatrix } from './rating-matrix';

let collect: (() => void) | null = null;

/**
 * Run a full garbage collection now, so that large typed arrays just dropped (an import's parse
 * arrays, gigabytes at 100M ratings) are returned before the next large allocation instead of
 * whenever V8 next collects: without it the dropped and the new arrays are resident together
 * and the import's peak grows by their size. Uses `globalThis.gc` when the process runs with
 * `--expose-gc`, else exposes it once through the V8 flag (Node's documented `v8.setFlagsFromString`
 * with `vm`); a few milliseconds for a small heap. `wait: false` runs one collection only: the
 * memory of what it found dead is then freed by V8's background sweeper shortly after this
 * returns, for half the pause (the API, which must not hold its event loop long).
 */
export function releaseMemory(options: { wait?: boolean } = {}): void {
  if (collect === null) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  // Twice: V8 frees the backing stores of dead array buffers on a background thread after a
  // collection; the next collection waits for that sweep to finish, so the memory is returned
  // before this returns (measured: one collection left 40 of 40 MB resident at 10M ratings).
  collect();
  if (options.wait !== false) collect();
}

/**
 * Detach the buffers of arrays the caller owns and no longer needs (their views become empty),
 * so that their memory goes at the next collection whatever else still references the views
 * (a promise's value, a finished worker's message): moving a buffer out with `structuredClone`'s
 * transfer list takes its memory out of every view, and the moved copy is dropped here. Shared
 * and already detached buffers are left alone.
 */
export function discard(arrays: ReadonlyArray<ArrayBufferView | null>): void {
  for (const a of arrays) {
    if (a === null) continue;
    const buffer = a.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) structuredClone(buffer, { transfer: [buffer] });
  }
}

/**
 * Releases arrays of `matrix` that a caller no longer reads: with `byMovie` the by-movie arrays
 * (`movieUsers`, `movieRatings`: 5 bytes per rating), with `days` the dates (2 bytes per rating).
 * A fit that leaves ratings out by a mask (the SGD layout, the baseline's ALS over the by-user
 * arrays) reads neither: only the ids, the pointers (`userPtr`, `moviePtr`) and the by-user
 * ratings (`userMovies`, `userRatings`). Arrays in buffers of their own ({@link discard}: a
 * snapshot read with `separateArrays`, a matrix built by an import) become empty views and their
 * memory is returned before this returns; arrays in shared memory (a snapshot read as one shared
 * buffer) or sharing a buffer with others cannot be released one by one and are left as they are.
 * Returns the bytes released. The matrix must not be used afterwards for anything that reads the
 * released arrays.
 */
export function releaseArrays(matrix: RatingMatrix, which: { byMovie?: boolean; days?: boolean }): number {
  const chosen = [...(which.byMovie === true ? [matrix.movieUsers, matrix.movieRatings] : []), ...(which.days === true && matrix.userDays !== null ? [matrix.userDays] : [])];
  // Only a view over its whole buffer: a buffer shared with other arrays would take them along.
  const own = chosen.filter((a) => a.buffer instanceof ArrayBuffer && a.byteLength > 0 && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength);
  if (own.length === 0) return 0;
  const bytes = own.reduce((sum, a) => sum + a.byteLength, 0);
  discard(own);
  releaseMemory();
  return bytes;
}
