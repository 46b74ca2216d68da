// Plain f64 TypeScript EASE, straight from the definitions, for the specs to compare the
// WebAssembly kernel (solver.ts) against: the dense Gram matrix and B = I − P·diag(1/diag(P)) (the
// specs invert G by @recsys/testing's Gaussian elimination, one column of the identity at a time).
import type { RatingMatrix } from '@recsys/data';
import type { EaseInteractionView } from './solver';

/** G = XᵀX + λI (n × n row-major, f64) with x_ui as {@link EaseInteractionView} says. */
export function referenceGram(train: RatingMatrix, lambda: number, view: EaseInteractionView): Float64Array {
  const n = train.nMovies;
  const g = new Float64Array(n * n);
  for (let u = 0; u < train.nUsers; u++) {
    for (let a = train.userPtr[u]; a < train.userPtr[u + 1]; a++) {
      const va = train.userRatings[a] * 0.5;
      if (va < view.minWeight) continue;
      for (let b = train.userPtr[u]; b < train.userPtr[u + 1]; b++) {
        const vb = train.userRatings[b] * 0.5;
        if (vb < view.minWeight) continue;
        g[train.userMovies[a] * n + train.userMovies[b]] += view.binary ? 1 : va * vb;
      }
    }
  }
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  return g;
}

/** B_ij = −P_ij / P_jj (i ≠ j), B_ii = 0, for P = G⁻¹ (n × n row-major). */
export function referenceWeights(p: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
  return b;
}
