// Reference linear algebra for the optimization specs: seeded random SPD systems and a plain
// Gaussian elimination to check the solvers against.
import { Random } from '@recsys/core';

/** Random SPD MᵀM + I (k×k row-major), M uniform in [-1, 1). */
export function randomSpd(k: number, random: Random): Float64Array {
  const M = new Float64Array(k * k);
  for (let i = 0; i < M.length; i++) M[i] = 2 * random.next() - 1;
  const A = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let sum = i === j ? 1 : 0;
      for (let p = 0; p < k; p++) sum += M[p * k + i] * M[p * k + j];
      A[i * k + j] = sum;
    }
  }
  return A;
}

/** Random SPD A = MᵀM + I (n×n row-major) and b uniform in [-2, 2), from a seeded generator. */
export function randomSpdSystem(n: number, seed: number): { A: Float64Array; b: Float64Array } {
  const random = new Random(seed);
  const A = randomSpd(n, random);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = 4 * random.next() - 2;
  return { A, b };
}

/** Plain Gaussian elimination with partial pivoting (the reference solver). */
export function gaussianSolve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]) > Math.abs(m[pivot * n + col])) pivot = r;
    for (let c = 0; c < n; c++) [m[col * n + c], m[pivot * n + c]] = [m[pivot * n + c], m[col * n + c]];
    [x[col], x[pivot]] = [x[pivot], x[col]];
    for (let r = col + 1; r < n; r++) {
      const factor = m[r * n + col] / m[col * n + col];
      for (let c = col; c < n; c++) m[r * n + c] -= factor * m[col * n + c];
      x[r] -= factor * x[col];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let sum = x[r];
    for (let c = r + 1; c < n; c++) sum -= m[r * n + c] * x[c];
    x[r] = sum / m[r * n + r];
  }
  return x;
}
