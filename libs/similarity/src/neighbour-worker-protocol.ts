import type { MatrixArrays } from '@recsys/core';
import type { Baselines } from './baselines';
import type { SimilarityMetric } from './similarity';

/** What buildNeighbourIndex hands each worker thread (all arrays over SharedArrayBuffers). */
export interface NeighbourWorkerInput {
  /** The rating matrix in shared memory (`shareMatrixArrays`). */
  matrix: MatrixArrays;
  metric: SimilarityMetric;
  minSupport: number;
  shrinkage: number;
  /** Present for pearson-baseline: μ, and b_u and b_i in shared memory. */
  baselines: Baselines | null;
  k: number;
  /** Int32 movie indices in the order to process them (most expensive first). */
  order: SharedArrayBuffer;
  /** Int32[1]: the next position of `order` to take (Atomics.add). */
  cursor: SharedArrayBuffer;
  /** Int32 per movie: neighbours written. */
  counts: SharedArrayBuffer;
  /** Int32 / Float32 / Int32, k slots per movie. */
  neighbours: SharedArrayBuffer;
  similarities: SharedArrayBuffer;
  supports: SharedArrayBuffer;
  /** Post a progress message every this many movies. */
  progressEvery: number;
}

/** Messages from a worker: progress (movies finished since the last message) or completion. */
export type NeighbourWorkerMessage = { type: 'progress'; done: number } | { type: 'finished'; done: number };
