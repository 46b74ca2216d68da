/**
 * In-place Cholesky factorisation A = L·Lᵀ of a k×k symmetric positive definite matrix stored
 * row-major in `A` (only the lower triangle is read). On success the lower triangle of `A` holds
 * L and the strict upper triangle is zeroed; returns false (A partly overwritten) when a pivot
 * Lⱼⱼ² = Aⱼⱼ − Σₚ<ⱼ Lⱼₚ² is not > 0 or not finite, i.e. A is not (numerically) positive definite.
 * Cost k³/3 multiply-adds, no allocation.
 */
export function choleskyFactor(A: Float64Array, k: number): boolean {
  checkSquare('choleskyFactor', A, k);
  for (let j = 0; j < k; j++) {
    const rowJ = j * k;
    let pivot = A[rowJ + j];
    for (let p = 0; p < j; p++) pivot -= A[rowJ + p] * A[rowJ + p];
    if (!(pivot > 0 && pivot < Infinity)) return false;
    const diagonal = Math.sqrt(pivot);
    A[rowJ + j] = diagonal;
    const inverse = 1 / diagonal;
    for (let i = j + 1; i < k; i++) {
      const rowI = i * k;
      let sum = A[rowI + j];
      for (let p = 0; p < j; p++) sum -= A[rowI + p] * A[rowJ + p];
      A[rowI + j] = sum * inverse;
    }
    for (let i = j + 1; i < k; i++) A[rowJ + i] = 0;
  }
  return true;
}

/**
 * Solves L·Lᵀ·x = b in place (b becomes x) given the factor from {@link choleskyFactor} in the
 * lower triangle of the row-major k×k `L`: forward substitution L·z = b, then back substitution
 * Lᵀ·x = z. No allocation.
 */
export function choleskySolve(L: Float64Array, b: Float64Array, k: number): void {
  checkSquare('choleskySolve', L, k);
  if (b.length < k) throw new RangeError(`choleskySolve: b has length ${b.length}, expected ≥ k = ${k}`);
  for (let i = 0; i < k; i++) {
    const row = i * k;
    let sum = b[i];
    for (let p = 0; p < i; p++) sum -= L[row + p] * b[p];
    b[i] = sum / L[row + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let sum = b[i];
    for (let p = i + 1; p < k; p++) sum -= L[p * k + i] * b[p];
    b[i] = sum / L[i * k + i];
  }
}

/**
 * Solves small ridge systems (A + λI)·x = b, the normal equations of regularised least squares
 * (ALS factor updates, baseline fits), by Cholesky in place. The solver only fixes k and checks
 * sizes; it allocates nothing per call, so one instance can serve a whole training loop.
 */
export class RidgeSolver {
  constructor(readonly k: number) {
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`RidgeSolver: k must be an integer ≥ 1, got ${k}`);
  }

  /**
   * Solves (A + λI)·x = b. `A` is a k×k row-major Float64Array (symmetric; its lower triangle is
   * read) and is overwritten by the Cholesky factor; `b` (length k) is overwritten by x.
   * Returns false, leaving b untouched, if A + λI is not positive definite.
   */
  solve(A: Float64Array, b: Float64Array, lambda: number): boolean {
    const k = this.k;
    if (A.length !== k * k) throw new RangeError(`RidgeSolver.solve: A has length ${A.length}, expected k² = ${k * k}`);
    if (b.length !== k) throw new RangeError(`RidgeSolver.solve: b has length ${b.length}, expected k = ${k}`);
    if (lambda !== 0) for (let i = 0; i < k; i++) A[i * k + i] += lambda;
    if (!choleskyFactor(A, k)) return false;
    choleskySolve(A, b, k);
    return true;
  }
}

function checkSquare(where: string, A: Float64Array, k: number): void {
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`${where}: k must be an integer ≥ 0, got ${k}`);
  if (A.length < k * k) throw new RangeError(`${where}: matrix has length ${A.length}, expected ≥ k² = ${k * k}`);
}
