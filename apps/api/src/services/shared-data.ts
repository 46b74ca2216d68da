import { shareArray, shareMatrixArrays } from '@recsys/core';
import { LoadedDataset, matrixArraysOf, RatingMatrix } from '@recsys/data';

/**
 * The data set with its rating matrix moved into SharedArrayBuffers (one copy of each array, the
 * dates included), so that every worker of the server (training runs, the similarity pool) reads
 * the same memory instead of a copy per run or per pool (10 B/rating each at 100M). The arrays the
 * loader returned (a snapshot's are views of its whole file) are dropped afterwards; arrays that
 * already are whole SharedArrayBuffers are kept as they are. Runs once at startup, before ready.
 */
export function shareDataset(dataset: LoadedDataset): LoadedDataset {
  const m = dataset.matrix;
  const matrix = RatingMatrix.fromArrays(shareMatrixArrays(matrixArraysOf(m)), m.userDays === null ? null : shareArray(m.userDays));
  return { ...dataset, matrix };
}

/**
 * `a` as a typed array of this realm over the same memory (no copy): arrays posted by a worker
 * are built in the receiving isolate's main realm, which is not the realm of code run in a vm
 * context (jest), where `instanceof Float64Array` would then be false.
 */
export function localArray<T extends ArrayBufferView>(a: T): T {
  const ctor = (globalThis as unknown as Record<string, new (buffer: ArrayBufferLike, offset: number, length: number) => T>)[a.constructor.name];
  if (!ctor || a instanceof ctor) return a;
  return new ctor(a.buffer, a.byteOffset, (a as unknown as { length: number }).length);
}

/** Every typed array among `o`'s own values as a {@link localArray}; other values unchanged. */
export function localArrays<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(o)) out[key] = ArrayBuffer.isView(value) ? localArray(value) : value;
  return out as T;
}
