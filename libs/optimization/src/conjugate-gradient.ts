/** Applies a symmetric positive definite operator: out ← A·x (out is overwritten; x must not be modified). */
export type LinearOperator = (x: Float64Array, out: Float64Array) => void;

export interface ConjugateGradientOptions {
  /** Most iterations (each one product A·p). Default n (exact arithmetic converges in ≤ n). */
  maxIterations?: number;
  /** Stop when ‖b − A·x‖₂ ≤ tolerance·‖b‖₂. Default 1e-10. */
  tolerance?: number;
  /**
   * A Jacobi preconditioner M = diag(m) (every entry > 0): z = M⁻¹r, p₀ = z₀, α = rᵀz / pᵀAp,
   * β = r₁ᵀz₁ / r₀ᵀz₀, p = z + βp. Absent: plain CG (M = I).
   */
  diagonal?: Float64Array;
}

export interface ConjugateGradientResult {
  iterations: number;
  /** ‖b − A·x‖₂ of the recurrence residual at exit. */
  residualNorm: number;
  converged: boolean;
}

/**
 * Conjugate gradients for A·x = b with A symmetric positive definite, available only as a
 * product (Nocedal & Wright Alg. 5.2): r = b − A·x, p = r; repeat α = r·r / p·A·p,
 * x += α·p, r −= α·A·p, β = r_new·r_new / r·r, p = r + β·p. `x` holds the start point on entry
 * (e.g. zeros, or the previous solution for a warm start) and the solution on exit. With
 * `diagonal`, Jacobi-preconditioned (Alg. 5.3 with M = diag).
 * The three work vectors of length n live in the instance, so repeated solves do not allocate.
 */
export class ConjugateGradient {
  private readonly residual: Float64Array;
  private readonly searchDirection: Float64Array;
  private readonly product: Float64Array;
  /** M⁻¹r of a preconditioned solve (allocated at the first one). */
  private preconditioned: Float64Array | null = null;

  constructor(readonly n: number) {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`ConjugateGradient: n must be an integer ≥ 0, got ${n}`);
    this.residual = new Float64Array(n);
    this.searchDirection = new Float64Array(n);
    this.product = new Float64Array(n);
  }

  solve(applyA: LinearOperator, b: Float64Array, x: Float64Array, options: ConjugateGradientOptions = {}): ConjugateGradientResult {
    const n = this.n;
    if (b.length !== n || x.length !== n) {
      throw new RangeError(`ConjugateGradient.solve: b (${b.length}) and x (${x.length}) must have length n = ${n}`);
    }
    const maxIterations = options.maxIterations ?? n;
    const tolerance = options.tolerance ?? 1e-10;
    const r = this.residual;
    const p = this.searchDirection;
    const ap = this.product;

    const m = options.diagonal;
    if (m !== undefined && m.length !== n) throw new RangeError(`ConjugateGradient.solve: diagonal (${m.length}) must have length n = ${n}`);
    // z = M⁻¹r (z is r itself without a preconditioner); rz = rᵀz drives α and β, rr = rᵀr the stop.
    const z = m === undefined ? r : (this.preconditioned ??= new Float64Array(n));
    applyA(x, ap);
    let bb = 0;
    let rr = 0;
    let rz = 0;
    for (let i = 0; i < n; i++) {
      const ri = b[i] - ap[i];
      r[i] = ri;
      const zi = m === undefined ? ri : ri / m[i];
      z[i] = zi;
      p[i] = zi;
      rr += ri * ri;
      rz += ri * zi;
      bb += b[i] * b[i];
    }
    const threshold = tolerance * Math.sqrt(bb);
    let iterations = 0;
    while (Math.sqrt(rr) > threshold && iterations < maxIterations) {
      applyA(p, ap);
      let pap = 0;
      for (let i = 0; i < n; i++) pap += p[i] * ap[i];
      if (!(pap > 0)) break; // A is not positive definite along p (or p vanished): no progress possible.
      const alpha = rz / pap;
      let rrNew = 0;
      let rzNew = 0;
      for (let i = 0; i < n; i++) {
        x[i] += alpha * p[i];
        const ri = r[i] - alpha * ap[i];
        r[i] = ri;
        const zi = m === undefined ? ri : ri / m[i];
        z[i] = zi;
        rrNew += ri * ri;
        rzNew += ri * zi;
      }
      const beta = rzNew / rz;
      for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
      rr = rrNew;
      rz = rzNew;
      iterations++;
    }
    const residualNorm = Math.sqrt(rr);
    return { iterations, residualNorm, converged: residualNorm <= threshold };
  }
}

/** One-off {@link ConjugateGradient} solve (allocates the work vectors for this call). */
export function conjugateGradient(
  applyA: LinearOperator,
  b: Float64Array,
  x: Float64Array,
  options: ConjugateGradientOptions = {},
): ConjugateGradientResult {
  return new ConjugateGradient(b.length).solve(applyA, b, x, options);
}
