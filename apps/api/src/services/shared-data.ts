import { MatrixArrays, matrixArraysInOneBuffer, SectionArray, shareArray } from '@recsys/core';
import { LoadedDataset, matrixArraysOf, RatingMatrix } from '@recsys/data';

/** `a` itself when it is a view of shared memory (any part of a SharedArrayBuffer), else a copy in one of its exact size. */
export function inSharedMemory<T extends SectionArray>(a: T): T {
  return a.buffer instanceof SharedArrayBuffer ? a : shareArray(a);
}

/**
 * The data set with its rating matrix in shared memory, so that every worker of the server
 * (training runs, the similarity pool) reads the same memory instead of a copy per run or per
 * pool (10 B/rating each at 100M). A snapshot is read into shared memory already (readContainer):
 * its arrays are kept as they are; others are copied once (the dates too) and the loader's
 * arrays dropped. Runs once at startup, before ready.
 */
export function shareDataset(dataset: LoadedDataset): LoadedDataset {
  const m = dataset.matrix;
  return { ...dataset, matrix: RatingMatrix.fromArrays(sharedMatrixArrays(matrixArraysOf(m)), m.userDays === null ? null : inSharedMemory(m.userDays)) };
}

/**
 * The arrays (ids included) in shared memory: posted to a worker, they are shared, not copied.
 * Arrays not shared yet are copied into one WebAssembly memory (matrixArraysInOneBuffer), where
 * the similarity pool's kernels read them in place too; shared ones (a snapshot's) are kept.
 */
export function sharedMatrixArrays(a: MatrixArrays): MatrixArrays {
  return matrixArraysInOneBuffer(a);
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
