import type { Objective } from './objective';
import { lineSearchStrongWolfe, validateWolfeConstants, type LineSearchOptions, type LineSearchStatus } from './line-search';

/** What {@link LbfgsOptions.onIteration} receives after each accepted step. */
export interface LbfgsIteration {
  /** 1-based count of accepted steps. */
  iteration: number;
  /** f at the new point. */
  f: number;
  /** ‖∇f‖∞ at the new point. */
  gradNorm: number;
  /** Line-search step α along the search direction (which is not normalised). */
  step: number;
  /** Objective evaluations so far, including the one at x₀. */
  evaluations: number;
  /** How the line search ended for this step. */
  lineSearch: LineSearchStatus;
}

/** Parameters of {@link minimizeLbfgs}; every field has the default given. */
export interface LbfgsOptions {
  /** Number m of (s, y) correction pairs kept. Default 10. */
  memory?: number;
  /** Most accepted steps. Default 100. */
  maxIterations?: number;
  /** Most objective evaluations, the one at x₀ included. Default unlimited (each line search is capped anyway). */
  maxEvaluations?: number;
  /** Stop when ‖∇f‖∞ ≤ gradientTolerance·max(1, ‖x‖∞). Default 1e-5. */
  gradientTolerance?: number;
  /** Stop when (f_prev − f)/max(|f_prev|, |f|, 1) ≤ relativeTolerance. Default 1e-9; 0 disables. */
  relativeTolerance?: number;
  /** Armijo constant of the line search. Default 1e-4. */
  c1?: number;
  /** Curvature constant of the (strong Wolfe) line search. Default 0.9. */
  c2?: number;
  /** Most evaluations per line search. Default 20. */
  maxLineSearchEvaluations?: number;
  /** Called after each accepted step; returning `false` stops with reason `stopped`. */
  onIteration?: (it: LbfgsIteration) => void | boolean;
}

export type LbfgsStopReason =
  | 'gradient'
  | 'relative-decrease'
  | 'max-iterations'
  | 'max-evaluations'
  | 'line-search-failed'
  | 'stopped';

export interface LbfgsResult {
  /** Best point found (a new array; x₀ is never modified). */
  x: Float64Array;
  f: number;
  /** ‖∇f(x)‖∞. */
  gradNorm: number;
  /** Accepted steps. */
  iterations: number;
  /** Objective evaluations, the one at x₀ included. */
  evaluations: number;
  reason: LbfgsStopReason;
  /** True when the reason is `gradient` or `relative-decrease`. */
  converged: boolean;
}

const DEFAULT_MEMORY = 10;
const DEFAULT_MAX_ITERATIONS = 100;
const DEFAULT_GRADIENT_TOLERANCE = 1e-5;
const DEFAULT_RELATIVE_TOLERANCE = 1e-9;
const DEFAULT_C1 = 1e-4;
const DEFAULT_C2 = 0.9;
const DEFAULT_LINE_SEARCH_EVALUATIONS = 20;
/** A pair (s, y) is kept only when s·y > CURVATURE_EPSILON·‖y‖², which keeps H positive definite. */
const CURVATURE_EPSILON = 2.220446049250313e-16;

/**
 * Minimises a smooth f: ℝⁿ → ℝ by limited-memory BFGS (Nocedal & Wright, Numerical Optimization,
 * 2nd ed., Alg. 7.4 and 7.5): {@link Lbfgs} run to its end, calling `onIteration` after each
 * accepted step. See {@link Lbfgs} for the method, the stopping tests and the defaults.
 *
 * @throws RangeError on invalid options or when f(x₀) or ∇f(x₀) is not finite.
 */
export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const run = new Lbfgs(objective, x0, options);
  for (let it = run.step(); it !== null; it = run.step()) {
    const verdict = options.onIteration?.(it);
    // The convergence tests of the step take precedence over the caller's verdict.
    if (verdict === false && run.reason === null) run.stop();
  }
  return run.result();
}

/**
 * L-BFGS one accepted step at a time: {@link step} runs one iteration and returns its record,
 * or null once the run has stopped ({@link reason} then says why); {@link result} gives the point
 * reached. {@link minimizeLbfgs} is this run to its end; an epoch loop calls `step()` once per epoch.
 *
 * Each iteration k:
 * 1. Search direction d = −H·g by the two-loop recursion over the last m pairs
 *    sᵢ = xᵢ₊₁ − xᵢ, yᵢ = gᵢ₊₁ − gᵢ, ρᵢ = 1/(yᵢ·sᵢ), with initial Hessian approximation
 *    H⁰ = γI, γ = s·y / y·y of the newest pair. With no pairs (first iteration, or after a
 *    reset) d = −g and the first trial step is 1/‖g‖₂; otherwise it is 1.
 * 2. Step α by {@link lineSearchStrongWolfe} (strong Wolfe conditions with c₁, c₂).
 *    If it fails with a quasi-Newton direction, the memory is cleared and the iteration is retried
 *    once along −g; if that fails too the run stops with `line-search-failed` at the last point.
 * 3. The pair (s, y) is stored in a ring buffer unless s·y ≤ ε‖y‖² (ε = 2.2e-16), which would
 *    break positive definiteness; then the update is skipped.
 *
 * Stopping: after each step, `gradient` when ‖g‖∞ ≤ gradientTolerance·max(1, ‖x‖∞) (the
 * max(1, ·) keeps the test meaningful near x = 0), else `relative-decrease` when
 * (f_prev − f)/max(|f_prev|, |f|, 1) ≤ relativeTolerance (the step still counts); `stopped` by
 * {@link stop}; before a step, `max-iterations` and then `max-evaluations`. The gradient test is
 * also applied at x₀ (0 iterations).
 *
 * Memory: x, g, trial x, trial g, d (5n) and the ring buffers S, Y (2mn) are allocated once;
 * an iteration allocates only O(1) small objects (the line-search result, the iteration record).
 *
 * Defaults: m = 10, maxIterations = 100, gradientTolerance = 1e-5, relativeTolerance = 1e-9,
 * c₁ = 1e-4, c₂ = 0.9, 20 evaluations per line search, no overall evaluation limit.
 */
export class Lbfgs {
  /** Why the run stopped; null while it can take another step. */
  reason: LbfgsStopReason | null = null;
  /** f at the current point. */
  f: number;
  /** ‖∇f‖∞ at the current point. */
  gradNorm: number;
  /** Accepted steps so far. */
  iterations = 0;
  /** Objective evaluations so far, the one at x₀ included. */
  evaluations = 1;
  private x: Float64Array;
  private g: Float64Array;
  private xTrial: Float64Array;
  private gTrial: Float64Array;
  private readonly direction: Float64Array;
  private readonly sHistory: Float64Array;
  private readonly yHistory: Float64Array;
  private readonly rho: Float64Array;
  private readonly alpha: Float64Array;
  private pairCount = 0;
  private newest = -1; // slot of the newest pair
  private gamma = 1;
  private readonly memory: number;
  private readonly maxIterations: number;
  private readonly maxEvaluations: number;
  private readonly gradientTolerance: number;
  private readonly relativeTolerance: number;
  private readonly maxLineSearchEvaluations: number;
  private readonly lineSearchOptions: LineSearchOptions;

  /** Evaluates f(x₀) (x₀ is copied, never modified). @throws RangeError as {@link minimizeLbfgs}. */
  constructor(
    private readonly objective: Objective,
    x0: Float64Array,
    options: Omit<LbfgsOptions, 'onIteration'> = {},
  ) {
    const memory = (this.memory = options.memory ?? DEFAULT_MEMORY);
    const maxIterations = (this.maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS);
    const maxEvaluations = (this.maxEvaluations = options.maxEvaluations ?? Infinity);
    const gradientTolerance = (this.gradientTolerance = options.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE);
    const relativeTolerance = (this.relativeTolerance = options.relativeTolerance ?? DEFAULT_RELATIVE_TOLERANCE);
    const c1 = options.c1 ?? DEFAULT_C1;
    const c2 = options.c2 ?? DEFAULT_C2;
    const maxLineSearchEvaluations = (this.maxLineSearchEvaluations = options.maxLineSearchEvaluations ?? DEFAULT_LINE_SEARCH_EVALUATIONS);

    if (!(Number.isInteger(memory) && memory >= 1)) throw new RangeError(`minimizeLbfgs: memory must be an integer ≥ 1, got ${memory}`);
    if (!(maxIterations >= 0)) throw new RangeError(`minimizeLbfgs: maxIterations must be ≥ 0, got ${maxIterations}`);
    if (!(maxEvaluations >= 1)) throw new RangeError(`minimizeLbfgs: maxEvaluations must be ≥ 1, got ${maxEvaluations}`);
    if (!(gradientTolerance >= 0)) throw new RangeError(`minimizeLbfgs: gradientTolerance must be ≥ 0, got ${gradientTolerance}`);
    if (!(relativeTolerance >= 0)) throw new RangeError(`minimizeLbfgs: relativeTolerance must be ≥ 0, got ${relativeTolerance}`);
    if (!(maxLineSearchEvaluations >= 1)) {
      throw new RangeError(`minimizeLbfgs: maxLineSearchEvaluations must be ≥ 1, got ${maxLineSearchEvaluations}`);
    }
    validateWolfeConstants(c1, c2);

    const n = x0.length;
    this.x = Float64Array.from(x0);
    this.g = new Float64Array(n);
    this.xTrial = new Float64Array(n);
    this.gTrial = new Float64Array(n);
    this.direction = new Float64Array(n);
    // Ring buffers: pair j occupies [j·n, (j+1)·n) of S and Y.
    this.sHistory = new Float64Array(memory * n);
    this.yHistory = new Float64Array(memory * n);
    this.rho = new Float64Array(memory);
    this.alpha = new Float64Array(memory);
    this.lineSearchOptions = { c1, c2, maxEvaluations: maxLineSearchEvaluations, maxStep: 1e20 };

    this.f = objective(this.x, this.g);
    if (!Number.isFinite(this.f)) throw new RangeError(`minimizeLbfgs: f(x₀) is not finite (${this.f})`);
    this.gradNorm = infinityNorm(this.g);
    if (!Number.isFinite(this.gradNorm)) throw new RangeError(`minimizeLbfgs: ∇f(x₀) is not finite (‖g‖∞ = ${this.gradNorm})`);
    if (this.gradNorm <= gradientTolerance * Math.max(1, infinityNorm(this.x))) this.reason = 'gradient';
  }

  /** The current point (the run's own array: read it, copy it to keep it). */
  get point(): Float64Array {
    return this.x;
  }

  /** Takes one accepted step; null when the run has stopped or stops now without a step. */
  step(): LbfgsIteration | null {
    if (this.reason !== null) return null;
    if (this.iterations >= this.maxIterations) {
      this.reason = 'max-iterations';
      return null;
    }
    if (this.evaluations >= this.maxEvaluations) {
      this.reason = 'max-evaluations';
      return null;
    }
    const { objective, direction, memory, maxEvaluations, maxLineSearchEvaluations, lineSearchOptions } = this;
    const n = this.x.length;
    const x = this.x;
    const g = this.g;

    let slope = computeDirection(direction, g, this.sHistory, this.yHistory, this.rho, this.alpha, this.pairCount, this.newest, memory, n, this.gamma);
    let initialStep = 1;
    if (this.pairCount === 0 || !(slope < 0)) {
      // Steepest descent: first iteration, or H lost positive definiteness numerically.
      this.pairCount = 0;
      slope = steepestDescent(direction, g);
      initialStep = 1 / Math.sqrt(-slope);
    }
    if (slope === 0) {
      this.reason = 'gradient'; // g = 0 exactly (only reachable with tolerance 0)
      return null;
    }

    lineSearchOptions.maxEvaluations = Math.min(maxLineSearchEvaluations, maxEvaluations - this.evaluations);
    let search = lineSearchStrongWolfe(objective, x, this.f, slope, direction, initialStep, this.xTrial, this.gTrial, lineSearchOptions);
    this.evaluations += search.evaluations;
    if (search.status === 'failed' && this.pairCount > 0 && this.evaluations < maxEvaluations) {
      this.pairCount = 0;
      slope = steepestDescent(direction, g);
      lineSearchOptions.maxEvaluations = Math.min(maxLineSearchEvaluations, maxEvaluations - this.evaluations);
      search = lineSearchStrongWolfe(objective, x, this.f, slope, direction, 1 / Math.sqrt(-slope), this.xTrial, this.gTrial, lineSearchOptions);
      this.evaluations += search.evaluations;
    }
    if (search.status === 'failed') {
      this.reason = this.evaluations >= maxEvaluations ? 'max-evaluations' : 'line-search-failed';
      return null;
    }

    // Keep s = x_new − x, y = g_new − g (in the ring slot after the newest) only when the
    // curvature s·y is positive enough; a skipped pair must not overwrite the oldest kept pair.
    const xTrial = this.xTrial;
    const gTrial = this.gTrial;
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const s = xTrial[i] - x[i];
      const y = gTrial[i] - g[i];
      sy += s * y;
      yy += y * y;
    }
    if (sy > CURVATURE_EPSILON * yy && yy > 0) {
      const slot = this.newest === memory - 1 ? 0 : this.newest + 1;
      const base = slot * n;
      for (let i = 0; i < n; i++) {
        this.sHistory[base + i] = xTrial[i] - x[i];
        this.yHistory[base + i] = gTrial[i] - g[i];
      }
      this.rho[slot] = 1 / sy;
      this.gamma = sy / yy;
      this.newest = slot;
      if (this.pairCount < memory) this.pairCount++;
    }

    const fPrevious = this.f;
    this.x = xTrial;
    this.xTrial = x;
    this.g = gTrial;
    this.gTrial = g;
    this.f = search.f;
    this.gradNorm = infinityNorm(this.g);
    this.iterations++;

    if (this.gradNorm <= this.gradientTolerance * Math.max(1, infinityNorm(this.x))) this.reason = 'gradient';
    else if ((fPrevious - this.f) / Math.max(Math.abs(fPrevious), Math.abs(this.f), 1) <= this.relativeTolerance) this.reason = 'relative-decrease';
    return { iteration: this.iterations, f: this.f, gradNorm: this.gradNorm, step: search.step, evaluations: this.evaluations, lineSearch: search.status };
  }

  /** Ends the run with reason `stopped` (no effect once it has stopped). */
  stop(): void {
    if (this.reason === null) this.reason = 'stopped';
  }

  /** The point reached and how the run ended (`stopped` if it was still running). */
  result(): LbfgsResult {
    const reason = this.reason ?? 'stopped';
    return {
      x: this.x,
      f: this.f,
      gradNorm: this.gradNorm,
      iterations: this.iterations,
      evaluations: this.evaluations,
      reason,
      converged: reason === 'gradient' || reason === 'relative-decrease',
    };
  }
}

/**
 * Two-loop recursion: writes d = −H·g into `direction`, H the L-BFGS inverse-Hessian
 * approximation from the `pairCount` newest pairs (newest in slot `newest`) and H⁰ = γI.
 * Returns g·d.
 */
function computeDirection(
  direction: Float64Array,
  g: Float64Array,
  sHistory: Float64Array,
  yHistory: Float64Array,
  rho: Float64Array,
  alpha: Float64Array,
  pairCount: number,
  newest: number,
  memory: number,
  n: number,
  gamma: number,
): number {
  for (let i = 0; i < n; i++) direction[i] = -g[i];
  if (pairCount === 0) return dot(direction, g, n);
  // First loop, newest to oldest: αᵢ = ρᵢ sᵢ·q, q ← q − αᵢ yᵢ.
  let slot = newest;
  for (let k = 0; k < pairCount; k++) {
    const base = slot * n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += sHistory[base + i] * direction[i];
    const a = rho[slot] * sq;
    alpha[slot] = a;
    for (let i = 0; i < n; i++) direction[i] -= a * yHistory[base + i];
    slot = slot === 0 ? memory - 1 : slot - 1;
  }
  for (let i = 0; i < n; i++) direction[i] *= gamma;
  // Second loop, oldest to newest: β = ρᵢ yᵢ·r, r ← r + sᵢ(αᵢ − β).
  for (let k = 0; k < pairCount; k++) {
    slot = slot === memory - 1 ? 0 : slot + 1;
    const base = slot * n;
    let yr = 0;
    for (let i = 0; i < n; i++) yr += yHistory[base + i] * direction[i];
    const coefficient = alpha[slot] - rho[slot] * yr;
    for (let i = 0; i < n; i++) direction[i] += coefficient * sHistory[base + i];
  }
  return dot(direction, g, n);
}

/** d = −g; returns g·d = −‖g‖². */
function steepestDescent(direction: Float64Array, g: Float64Array): number {
  const n = g.length;
  let slope = 0;
  for (let i = 0; i < n; i++) {
    direction[i] = -g[i];
    slope -= g[i] * g[i];
  }
  return slope;
}

function dot(a: Float64Array, b: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
}

/** max |vᵢ| (0 for an empty vector, NaN if any component is NaN). */
export function infinityNorm(v: Float64Array): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > max) max = a;
    else if (a !== a) return NaN;
  }
  return max;
}
