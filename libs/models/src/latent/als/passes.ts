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

/**
 * CG steps per row and half step (Takács, Pilászy & Tikk 2011 use 2–4 with a warm start). 2, not
 * 3: each step is one more pass over the ratings (a quarter of an iteration's cost), and held-out
 * RMSE after 15 iterations was the same or better: MovieLens 100k u1 / u2, 8 factors, 0.9242 /
 * 0.9116 with 2 steps against 0.9244 / 0.9116 with 3 (exact ALS 0.9244 / 0.9117; 32 factors
 * 0.9242 / 0.9141 against 0.9246 / 0.9142); generated 10M (9M train, svd-bench's split), 8
 * factors 0.8447 against 0.8446 (baseline 0.8518).
 *
 * Not 1, although one step is 3 passes instead of 5 (about 40 % of an iteration): with svd's
 * ALS defaults the defaults sweep (`npm run bench:defaults -- --model svd`, docs/defaults-sweep.md)
 * gives ML-100k u1–u5 / Kaggle sample / heavy / heavy-half / generated 10M 0.9158 / 0.9927 /
 * 0.8355 / 0.7917 / 0.8258 with 1 step against 0.9110 / 0.9872 / 0.8420 / 0.7993 / 0.8447 with 2:
 * better on the generated sets, 0.005 worse on the two real ones. One step with reg 9 (0.9179 /
 * 0.9944), reg 6 (0.9281 / 0.9987) or 25 iterations (0.9131 / 0.9936) does not close that gap.
 */
export const ALS_CG_STEPS = 2;

/**
 * How the CG steps of a row are preconditioned: `jacobi`, by M = diag(A) (Σ_j q_{o_j,f}² + reg
 * per factor, n + regBias for the bias, summed by the residual pass from the rows it already
 * loads), or `none` (plain CG).
 */
export type AlsPreconditioner = 'jacobi' | 'none';

/**
 * The default: `none` (two plain steps, {@link ALS_CG_STEPS}). `jacobi` with 1 step is an option
 * (`createAlsTrainer`'s `cgSteps: 1, preconditioner: 'jacobi'`), about 0.73× the CPU of an
 * iteration at 100M (100 factors, five pairs, load 7–20), not the default because it lags at more
 * factors (below). One Jacobi-preconditioned step (the residual pass, which also sums diag(A), and
 * a pass of dots) tests as well as or better than two plain steps (5 passes) at svd's ALS
 * defaults (8 factors, 15 iterations), test RMSE (one step preconditioned / two plain / one plain): MovieLens 100k u1–u5 0.9108 / 0.9110 / 0.9158, Kaggle
 * sample (0.2 holdout) 0.9871 / 0.9872 / 0.9927, generated 1M heavy users (4,802 users, 0.2
 * holdout) 0.8417 / 0.8420 / 0.8355, generated 1M Prize-shaped (48,019 users, 17,770 movies,
 * 0.1 holdout) 0.8780 / 0.8784 / 0.8598 (`bench:defaults` and `evaluate --holdout`, plain
 * TypeScript passes). Two preconditioned steps gain nothing more (0.9109 / 0.9859 / 0.8425).
 * A diagonal from the fixed side's mean q_f² (no per-rating cost) was worse on the Kaggle sample
 * (0.9880). With more factors than the default 8 one step lags on the Kaggle sample (8 movies of
 * about 10,000 raters each): 100 factors ML-100k 0.9115 / 0.9115 (one step preconditioned / two
 * plain), Kaggle 0.9903 / 0.9868, generated 1M Prize-shaped 0.8700 / 0.8695; 32 factors ML-100k
 * 0.9134 / 0.9132, Kaggle 0.9883 / 0.9863 (WebAssembly passes). The 100M Prize-shaped snapshot,
 * 100 factors, training RMSE after iterations 1–3: 0.8072 / 0.7519 / 0.7262 against 0.7621 /
 * 0.7020 / 0.6773 with two plain steps: slower convergence where it matters most.
 */
export const ALS_CG_PRECONDITIONER: AlsPreconditioner = 'none';

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
  /** The CG steps' preconditioner (cg solver only); absent: `none`. */
  readonly preconditioner?: AlsPreconditioner;
  /**
   * With the cg solver and k ≥ 1: solve the movies' half step blocked ({@link AlsRowKernel}),
   * reading the user factors in blocks of this many rows; 0 or absent: row by row.
   */
  readonly movieBlockRows?: number;
}

/** Most rows in a chunk of the blocked half step (its per-row arrays are sized for this many). */
export const ALS_BLOCK_CHUNK_ROWS = 4096;

/**
 * Bytes of the fixed side's factor rows one block of the blocked half step reads (user rows of
 * kp f32 per block = this / 4kp): small enough to stay in the cache and within the TLB's reach
 * while every row of the chunk reads its ratings from the block. 1 MiB (the L2 of one core
 * here), not 2: the movies' half step of the 100M Prize-shaped snapshot (100 factors, 2 threads,
 * five alternating half steps in one process, shared machine at load 5–9) took 11.3–12.4 CPU-s
 * with 1 MiB against 12.3–13.5 with 2 MiB (four of five pairs lower, one equal); in a second
 * run 9.8–12.0 with 1 MiB, 10.0–10.6 with 512 KiB. Generated 10M sets (1 thread, seven pairs, 1
 * MiB against 2 MiB) are neutral: 480,189 users
 * 1.61–1.75 against 1.58–1.85, 48,019 users 0.88–0.97 against 0.84–0.99. Results equal up to
 * the order of the f64 sums (training RMSE equal to 6 decimals).
 */
export const ALS_BLOCK_BYTES = 1 << 20;

/** Rows per block of {@link ALS_BLOCK_BYTES} for factor rows of kp floats. */
export function alsBlockRows(kp: number, blockBytes = ALS_BLOCK_BYTES): number {
  return Math.max(1, Math.floor(blockBytes / (4 * kp)));
}

/**
 * The two passes over a row's ratings that ALS-CG spends its time in; a plain TypeScript
 * implementation ({@link plainAlsPasses}) and the WebAssembly SIMD one (als-wasm.ts).
 */
export interface AlsPasses {
  /** Called before the passes over rows `from .. to−1` of `rows` (a chunk): the SIMD kernel copies their slice of the rating arrays into its memory. */
  chunk(rows: AlsSide, from: number, to: number): void;
  /**
   * With x_j = [q_{o_j}; 1] over the ratings `begin .. end−1` of a row of `rows` (q: `fixed`
   * factors) and v = [v[0..k), v[k]]: w_j = x_j·v, or with `residual` w_j = y_j − x_j·v where
   * y_j = r_j − μ − b_{o_j}; sets out[0..k) = Σ_j w_j q_{o_j} and out[k] = Σ_j w_j. With
   * `residual` and `diag`, also diag[f] = Σ_j q_{o_j,f}² (f < k).
   */
  pass(residual: boolean, rows: AlsSide, fixed: AlsSide, begin: number, end: number, v: Float64Array, out: Float64Array, diag?: Float64Array): void;
  /** Σ_j (r_j − μ − b_a − b_{o_j} − p_a·q_{o_j})² over row a of `rows` with its current values. */
  sse(rows: AlsSide, fixed: AlsSide, a: number): number;
  /** The arrays of the blocked half step for up to `rows` rows (in the kernel's memory); made once per thread. */
  blockState(rows: number): AlsBlockState;
  /**
   * One blocked pass over rows `from .. to−1` of `rows` (local index l = a − from), the fixed
   * rows visited in blocks of `blockRows`: for each block [s, e), the ratings j from
   * `s.cursor[l]` while j < ptr[a+1] and other[j] < e, with x_j = [q_{o_j}; 1] and
   * v = [s.v row l; s.vb[l]], w_j = x_j·v (mode 0 and 2) or y_j − x_j·v (mode 1;
   * y_j = r_j − μ − b_{o_j}); adds Σ w_j q_{o_j} to s.out row l [0..kp) (not in mode 2),
   * Σ w_j to [kp] and Σ w_j² to [kp+1], and moves the cursor on; mode 3 is mode 1 that also
   * adds Σ q_{o_j,f}² to s.diag row l [0..kp).
   */
  blockRun(mode: AlsBlockMode, rows: AlsSide, fixed: AlsSide, from: number, to: number, blockRows: number, s: AlsBlockState): void;
  /**
   * When present (the SIMD kernel): the whole row-by-row cg solve of rows `from .. to−1` of the
   * loaded chunk, the same steps as {@link AlsRowKernel}'s with {@link ConjugateGradient} (warm
   * start, `steps` steps, D = diag(reg …, regBias), Jacobi-preconditioned with `jacobi`), without
   * a call per pass; returns Σ e² of the rows with their new values when `withSse`, else 0.
   */
  cgRows?(rows: AlsSide, fixed: AlsSide, from: number, to: number, reg: number, regBias: number, steps: number, jacobi: boolean, withSse: boolean): number;
}

/**
 * What a blocked pass computes: 0 the product Σ x xᵀ v, 1 the residual Σ (y − x·v) x (and
 * Σ (y − x·v)², which gives Σ e² after the solve), 2 only Σ x·v and Σ (x·v)² (the last CG step
 * needs no more: pᵀ(XᵀX)p = Σ (x·p)²), 3 as 1 and also Σ q_f² (the Jacobi preconditioner's diagonal).
 */
export type AlsBlockMode = 0 | 1 | 2 | 3;

/**
 * Per-row arrays of the blocked half step (rows of a chunk, local index l): the next rating of
 * each row (`cursor`), the vector each pass multiplies by (`v`, rows of kp f64, and `vb`, its
 * bias component), and what the pass sums (`out`, rows of kp + 2 f64; `diag`, rows of kp f64, mode 3).
 */
export interface AlsBlockState {
  readonly rows: number;
  readonly cursor: Uint32Array;
  readonly v: Float64Array;
  readonly vb: Float64Array;
  readonly out: Float64Array;
  readonly diag: Float64Array;
}

/** {@link AlsBlockState} in ordinary arrays. */
export function plainBlockState(rows: number, kp: number): AlsBlockState {
  return {
    rows,
    cursor: new Uint32Array(rows),
    v: new Float64Array(rows * kp),
    vb: new Float64Array(rows),
    out: new Float64Array(rows * (kp + 2)),
    diag: new Float64Array(rows * kp),
  };
}

/** {@link AlsPasses} in plain TypeScript, sums in f64. */
export function plainAlsPasses(k: number, kp: number, mu: number): AlsPasses {
  return {
    chunk() {
      // The plain passes read the rating arrays in place.
    },
    pass(residual, rows, fixedSide, begin, end, v, out, diag) {
      const other = rows.other;
      const codes = rows.codes;
      const fixed = fixedSide.factors;
      const fixedBias = fixedSide.bias;
      const vb = v[k];
      out.fill(0);
      if (residual && diag) {
        diag.fill(0, 0, k);
        for (let j = begin; j < end; j++) {
          const qo = other[j] * kp;
          for (let f = 0; f < k; f++) diag[f] += fixed[qo + f] * fixed[qo + f];
        }
      }
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
    blockState: (rows) => plainBlockState(rows, kp),
    blockRun(mode, rows, fixedSide, from, to, blockRows, s) {
      const { ptr, other, codes } = rows;
      const fixed = fixedSide.factors;
      const fixedBias = fixedSide.bias;
      const { cursor, v, vb, out, diag } = s;
      const nFixed = fixedBias.length;
      for (let start = 0; start < nFixed; start += blockRows) {
        const blockEnd = Math.min(nFixed, start + blockRows);
        for (let a = from; a < to; a++) {
          const l = a - from;
          const end = ptr[a + 1];
          const at = l * kp;
          const o_l = l * (kp + 2);
          let j = cursor[l];
          let wsum = 0;
          let w2 = 0;
          for (; j < end && other[j] < blockEnd; j++) {
            const o = other[j];
            const qo = o * kp;
            let t = vb[l];
            for (let f = 0; f < k; f++) t += fixed[qo + f] * v[at + f];
            const w = mode === 1 || mode === 3 ? codes[j] * 0.5 - mu - fixedBias[o] - t : t;
            wsum += w;
            w2 += w * w;
            if (mode !== 2) for (let f = 0; f < k; f++) out[o_l + f] += w * fixed[qo + f];
            if (mode === 3) for (let f = 0; f < k; f++) diag[at + f] += fixed[qo + f] * fixed[qo + f];
          }
          out[o_l + kp] += wsum;
          out[o_l + kp + 1] += w2;
          cursor[l] = j;
        }
      }
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
  /** {@link cgOptions} with the Jacobi preconditioner {@link diagonal}. */
  private readonly jacobiOptions: ConjugateGradientOptions;
  private readonly start: Float64Array;
  private readonly residual: Float64Array;
  private readonly delta: Float64Array;
  private readonly apply: LinearOperator;
  /** Jacobi-preconditioned CG ({@link AlsRowParams.preconditioner}). */
  private readonly jacobi: boolean;
  // The preconditioned solve's vectors: M = diag(A), z = M⁻¹r, p, A p.
  /** diag(A) of the current row (Jacobi preconditioner), summed by the residual pass. */
  private readonly diagonal: Float64Array;
  // The row the operator multiplies by (set before each CG solve).
  private rowSide: AlsSide;
  private fixedSide: AlsSide;
  private rowBegin = 0;
  private rowEnd = 0;
  private rowRegBias: number;
  // The blocked half step's arrays (made on first use) and its CG vectors (rows of k + 1 f64).
  private block: AlsBlockState | null = null;
  private blockCg: {
    r: Float64Array;
    r0: Float64Array;
    p: Float64Array;
    x: Float64Array;
    g: Float64Array;
    m: Float64Array;
    rr: Float64Array;
    xx: Float64Array;
    e0: Float64Array;
    active: Uint8Array;
  } | null = null;

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
    this.jacobi = params.solver === 'cg' && params.preconditioner === 'jacobi';
    this.diagonal = new Float64Array(k + 1);
    this.jacobiOptions = { ...this.cgOptions, diagonal: this.diagonal };
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
    if (k > 0 && this.ridge === null) this.passes.chunk(rows, from, to);
    if (!byUser && k > 0 && this.ridge === null && (this.params.movieBlockRows ?? 0) > 0) return this.solveBlocked(rows, fixedSide, from, to, withSse);
    if (k > 0 && this.ridge === null && this.passes.cgRows) return this.passes.cgRows(rows, fixedSide, from, to, reg, regBias, this.params.cgSteps, this.jacobi, withSse);
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
    // r₀ = Σ_j (y_j − x_j·z₀)·x_j − D·z₀ (and with Jacobi, diag(Σ_j x_j x_jᵀ) in the same pass).
    const m = this.jacobi ? this.diagonal : undefined;
    this.passes.pass(true, rows, fixedSide, begin, end, z, r, m);
    for (let f = 0; f < k; f++) r[f] -= reg * z[f];
    r[k] -= regBias * z[k];
    this.rowSide = rows;
    this.fixedSide = fixedSide;
    this.rowBegin = begin;
    this.rowEnd = end;
    const delta = this.delta;
    delta.fill(0);
    if (m) {
      for (let f = 0; f < k; f++) m[f] += reg;
      m[k] = end - begin + regBias;
    }
    this.cg.solve(this.apply, r, delta, m ? this.jacobiOptions : this.cgOptions);
    for (let f = 0; f < k; f++) solved[at + f] = z[f] + delta[f];
    rows.bias[a] = z[k] + delta[k];
  }

  /**
   * The blocked half step: the same CG as {@link solveCg} (warm start, `cgSteps` steps of
   * {@link ConjugateGradient}'s recurrence with tolerance 0) for all rows `from .. to−1` at once,
   * each product one pass over the chunk's ratings in blocks of `movieBlockRows` fixed rows (for
   * each block, every row's ratings by that block's rows: the block stays in cache for the whole
   * chunk). Σ e² (withSse) costs no pass: it follows from the residual pass's Σ e₀² and the CG
   * vectors (see the identity below), i.e. the Σ e² of the f64 solution z₀ + δ, which the f32
   * factor rows then store rounded.
   */
  private solveBlocked(rows: AlsSide, fixedSide: AlsSide, from: number, to: number, withSse: boolean): number {
    const k = this.factors;
    const kp = this.kp;
    const k1 = k + 1;
    const S = kp + 2;
    const n = to - from;
    const reg = this.params.reg;
    const regBias = this.rowRegBias;
    if (n > ALS_BLOCK_CHUNK_ROWS) throw new RangeError(`AlsRowKernel: a blocked chunk holds at most ${ALS_BLOCK_CHUNK_ROWS} rows, got ${n}`);
    this.block ??= this.passes.blockState(ALS_BLOCK_CHUNK_ROWS);
    const cgState = (this.blockCg ??= {
      r: new Float64Array(ALS_BLOCK_CHUNK_ROWS * k1),
      r0: new Float64Array(ALS_BLOCK_CHUNK_ROWS * k1),
      p: new Float64Array(ALS_BLOCK_CHUNK_ROWS * k1),
      x: new Float64Array(ALS_BLOCK_CHUNK_ROWS * k1),
      // XᵀX δ and ‖Xδ‖² of the solution δ so far (for Σ e² after the last step, which forms no XᵀXp).
      g: new Float64Array(ALS_BLOCK_CHUNK_ROWS * k1),
      // The Jacobi preconditioner's diag(A).
      m: new Float64Array(ALS_BLOCK_CHUNK_ROWS * k1),
      rr: new Float64Array(ALS_BLOCK_CHUNK_ROWS),
      xx: new Float64Array(ALS_BLOCK_CHUNK_ROWS),
      e0: new Float64Array(ALS_BLOCK_CHUNK_ROWS),
      active: new Uint8Array(ALS_BLOCK_CHUNK_ROWS),
    });
    const s = this.block;
    const { v, vb, out, cursor, diag } = s;
    const jacobi = this.jacobi;
    const { r, r0, p, x, g, m, rr, xx, e0, active } = cgState;
    const { ptr, factors: solved, bias: solvedBias } = rows;
    const blockRows = this.params.movieBlockRows!;
    const run = (mode: AlsBlockMode): void => {
      for (let l = 0; l < n; l++) cursor[l] = active[l] ? ptr[from + l] : ptr[from + l + 1];
      out.fill(0, 0, n * S);
      if (mode === 3) diag.fill(0, 0, n * kp);
      this.passes.blockRun(mode, rows, fixedSide, from, to, blockRows, s);
    };
    // v ← each row's current values; every row with ratings takes part in the next pass.
    const current = (): void => {
      for (let l = 0; l < n; l++) {
        const at = (from + l) * kp;
        for (let f = 0; f < kp; f++) v[l * kp + f] = solved[at + f];
        vb[l] = solvedBias[from + l];
        active[l] = ptr[from + l] < ptr[from + l + 1] ? 1 : 0;
      }
    };
    // r₀ = Σ_j (y_j − x_j·z₀)·x_j − D·z₀ from the current values z₀ (with Jacobi also diag(A) into
    // m); then p = r₀ (Jacobi: M⁻¹r₀), δ = 0; rr holds rᵀr (Jacobi: rᵀM⁻¹r).
    current();
    run(jacobi ? 3 : 1);
    for (let l = 0; l < n; l++) {
      const c = l * k1;
      x.fill(0, c, c + k1);
      g.fill(0, c, c + k1);
      xx[l] = 0;
      e0[l] = out[l * S + kp + 1];
      if (!active[l]) continue;
      let sum = 0;
      for (let f = 0; f <= k; f++) {
        const rf = out[l * S + (f < k ? f : kp)] - (f < k ? reg * v[l * kp + f] : regBias * vb[l]);
        r[c + f] = rf;
        r0[c + f] = rf;
        if (jacobi) m[c + f] = f < k ? diag[l * kp + f] + reg : ptr[from + l + 1] - ptr[from + l] + regBias;
        const zf = jacobi ? rf / m[c + f] : rf;
        p[c + f] = zf;
        sum += rf * zf;
      }
      rr[l] = sum;
      if (!(Math.sqrt(sum) > 0)) active[l] = 0;
    }
    const steps = this.params.cgSteps;
    for (let step = 0; step < steps; step++) {
      // The last step needs only pᵀAp = Σ (x·p)² + pᵀDp for its α (r and p are not used after it): a pass of dots alone.
      const last = step + 1 === steps;
      let any = false;
      for (let l = 0; l < n; l++) {
        if (!active[l]) continue;
        any = true;
        const c = l * k1;
        for (let f = 0; f < k; f++) v[l * kp + f] = p[c + f];
        for (let f = k; f < kp; f++) v[l * kp + f] = 0;
        vb[l] = p[c + k];
      }
      if (!any) break;
      run(last ? 2 : 0);
      for (let l = 0; l < n; l++) {
        if (!active[l]) continue;
        const c = l * k1;
        const o = l * S;
        // pᵀXᵀXp (Σ (x·p)², the pass's Σ w²), pᵀ(XᵀX δ) with δ the solution so far, and pᵀAp.
        const pxxp = out[o + kp + 1];
        let pg = 0;
        let pap = pxxp;
        for (let f = 0; f <= k; f++) {
          const pf = p[c + f];
          pg += pf * g[c + f];
          pap += (f < k ? reg : regBias) * pf * pf;
        }
        if (!(pap > 0)) {
          active[l] = 0;
          continue;
        }
        const alpha = rr[l] / pap;
        // ‖X(δ + αp)‖² = ‖Xδ‖² + 2α pᵀXᵀXδ + α² ‖Xp‖².
        xx[l] += 2 * alpha * pg + alpha * alpha * pxxp;
        if (last) {
          for (let f = 0; f <= k; f++) x[c + f] += alpha * p[c + f];
          continue;
        }
        // One step of the recurrence, Ap = XᵀXp + Dp; g = XᵀXδ follows δ.
        let rrNew = 0;
        for (let f = 0; f <= k; f++) {
          const pf = p[c + f];
          const xxp = out[o + (f < k ? f : kp)];
          x[c + f] += alpha * pf;
          g[c + f] += alpha * xxp;
          const rf = r[c + f] - alpha * (xxp + (f < k ? reg : regBias) * pf);
          r[c + f] = rf;
          rrNew += rf * (jacobi ? rf / m[c + f] : rf);
        }
        const beta = rrNew / rr[l];
        for (let f = 0; f <= k; f++) p[c + f] = (jacobi ? r[c + f] / m[c + f] : r[c + f]) + beta * p[c + f];
        rr[l] = rrNew;
        if (!(Math.sqrt(rrNew) > 0)) active[l] = 0;
      }
    }
    // Σ e² with the new values z₀ + δ without another pass: e = e₀ − Xδ, so Σ e² = Σ e₀² − 2δ·Xᵀe₀ + ‖Xδ‖²
    // with Xᵀe₀ = r₀ + Dz₀; Σ e₀² is the residual pass's Σ w², ‖Xδ‖² was followed step by step. Exact in
    // exact arithmetic; here it differs from a pass over the stored (f32) values by rounding only.
    let sse = 0;
    for (let l = 0; l < n; l++) {
      const a = from + l;
      const at = a * kp;
      const c = l * k1;
      if (ptr[a] === ptr[a + 1]) {
        // No ratings: the ridge solution is 0.
        for (let f = 0; f < k; f++) solved[at + f] = 0;
        solvedBias[a] = 0;
        continue;
      }
      let rowSse = e0[l] + xx[l];
      for (let f = 0; f <= k; f++) {
        const d = x[c + f];
        const z0 = f < k ? solved[at + f] : solvedBias[a];
        rowSse -= 2 * d * (r0[c + f] + (f < k ? reg : regBias) * z0);
      }
      if (withSse) sse += Math.max(0, rowSse);
      for (let f = 0; f < k; f++) solved[at + f] += x[c + f];
      solvedBias[a] += x[c + k];
    }
    return sse;
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
