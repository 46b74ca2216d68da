import { RidgeSolver } from '@recsys/optimization';

/**
 * Reusable buffers for ridge solves of size k+1 (k factors plus the bias); one per training loop
 * or per model, so that no solve allocates.
 */
export class BiasedRidge {
  readonly size: number;
  readonly A: Float64Array;
  readonly b: Float64Array;
  private readonly solver: RidgeSolver;

  constructor(readonly factors: number) {
    this.size = factors + 1;
    this.A = new Float64Array(this.size * this.size);
    this.b = new Float64Array(this.size);
    this.solver = new RidgeSolver(this.size);
  }

  /** Zeroes A and b before accumulating a new system. */
  reset(): void {
    this.A.fill(0);
    this.b.fill(0);
  }

  /**
   * Adds one observation x = [q (k values at `q[offset..offset+k)`), 1] with target y:
   * A += x·xᵀ (lower triangle only, which is all the Cholesky factorisation reads), b += y·x.
   */
  add(q: Float32Array, offset: number, y: number): void {
    const k = this.factors;
    const n = this.size;
    const A = this.A;
    const b = this.b;
    for (let i = 0; i < k; i++) {
      const qi = q[offset + i];
      const row = i * n;
      for (let j = 0; j <= i; j++) A[row + j] += qi * q[offset + j];
      b[i] += y * qi;
    }
    const last = k * n;
    for (let j = 0; j < k; j++) A[last + j] += q[offset + j];
    A[last + k] += 1;
    b[k] += y;
  }

  /**
   * Solves (A + diag(λ,…,λ, λ_b))·x = b in place: x (in `this.b`) = [p (k values), bias].
   * Returns false when the system is not positive definite (only possible with λ = 0 or λ_b = 0).
   */
  solve(reg: number, regBias: number): boolean {
    const n = this.size;
    const A = this.A;
    for (let i = 0; i < this.factors; i++) A[i * n + i] += reg;
    A[n * n - 1] += regBias;
    return this.solver.solve(A, this.b, 0);
  }
}

/** A new user's ratings by internal movie index (unknown movies already dropped). */
export interface FoldInRatings {
  readonly length: number;
  /** Internal movie indices. */
  readonly movies: ArrayLike<number>;
  /** Ratings in stars. */
  readonly ratings: ArrayLike<number>;
}

/**
 * Fold-in of a user unseen in training: with the movie factors Q, movie biases b_i and μ fixed,
 * the user's [p_u, b_u] minimises
 *
 *   Σ_j (r_j − μ − b_j − o_j − b_u − p_u·q_j)² + λ‖p_u‖² + λ_b·b_u²
 *
 * over the given ratings (o_j an optional fixed offset per rating, e.g. SVD++'s implicit term),
 * i.e. it solves the ridge normal equations (Σ x_j x_jᵀ + diag(λ…λ, λ_b))·[p_u; b_u] = Σ y_j x_j
 * with x_j = [q_j; 1], y_j = r_j − μ − b_j − o_j. Returns [p_u (k values), b_u]; with no ratings
 * both are 0.
 */
export function foldInFactors(
  movieFactors: Float32Array,
  movieBias: Float64Array,
  globalMean: number,
  factors: number,
  ratings: FoldInRatings,
  reg: number,
  regBias: number,
  offsets?: ArrayLike<number>,
  ridge: BiasedRidge = new BiasedRidge(factors),
): Float32Array {
  if (!(reg > 0) || !(regBias > 0)) throw new RangeError(`foldIn: reg and regBias must be > 0, got ${reg} and ${regBias}`);
  ridge.reset();
  for (let j = 0; j < ratings.length; j++) {
    const m = ratings.movies[j];
    const y = ratings.ratings[j] - globalMean - movieBias[m] - (offsets ? offsets[j] : 0);
    ridge.add(movieFactors, m * factors, y);
  }
  const out = new Float32Array(factors + 1);
  if (ratings.length === 0) return out;
  if (!ridge.solve(reg, regBias)) throw new Error('foldIn: the ridge system is not positive definite');
  out.set(ridge.b);
  return out;
}
