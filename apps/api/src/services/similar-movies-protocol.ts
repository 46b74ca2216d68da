// Messages between SimilarMovies and its baselines worker (kept apart so that the worker does
// not load the service, and the service does not load the worker).
import type { MatrixArrays } from '@recsys/core';

/** What the baselines worker fits: a training matrix whose arrays live in SharedArrayBuffers. */
export interface BaselinesJob {
  matrix: MatrixArrays;
}

export type BaselinesMessage =
  | { type: 'done'; globalMean: number; userBias: Float64Array; movieBias: Float64Array }
  | { type: 'error'; message: string };
