import type { Objective } from './objective';

export interface GradientCheckOptions {
  /** Relative step: component i is perturbed by h = epsilon·max(1, |xᵢ|). Default 1e-6. */
  epsilon?: number;
  /** Components to check. Default all. */
  indices?: number[];
}

export interface GradientCheckResult {
  /** max over checked i of |gᵢ − ĝᵢ|, g the analytic and ĝ the central-difference gradient. */
  maxAbsError: number;
  /** max over checked i of |gᵢ − ĝᵢ| / max(1, |gᵢ|, |ĝᵢ|) (relative for large components, absolute for small). */
  maxRelError: number;
  /** Component with the largest relative error (−1 when nothing was checked). */
  worstIndex: number;
}

/**
 * Compares the objective's analytic gradient at x with central differences
 *   ĝᵢ = (f(x + h·eᵢ) − f(x − h·eᵢ)) / (2h),   h = epsilon·max(1, |xᵢ|),
 * whose truncation error is O(h²). With the default epsilon a correct gradient of a smooth f of
 * moderate scale shows relative errors around 1e-8 or below; an error above ~1e-4 means a bug.
 * `x` is not modified (a copy is perturbed). Costs 1 + 2·(checked components) evaluations.
 */
export function checkGradient(objective: Objective, x: Float64Array, options: GradientCheckOptions = {}): GradientCheckResult {
  const epsilon = options.epsilon ?? 1e-6;
  if (!(epsilon > 0)) throw new RangeError(`checkGradient: epsilon must be > 0, got ${epsilon}`);
  const n = x.length;
  const indices = options.indices;
  const count = indices ? indices.length : n;
  const point = Float64Array.from(x);
  const analytic = new Float64Array(n);
  const scratch = new Float64Array(n);
  objective(point, analytic);

  let maxAbsError = 0;
  let maxRelError = 0;
  let worstIndex = -1;
  for (let k = 0; k < count; k++) {
    const i = indices ? indices[k] : k;
    if (!(Number.isInteger(i) && i >= 0 && i < n)) {
      throw new RangeError(`checkGradient: index ${i} (indices[${k}]) is outside 0..${n - 1}`);
    }
    const original = point[i];
    const h = epsilon * Math.max(1, Math.abs(original));
    point[i] = original + h;
    const fPlus = objective(point, scratch);
    point[i] = original - h;
    const fMinus = objective(point, scratch);
    point[i] = original;
    // Divide by the step actually represented in floating point, not the nominal h.
    const numeric = (fPlus - fMinus) / (original + h - (original - h));
    // A NaN (e.g. an objective that overflows) counts as an infinitely wrong component.
    const absError = nanToInfinity(Math.abs(analytic[i] - numeric));
    const relError = nanToInfinity(absError / Math.max(1, Math.abs(analytic[i]), Math.abs(numeric)));
    if (absError > maxAbsError) maxAbsError = absError;
    if (relError > maxRelError || worstIndex < 0) {
      maxRelError = relError;
      worstIndex = i;
    }
  }
  return { maxAbsError, maxRelError, worstIndex };
}

function nanToInfinity(v: number): number {
  return Number.isNaN(v) ? Infinity : v;
}
