// Plain f64 TypeScript EASE, straight from the definitions, for the specs to compare the
// WebAssembly kernel (solver.ts) against: dense Gram matrix, Gauss–Jordan inverse with partial
// pivoting, B = I − P·diag(1/diag(P)).
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

/** A⁻¹ of the n × n row-major `a` by Gauss–Jordan elimination with partial pivoting on [A | I]. */
export function referenceInverse(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[pivot * n + c])) pivot = r;
    if (m[pivot * n + c] === 0) throw new RangeError('referenceInverse: singular matrix');
    for (let k = 0; k < n; k++) {
      [m[c * n + k], m[pivot * n + k]] = [m[pivot * n + k], m[c * n + k]];
      [inv[c * n + k], inv[pivot * n + k]] = [inv[pivot * n + k], inv[c * n + k]];
    }
    const d = m[c * n + c];
    for (let k = 0; k < n; k++) {
      m[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] -= f * m[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/** B_ij = −P_ij / P_jj (i ≠ j), B_ii = 0, for P = G⁻¹ (n × n row-major). */
export function referenceWeights(p: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
  return b;
}
