// The per-row work of ALS for biased matrix factorisation: ridge solves for one contiguous range
// of users (or movies) with the other side's factors fixed. Used by the single-thread trainer
// and by each worker thread (als-worker.ts), so it imports nothing that needs the main thread.
import { ConjugateGradient, ConjugateGradientOptions, LinearOperator } from '@recsys/optimization';
import { BiasedRidge } from '../fold-in';

/** How each row's (k+1)×(k+1) ridge system is solved. */
export type AlsRowSolver = 'cholesky' | 'cg';

/**
 * Without the WebAssembly kernel, up to this many factors ALS forms each row's normal matrix and
 * solves it by Cholesky (O(n·k²) + O(k³) per row); above it, conjugate gradients on the implicit
 * matrix (O(n·k) per step). Measured on MovieLens 100k u1..u5 (15 iterations, five folds, one
 * thread): k = 16 Cholesky 4.4 s, plain-TypeScript CG 3.5 s; with the SIMD kernel CG takes 0.5 s
 * (k = 4), 0.6 s (k = 10), 1.0 s (k = 16) against Cholesky's 0.7, 1.9 and 4.4 s, at equal test
 * RMSE to four decimals; so with the kernel CG is used for every k ≥ 1.
 */
export const ALS_CHOLESKY_MAX_FACTORS = 16;

/** CG steps per row and half step (Takács, Pilászy & Tikk 2011 use 2–4 with a warm start). */
export const ALS_CG_STEPS = 3;

/**
 * The default row solver for k factors: `cg` when the WebAssembly kernel is available (k ≥ 1);
 * otherwise `cholesky` for k ≤ {@link ALS_CHOLESKY_MAX_FACTORS} and `cg` above.
 */
export function alsRowSolverFor(factors: number, wasm: boolean): AlsRowSolver {
  if (factors === 0) return 'cholesky';
  return wasm || factors > ALS_CHOLESKY_MAX_FACTORS ? 'cg' : 'cholesky';
}

/**
 * One side of the problem: its rows in compressed form (row a's entries `ptr[a] .. ptr[a+1]−1`,
 * each with the other side's index `other[j]` and the rating code `codes[j]` = stars × 2) and its
 * own parameters (`factors`: rows of `kp` f32, `bias`: f64). Users: (userPtr, userMovies,
 * userRatings, P, b_u); movies: (moviePtr, movieUsers, movieRatings, Q, b_i).
 */
export interface AlsSide {
  readonly ptr: Uint32Array;
  readonly other: Int32Array;
  readonly codes: Uint8Array;
  readonly factors: Float32Array;
  readonly bias: Float64Array;
}

/** Both sides; factor rows hold `kp` ≥ k floats (padding zero). */
export interface AlsViews {
  readonly kp: number;
  readonly users: AlsSide;
  readonly movies: AlsSide;
}

/** Fixed per fit: the model's k, μ, the ridge weights and the row solver. */
export interface AlsRowParams {
  readonly factors: number;
  readonly mu: number;
  readonly reg: number;
  /** λ_b of the user biases, and of the movie biases unless `regMovieBias` is given. */
  readonly regBias: number;
  readonly regMovieBias?: number;
  readonly solver: AlsRowSolver;
  /** CG steps per row (cg solver only). */
  readonly cgSteps: number;
}

/**
 * The two passes over a row's ratings that ALS-CG spends its time in; a plain TypeScript
 * implementation ({@link plainAlsPasses}) and the WebAssembly SIMD one (als-wasm.ts).
 */
export interface AlsPasses {
  /**
   * With x_j = [q_{o_j}; 1] over the ratings `begin .. end−1` of a row of `rows` (q: `fixed`
   * factors) and v = [v[0..k), v[k]]: w_j = x_j·v, or with `residual` w_j = y_j − x_j·v where
   * y_j = r_j − μ − b_{o_j}; sets out[0..k) = Σ_j w_j q_{o_j} and out[k] = Σ_j w_j.
   */
  pass(residual: boolean, rows: AlsSide, fixed: AlsSide, begin: number, end: number, v: Float64Array, out: Float64Array): void;
  /** Σ_j (r_j − μ − b_a − b_{o_j} − p_a·q_{o_j})² over row a of `rows` with its current values. */
  sse(rows: AlsSide, fixed: AlsSide, a: number): number;
}

/** {@link AlsPasses} in plain TypeScript, sums in f64. */
export function plainAlsPasses(k: number, kp: number, mu: number): AlsPasses {
  return {
    pass(residual, rows, fixedSide, begin, end, v, out) {
      const other = rows.other;
      const codes = rows.codes;
      const fixed = fixedSide.factors;
      const fixedBias = fixedSide.bias;
      const vb = v[k];
      out.fill(0);
      let wsum = 0;
      for (let j = begin; j < end; j++) {
        const o = other[j];
        const qo = o * kp;
        let t = vb;
        for (let f = 0; f < k; f++) t += fixed[qo + f] * v[f];
        const w = residual ? codes[j] * 0.5 - mu - fixedBias[o] - t : t;
        for (let f = 0; f < k; f++) out[f] += w * fixed[qo + f];
        wsum += w;
      }
      out[k] = wsum;
    },
    sse(rows, fixedSide, a) {
      const { ptr, other, codes, factors: solved, bias } = rows;
      const fixed = fixedSide.factors;
      const fixedBias = fixedSide.bias;
      const at = a * kp;
      const ba = bias[a];
      let sse = 0;
      for (let j = ptr[a]; j < ptr[a + 1]; j++) {
        const o = other[j];
        const qo = o * kp;
        let dot = 0;
        for (let f = 0; f < k; f++) dot += solved[at + f] * fixed[qo + f];
        const e = codes[j] * 0.5 - mu - ba - fixedBias[o] - dot;
        sse += e * e;
      }
      return sse;
    },
  };
}

/**
 * Solves ALS rows with reusable buffers (one instance per thread; nothing is allocated per row
 * except the small result object of {@link ConjugateGradient.solve}).
 *
 * For row a (a user, say) with ratings r_aj of the other side's rows o_j, x_j = [q_{o_j}; 1] and
 * y_j = r_aj − μ − b_{o_j}, the new [p_a; b_a] minimises
 *
 *   Σ_j (y_j − x_j·z)² + reg·‖p_a‖² + regBias·b_a²,
 *
 * i.e. solves (Σ_j x_j x_jᵀ + D)·z = Σ_j y_j x_j with D = diag(reg, …, reg, regBias) (the
 * movies' regBias is `regMovieBias` when given).
 *
 * - k = 0 (biases only): b_a = Σ_j y_j / (regBias + n_a), exactly Surprise's ALS baselines.
 * - `cholesky`: forms the system in a {@link BiasedRidge} and solves it exactly.
 * - `cg` (ALS-CG, Takács, Pilászy & Tikk 2011): never forms the matrix. From the current z₀
 *   (warm start) it takes the residual r₀ = Σ_j (y_j − x_j·z₀)·x_j − D·z₀ in one pass over the
 *   row, then runs `cgSteps` steps of {@link ConjugateGradient} on (Σ x_j x_jᵀ + D)·δ = r₀ from
 *   δ = 0, each product one more pass (a dot and an axpy of length k per rating), and stores
 *   z₀ + δ. Each CG step lowers the row's objective, so ALS-CG never raises the total objective;
 *   cost (cgSteps + 1)·2k per rating instead of k²/2 + k³/(3n).
 */
export class AlsRowKernel {
  readonly factors: number;
  private readonly kp: number;
  private readonly ridge: BiasedRidge | null;
  private readonly cg: ConjugateGradient;
  private readonly cgOptions: ConjugateGradientOptions;
  private readonly start: Float64Array;
  private readonly residual: Float64Array;
  private readonly delta: Float64Array;
  private readonly apply: LinearOperator;
  // The row the operator multiplies by (set before each CG solve).
  private rowSide: AlsSide;
  private fixedSide: AlsSide;
  private rowBegin = 0;
  private rowEnd = 0;
  private rowRegBias: number;

  constructor(
    readonly params: AlsRowParams,
    private readonly views: AlsViews,
    private readonly passes: AlsPasses = plainAlsPasses(params.factors, views.kp, params.mu),
  ) {
    const k = params.factors;
    if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`AlsRowKernel: factors must be an integer ≥ 0, got ${k}`);
    if (!(views.kp >= k)) throw new RangeError(`AlsRowKernel: rows of ${views.kp} floats cannot hold ${k} factors`);
    const regMovieBias = params.regMovieBias ?? params.regBias;
    if (k === 0) {
      if (!(params.regBias >= 0 && regMovieBias >= 0)) throw new RangeError(`AlsRowKernel: regBias must be ≥ 0, got ${params.regBias} and ${regMovieBias}`);
    } else if (!(params.reg > 0 && params.regBias > 0 && regMovieBias > 0)) {
      throw new RangeError(`AlsRowKernel: reg and regBias must be > 0, got ${params.reg} and ${params.regBias}`);
    }
    if (params.solver === 'cg' && !(Number.isInteger(params.cgSteps) && params.cgSteps >= 1)) {
      throw new RangeError(`AlsRowKernel: cgSteps must be an integer ≥ 1, got ${params.cgSteps}`);
    }
    this.factors = k;
    this.kp = views.kp;
    this.ridge = params.solver === 'cholesky' ? new BiasedRidge(k) : null;
    this.cg = new ConjugateGradient(k + 1);
    // tolerance 0: always the given number of steps (CG stops early only if the residual vanishes).
    this.cgOptions = { maxIterations: params.cgSteps, tolerance: 0 };
    this.start = new Float64Array(k + 1);
    this.residual = new Float64Array(k + 1);
    this.delta = new Float64Array(k + 1);
    this.apply = (v, out) => this.product(v, out);
    this.rowSide = views.users;
    this.fixedSide = views.movies;
    this.rowRegBias = params.regBias;
  }

  /**
   * Solves users (`byUser`) or movies `from .. to−1` in place, the other side fixed; the cg solver
   * starts from their current values. With `withSse`, returns Σ (r − μ − b_a − b_o − p·q)² over
   * the rows' ratings with the new values (as stored: f32 factors); otherwise 0.
   */
  solveRows(byUser: boolean, from: number, to: number, withSse: boolean): number {
    const k = this.factors;
    const kp = this.kp;
    const { reg, mu } = this.params;
    const regBias = byUser ? this.params.regBias : (this.params.regMovieBias ?? this.params.regBias);
    this.rowRegBias = regBias;
    const rows = byUser ? this.views.users : this.views.movies;
    const fixedSide = byUser ? this.views.movies : this.views.users;
    const { ptr, other, codes, factors: solved, bias: solvedBias } = rows;
    const fixed = fixedSide.factors;
    const fixedBias = fixedSide.bias;
    let sse = 0;
    for (let a = from; a < to; a++) {
      const begin = ptr[a];
      const end = ptr[a + 1];
      const at = a * kp;
      if (begin === end) {
        // No ratings: the ridge solution is 0.
        for (let f = 0; f < k; f++) solved[at + f] = 0;
        solvedBias[a] = 0;
        continue;
      }
      if (k === 0) {
        let sum = 0;
        for (let j = begin; j < end; j++) sum += codes[j] * 0.5 - mu - fixedBias[other[j]];
        solvedBias[a] = sum / (regBias + (end - begin));
      } else if (this.ridge === null) this.solveCg(rows, fixedSide, begin, end, a);
      else {
        const ridge = this.ridge;
        ridge.reset();
        for (let j = begin; j < end; j++) {
          const o = other[j];
          ridge.add(fixed, o * kp, codes[j] * 0.5 - mu - fixedBias[o]);
        }
        if (!ridge.solve(reg, regBias)) throw new Error(`svd als: the ridge system of ${byUser ? 'user' : 'movie'} index ${a} is not positive definite`);
        const x = ridge.b;
        for (let f = 0; f < k; f++) solved[at + f] = x[f];
        solvedBias[a] = x[k];
      }
      if (withSse) sse += this.passes.sse(rows, fixedSide, a);
    }
    return sse;
  }

  private solveCg(rows: AlsSide, fixedSide: AlsSide, begin: number, end: number, a: number): void {
    const k = this.factors;
    const reg = this.params.reg;
    const regBias = this.rowRegBias;
    const solved = rows.factors;
    const z = this.start;
    const r = this.residual;
    const at = a * this.kp;
    for (let f = 0; f < k; f++) z[f] = solved[at + f];
    z[k] = rows.bias[a];
    // r₀ = Σ_j (y_j − x_j·z₀)·x_j − D·z₀.
    this.passes.pass(true, rows, fixedSide, begin, end, z, r);
    for (let f = 0; f < k; f++) r[f] -= reg * z[f];
    r[k] -= regBias * z[k];
    this.rowSide = rows;
    this.fixedSide = fixedSide;
    this.rowBegin = begin;
    this.rowEnd = end;
    const delta = this.delta;
    delta.fill(0);
    this.cg.solve(this.apply, r, delta, this.cgOptions);
    for (let f = 0; f < k; f++) solved[at + f] = z[f] + delta[f];
    rows.bias[a] = z[k] + delta[k];
  }

  /** out ← (Σ_j x_j x_jᵀ + D)·v over the current row; a zero v (CG's start δ = 0) costs no pass. */
  private product(v: Float64Array, out: Float64Array): void {
    const k = this.factors;
    let zero = true;
    for (let f = 0; f <= k; f++) {
      if (v[f] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) {
      out.fill(0);
      return;
    }
    this.passes.pass(false, this.rowSide, this.fixedSide, this.rowBegin, this.rowEnd, v, out);
    const reg = this.params.reg;
    for (let f = 0; f < k; f++) out[f] += reg * v[f];
    out[k] += this.rowRegBias * v[k];
  }
}

/**
 * Cuts rows 0..n−1 into contiguous chunks of about `targetRatings` ratings (at least one row,
 * at most `maxRows` rows each): the units threads take from a shared counter. Depends only on the
 * matrix, so per-chunk sums added in chunk order give the same total for any thread count.
 * Returns the n_chunks + 1 boundaries.
 */
export function alsChunks(ptr: Uint32Array, n: number, targetRatings = 1 << 14, maxRows = 2048): Uint32Array {
  const bounds: number[] = [0];
  let start = 0;
  for (let a = 0; a < n; a++) {
    if (ptr[a + 1] - ptr[start] >= targetRatings || a + 1 - start >= maxRows) {
      bounds.push(a + 1);
      start = a + 1;
    }
  }
  if (start < n) bounds.push(n);
  return Uint32Array.from(bounds);
}
