import type { Objective } from './objective';

/** Parameters of {@link lineSearchStrongWolfe}; every field has the default given. */
export interface LineSearchOptions {
  /** Sufficient-decrease (Armijo) constant c₁ ∈ (0, c₂). Default 1e-4. */
  c1?: number;
  /** Curvature constant c₂ ∈ (c₁, 1). Default 0.9 (the usual choice for quasi-Newton methods). */
  c2?: number;
  /** Most objective evaluations one search may spend. Default 20. */
  maxEvaluations?: number;
  /** Largest step α the search may try. Default 1e20. */
  maxStep?: number;
}

/**
 * - `strong-wolfe`: the accepted step satisfies both strong Wolfe conditions.
 * - `sufficient-decrease`: only the Armijo condition holds (the step hit `maxStep`, or the
 *   evaluation budget ran out or the bracket collapsed after a decreasing step was found);
 *   the point is still strictly better than the start.
 * - `failed`: no step with sufficient decrease was found; `xOut`/`gOut` hold garbage.
 */
export type LineSearchStatus = 'strong-wolfe' | 'sufficient-decrease' | 'failed';

export interface LineSearchResult {
  status: LineSearchStatus;
  /** Accepted step α (0 when `failed`). */
  step: number;
  /** φ(α) = f(x + α·d) at the accepted step (f(x) when `failed`). */
  f: number;
  /** φ'(α) = ∇f(x + α·d)·d at the accepted step (φ'(0) when `failed`). */
  slope: number;
  /** Objective evaluations spent by this search. */
  evaluations: number;
}

const DEFAULT_C1 = 1e-4;
const DEFAULT_C2 = 0.9;
const DEFAULT_MAX_EVALUATIONS = 20;
const DEFAULT_MAX_STEP = 1e20;
/** Zoom trial points must lie this fraction of the bracket width away from its ends. */
const ZOOM_MARGIN = 0.1;
/** Extrapolation grows the step by a factor in [1 + 1.1, 1 + 4] of the last increment. */
const EXTRAPOLATE_MIN = 1.1;
const EXTRAPOLATE_MAX = 4;
/** A bracket narrower than this fraction of its ends cannot be split meaningfully in doubles. */
const BRACKET_RELATIVE_WIDTH_MIN = 1e-14;

/**
 * One-dimensional search along a descent direction d for a step α satisfying the STRONG Wolfe
 * conditions (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 3.5 + 3.6):
 *
 *   φ(α) ≤ φ(0) + c₁·α·φ'(0)          (sufficient decrease)
 *   |φ'(α)| ≤ c₂·|φ'(0)|               (curvature)
 *
 * with φ(α) = f(x + α·d). Phase 1 (bracketing) tries α = `initialStep`, then extrapolates with the
 * minimiser of the cubic through the last two points, clamped to [α + 1.1Δ, α + 4Δ] (Δ the last
 * increment) and to `maxStep`, until a trial fails sufficient decrease, stops decreasing, or has
 * φ' ≥ 0; that brackets an acceptable step. Phase 2 (zoom) keeps a bracket (α_lo, α_hi) where
 * α_lo is the best point satisfying sufficient decrease and φ'(α_lo)·(α_hi − α_lo) < 0, and tries
 * the cubic interpolant's minimiser (Hermite cubic through both ends' values and slopes); if that
 * falls within 10% of the bracket's ends (or does not exist) the quadratic through φ(α_lo),
 * φ'(α_lo), φ(α_hi), else bisection. A trial where φ or φ' is not finite counts as failing sufficient decrease, so accepted
 * points always have a finite value and gradient.
 *
 * Limitation: once the achievable decrease falls below the floating-point resolution of f
 * (about 1e-16·|f|), sufficient decrease cannot be verified and the search ends `failed`;
 * callers should stop there (L-BFGS reports `line-search-failed` and keeps its last point).
 *
 * On return `xOut`, `gOut` hold x + α·d and its gradient at the accepted α (when the budget runs
 * out with a decreasing α_lo that is not the last trial, α_lo is re-evaluated: the budget reserves
 * that evaluation). Allocates nothing but the returned result object.
 *
 * @param objective f, writing ∇f into its second argument
 * @param x start point (read only)
 * @param f0 f(x)
 * @param slope0 φ'(0) = ∇f(x)·d; must be negative (d a descent direction)
 * @param direction d (read only)
 * @param initialStep first trial α (> 0), clamped to `maxStep`
 * @param xOut receives x + α·d (length n, overwritten)
 * @param gOut receives ∇f(x + α·d) (length n, overwritten)
 */
export function lineSearchStrongWolfe(
  objective: Objective,
  x: Float64Array,
  f0: number,
  slope0: number,
  direction: Float64Array,
  initialStep: number,
  xOut: Float64Array,
  gOut: Float64Array,
  options: LineSearchOptions = {},
): LineSearchResult {
  const c1 = options.c1 ?? DEFAULT_C1;
  const c2 = options.c2 ?? DEFAULT_C2;
  const maxEvaluations = options.maxEvaluations ?? DEFAULT_MAX_EVALUATIONS;
  const maxStep = options.maxStep ?? DEFAULT_MAX_STEP;
  validateWolfeConstants(c1, c2);
  if (!(maxEvaluations >= 1)) throw new RangeError(`lineSearchStrongWolfe: maxEvaluations must be ≥ 1, got ${maxEvaluations}`);
  if (!(maxStep > 0)) throw new RangeError(`lineSearchStrongWolfe: maxStep must be > 0, got ${maxStep}`);
  if (!(slope0 < 0)) {
    throw new RangeError(`lineSearchStrongWolfe: direction is not a descent direction (∇f·d = ${slope0}, must be < 0)`);
  }
  if (!Number.isFinite(f0)) throw new RangeError(`lineSearchStrongWolfe: f(x) must be finite, got ${f0}`);
  if (!(initialStep > 0)) throw new RangeError(`lineSearchStrongWolfe: initialStep must be > 0, got ${initialStep}`);
  const n = x.length;
  if (direction.length !== n || xOut.length !== n || gOut.length !== n) {
    throw new RangeError(
      `lineSearchStrongWolfe: lengths differ (x ${n}, direction ${direction.length}, xOut ${xOut.length}, gOut ${gOut.length})`,
    );
  }

  const curvatureBound = -c2 * slope0; // c₂·|φ'(0)|
  // α_lo: best step so far satisfying sufficient decrease (0 = the start point).
  let stepLo = 0;
  let fLo = f0;
  let slopeLo = slope0;
  // α_hi: the other end of the bracket; +∞ while still bracketing (phase 1).
  let stepHi = Infinity;
  let fHi = NaN;
  let slopeHi = NaN;
  let step = Math.min(initialStep, maxStep);
  let lastEvaluatedStep = -1;
  let evaluations = 0;

  for (;;) {
    // Keep one evaluation in reserve to restore α_lo if it is not the last point evaluated.
    if (evaluations + (stepLo > 0 ? 2 : 1) > maxEvaluations) break;

    for (let i = 0; i < n; i++) xOut[i] = x[i] + step * direction[i];
    const f = objective(xOut, gOut);
    let slope = 0;
    for (let i = 0; i < n; i++) slope += gOut[i] * direction[i];
    evaluations++;
    lastEvaluatedStep = step;

    if (!(f <= f0 + c1 * step * slope0) || f >= fLo || !Number.isFinite(slope)) {
      // Too far (or outside the domain, where f or ∇f is not finite): the acceptable region
      // lies in (α_lo, α).
      stepHi = step;
      fHi = f;
      slopeHi = slope;
    } else {
      if (Math.abs(slope) <= curvatureBound) {
        return { status: 'strong-wolfe', step, f, slope, evaluations };
      }
      if (slope * (stepHi - stepLo) >= 0) {
        // φ turns up before α_hi (or, while bracketing, φ' ≥ 0): the old α_lo becomes α_hi.
        stepHi = stepLo;
        fHi = fLo;
        slopeHi = slopeLo;
      }
      const previousLo = stepLo;
      const fPrevious = fLo;
      const slopePrevious = slopeLo;
      stepLo = step;
      fLo = f;
      slopeLo = slope;
      if (stepHi === Infinity) {
        // Still decreasing: extrapolate (phase 1).
        if (step >= maxStep) return { status: 'sufficient-decrease', step, f, slope, evaluations };
        const increment = step - previousLo;
        const lower = step + EXTRAPOLATE_MIN * increment;
        const upper = step + EXTRAPOLATE_MAX * increment;
        let next = cubicMinimizer(previousLo, fPrevious, slopePrevious, step, f, slope);
        if (Number.isNaN(next) || next > upper) next = upper;
        else if (next < lower) next = lower;
        step = Math.min(next, maxStep);
        continue;
      }
    }

    // Phase 2 (zoom): next trial strictly inside the bracket.
    const left = Math.min(stepLo, stepHi);
    const right = Math.max(stepLo, stepHi);
    const width = right - left;
    if (width <= BRACKET_RELATIVE_WIDTH_MIN * right) break;
    const low = left + ZOOM_MARGIN * width;
    const high = right - ZOOM_MARGIN * width;
    let next = cubicMinimizer(stepLo, fLo, slopeLo, stepHi, fHi, slopeHi);
    if (!(next >= low && next <= high)) {
      next = quadraticMinimizer(stepLo, fLo, slopeLo, stepHi, fHi);
      if (!(next >= low && next <= high)) next = 0.5 * (left + right);
    }
    step = next;
  }

  if (stepLo > 0) {
    if (lastEvaluatedStep !== stepLo) {
      for (let i = 0; i < n; i++) xOut[i] = x[i] + stepLo * direction[i];
      fLo = objective(xOut, gOut);
      slopeLo = 0;
      for (let i = 0; i < n; i++) slopeLo += gOut[i] * direction[i];
      evaluations++;
    }
    return { status: 'sufficient-decrease', step: stepLo, f: fLo, slope: slopeLo, evaluations };
  }
  return { status: 'failed', step: 0, f: f0, slope: slope0, evaluations };
}

/** Throws unless 0 < c₁ < c₂ < 1. */
export function validateWolfeConstants(c1: number, c2: number): void {
  if (!(c1 > 0 && c1 < 1)) throw new RangeError(`Wolfe constant c1 must lie in (0, 1), got ${c1}`);
  if (!(c2 > c1 && c2 < 1)) throw new RangeError(`Wolfe constant c2 must lie in (c1 = ${c1}, 1), got ${c2}`);
}

/**
 * Minimiser of the cubic matching values and slopes at a and b (N&W eq. 3.59):
 *   d₁ = φ'(a) + φ'(b) − 3(φ(a) − φ(b))/(a − b),  d₂ = sign(b − a)·√(d₁² − φ'(a)φ'(b)),
 *   α = b − (b − a)·(φ'(b) + d₂ − d₁)/(φ'(b) − φ'(a) + 2d₂).
 * NaN when the cubic has no local minimiser (negative discriminant) or the formula degenerates.
 */
export function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const discriminant = d1 * d1 - da * db;
  if (!(discriminant >= 0)) return NaN;
  const d2 = (b > a ? 1 : -1) * Math.sqrt(discriminant);
  const denominator = db - da + 2 * d2;
  if (denominator === 0) return NaN;
  const result = b - ((b - a) * (db + d2 - d1)) / denominator;
  return Number.isFinite(result) ? result : NaN;
}

/**
 * Minimiser of the quadratic matching φ(a), φ'(a) and φ(b):
 *   α = a − φ'(a)(b − a)² / (2(φ(b) − φ(a) − φ'(a)(b − a))).
 * NaN when the quadratic is not convex.
 */
export function quadraticMinimizer(a: number, fa: number, da: number, b: number, fb: number): number {
  const h = b - a;
  const curvatureTimesH2 = fb - fa - da * h; // = c·h² for q(a + t) = fa + da·t + c·t²
  if (!(curvatureTimesH2 > 0)) return NaN;
  const result = a - (da * h * h) / (2 * curvatureTimesH2);
  return Number.isFinite(result) ? result : NaN;
}
