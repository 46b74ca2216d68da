import { Lbfgs, minimizeLbfgs, type LbfgsIteration } from './lbfgs';
import type { Objective } from './objective';
import { dot, rosenbrock2 } from '../test/functions';
import { gaussianSolve, randomSpdSystem } from '@recsys/testing';

/** Extended Rosenbrock (Moré, Garbow & Hillstrom): Σ over pairs (x₂ᵢ, x₂ᵢ₊₁) of the 2-D function; minimum 0 at 1. */
const extendedRosenbrock: Objective = (x, g) => {
  let f = 0;
  for (let i = 0; i < x.length; i += 2) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    g[i] = -400 * x[i] * a - 2 * b;
    g[i + 1] = 200 * a;
    f += 100 * a * a + b * b;
  }
  return f;
};

/** f(x) = ½xᵀAx − bᵀx, ∇f = Ax − b. */
function quadratic(A: Float64Array, b: Float64Array, n: number): Objective {
  return (x, g) => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      let ax = 0;
      for (let j = 0; j < n; j++) ax += A[i * n + j] * x[j];
      g[i] = ax - b[i];
      f += 0.5 * x[i] * ax - b[i] * x[i];
    }
    return f;
  };
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/**
 * Runs L-BFGS while checking, independently of the optimiser's own bookkeeping, that every
 * accepted step p = x_{k+1} − x_k satisfies the strong Wolfe conditions (they are invariant to
 * how p is split into α·d): f(x_{k+1}) ≤ f(x_k) + c₁ ∇f(x_k)·p and |∇f(x_{k+1})·p| ≤ c₂ |∇f(x_k)·p|.
 */
function runCheckingWolfe(objective: Objective, x0: Float64Array, c1: number, c2: number, options = {}) {
  const n = x0.length;
  const lastX = new Float64Array(n);
  let lastF = NaN;
  const recording: Objective = (x, g) => {
    lastX.set(x);
    lastF = objective(x, g);
    return lastF;
  };
  let previousX = Float64Array.from(x0);
  let previousG = new Float64Array(n);
  let previousF = objective(previousX, previousG);
  const violations: string[] = [];
  const statuses: string[] = [];
  const result = minimizeLbfgs(recording, x0, {
    c1,
    c2,
    ...options,
    onIteration: (it: LbfgsIteration) => {
      statuses.push(it.lineSearch);
      // The accepted point is the last one evaluated; re-evaluate it ourselves.
      expect(it.f).toBe(lastF);
      const x = Float64Array.from(lastX);
      const g = new Float64Array(n);
      const f = objective(x, g);
      const p = new Float64Array(n);
      for (let i = 0; i < n; i++) p[i] = x[i] - previousX[i];
      const slope0 = dot(previousG, p);
      const slope1 = dot(g, p);
      const tolerance = 1e-12 * Math.max(1, Math.abs(previousF));
      if (!(slope0 < 0)) violations.push(`iteration ${it.iteration}: not a descent step (${slope0})`);
      if (!(f <= previousF + c1 * slope0 + tolerance)) violations.push(`iteration ${it.iteration}: Armijo fails`);
      if (!(Math.abs(slope1) <= c2 * Math.abs(slope0) + 1e-12)) violations.push(`iteration ${it.iteration}: curvature fails`);
      previousX = x;
      previousG = g;
      previousF = f;
    },
  });
  return { result, violations, statuses };
}

describe('minimizeLbfgs', () => {
  it('minimises 2-D Rosenbrock from (−1.2, 1) to (1, 1) within 1e-6, every step strong Wolfe', () => {
    const { result, violations, statuses } = runCheckingWolfe(rosenbrock2, Float64Array.of(-1.2, 1), 1e-4, 0.9, {
      gradientTolerance: 1e-10,
      relativeTolerance: 0,
      maxIterations: 500,
    });
    expect(result.reason).toBe('gradient');
    expect(result.converged).toBe(true);
    expect(maxAbsDifference(result.x, [1, 1])).toBeLessThan(1e-6);
    expect(result.f).toBeLessThan(1e-12);
    expect(result.iterations).toBeLessThan(100); // N&W report ~35–45 iterations for L-BFGS here
    expect(violations).toEqual([]);
    expect(statuses.every((s) => s === 'strong-wolfe')).toBe(true);
  });

  it('converges on 2-D Rosenbrock with the default options', () => {
    const result = minimizeLbfgs(rosenbrock2, Float64Array.of(-1.2, 1));
    expect(result.converged).toBe(true);
    expect(maxAbsDifference(result.x, [1, 1])).toBeLessThan(1e-3);
  });

  it('minimises extended Rosenbrock with n = 100 to within 1e-6 of all-ones', () => {
    const n = 100;
    const x0 = new Float64Array(n);
    for (let i = 0; i < n; i += 2) {
      x0[i] = -1.2;
      x0[i + 1] = 1;
    }
    const { result, violations, statuses } = runCheckingWolfe(extendedRosenbrock, x0, 1e-4, 0.9, {
      gradientTolerance: 1e-10,
      relativeTolerance: 0,
      maxIterations: 2000,
    });
    expect(result.reason).toBe('gradient');
    const ones = new Float64Array(n).fill(1);
    expect(maxAbsDifference(result.x, ones)).toBeLessThan(1e-6);
    expect(violations).toEqual([]);
    expect(statuses.every((s) => s === 'strong-wolfe')).toBe(true);
    // x0 untouched
    expect(x0[0]).toBe(-1.2);
  });

  it.each([
    [5, 1, 10],
    [30, 2, 10],
    [60, 3, 5],
    [40, 4, 40],
  ])('finds x* = A⁻¹b of a random SPD quadratic (n = %i, seed %i, m = %i), strong Wolfe throughout', (n, seed, memory) => {
    const { A, b } = randomSpdSystem(n, seed);
    const expected = gaussianSolve(A, b, n);
    const { result, violations, statuses } = runCheckingWolfe(quadratic(A, b, n), new Float64Array(n), 1e-4, 0.9, {
      memory,
      gradientTolerance: 1e-7,
      relativeTolerance: 0,
      maxIterations: 1000,
    });
    expect(result.reason).toBe('gradient');
    // A = MᵀM + I has λ_min ≥ 1, so ‖x − x*‖₂ = ‖A⁻¹g‖₂ ≤ ‖g‖₂ ≤ √n‖g‖∞.
    expect(maxAbsDifference(result.x, expected)).toBeLessThanOrEqual(Math.sqrt(n) * result.gradNorm);
    expect(maxAbsDifference(result.x, expected)).toBeLessThan(1e-5);
    // f(x*) = −½ bᵀx*
    expect(result.f).toBeCloseTo(-0.5 * dot(b, expected), 10);
    expect(violations).toEqual([]);
    expect(statuses.every((s) => s === 'strong-wolfe')).toBe(true);
  });

  it('at the floating-point limit of f it stops without losing the best point', () => {
    // With no tolerance the decrease eventually falls below the resolution of f (≈1e-15·|f|),
    // sufficient decrease cannot be verified, and the search gives up at the last accepted point.
    const n = 30;
    const { A, b } = randomSpdSystem(n, 2);
    const expected = gaussianSolve(A, b, n);
    const result = minimizeLbfgs(quadratic(A, b, n), new Float64Array(n), {
      gradientTolerance: 0,
      relativeTolerance: 0,
      maxIterations: 1000,
    });
    expect(['line-search-failed', 'relative-decrease']).toContain(result.reason);
    expect(maxAbsDifference(result.x, expected)).toBeLessThan(1e-6);
    const g = new Float64Array(n);
    expect(quadratic(A, b, n)(result.x, g)).toBe(result.f);
  });

  it('keeps strong Wolfe with a tight curvature constant c2 = 0.1', () => {
    const { result, violations, statuses } = runCheckingWolfe(rosenbrock2, Float64Array.of(-1.2, 1), 1e-4, 0.1, {
      gradientTolerance: 1e-9,
      relativeTolerance: 0,
      maxIterations: 500,
    });
    expect(result.converged).toBe(true);
    expect(violations).toEqual([]);
    expect(statuses.every((s) => s === 'strong-wolfe')).toBe(true);
  });

  it('stops with max-iterations after exactly maxIterations steps', () => {
    const result = minimizeLbfgs(rosenbrock2, Float64Array.of(-1.2, 1), { maxIterations: 3 });
    expect(result.reason).toBe('max-iterations');
    expect(result.iterations).toBe(3);
    expect(result.converged).toBe(false);
    expect(result.f).toBeLessThan(24.2); // f(−1.2, 1) = 24.2, and every step decreases f
  });

  it('stops with gradient at 0 iterations when started at the minimum', () => {
    const result = minimizeLbfgs(rosenbrock2, Float64Array.of(1, 1));
    expect(result).toMatchObject({ reason: 'gradient', iterations: 0, evaluations: 1, f: 0, gradNorm: 0, converged: true });
  });

  it('stops with max-evaluations without exceeding the budget', () => {
    let calls = 0;
    const counted: Objective = (x, g) => {
      calls++;
      return rosenbrock2(x, g);
    };
    const result = minimizeLbfgs(counted, Float64Array.of(-1.2, 1), { maxEvaluations: 7 });
    expect(result.reason).toBe('max-evaluations');
    expect(result.evaluations).toBe(calls);
    expect(calls).toBeLessThanOrEqual(7);
  });

  it('stops with relative-decrease when f stalls', () => {
    const result = minimizeLbfgs(rosenbrock2, Float64Array.of(-1.2, 1), { gradientTolerance: 0, relativeTolerance: 1e-3 });
    expect(result.reason).toBe('relative-decrease');
    expect(result.converged).toBe(true);
  });

  it('stops with stopped when onIteration returns false, and reports each iteration', () => {
    const seen: number[] = [];
    const result = minimizeLbfgs(rosenbrock2, Float64Array.of(-1.2, 1), {
      onIteration: (it) => {
        seen.push(it.iteration);
        return it.iteration < 4;
      },
    });
    expect(result.reason).toBe('stopped');
    expect(result.iterations).toBe(4);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('reports line-search-failed when the gradient is wrong (sign of one component flipped)', () => {
    // The "gradient" points uphill in y, so no step along −g decreases f enough at a point where
    // the y-term dominates.
    const wrong: Objective = (x, g) => {
      const f = rosenbrock2(x, g);
      g[1] = -g[1];
      g[0] = 0;
      return f;
    };
    const result = minimizeLbfgs(wrong, Float64Array.of(0, 1));
    expect(result.reason).toBe('line-search-failed');
    expect(result.converged).toBe(false);
    expect(Array.from(result.x)).toEqual([0, 1]);
  });

  it('rejects invalid options and a non-finite start', () => {
    expect(() => minimizeLbfgs(rosenbrock2, Float64Array.of(0, 0), { memory: 0 })).toThrow(/memory/);
    expect(() => minimizeLbfgs(rosenbrock2, Float64Array.of(0, 0), { c1: 0.5, c2: 0.4 })).toThrow(/c2/);
    expect(() => minimizeLbfgs(() => NaN, Float64Array.of(0, 0))).toThrow(/f\(x₀\) is not finite/);
    const nanGradient: Objective = (_x, g) => {
      g[0] = NaN;
      g[1] = 0;
      return 1;
    };
    expect(() => minimizeLbfgs(nanGradient, Float64Array.of(0, 0))).toThrow(/∇f\(x₀\) is not finite/);
  });
});

describe('Lbfgs, one step at a time', () => {
  it('takes the same steps as minimizeLbfgs and ends at the same point for the same reason', () => {
    const whole = minimizeLbfgs(rosenbrock2, Float64Array.of(-1.2, 1));
    const run = new Lbfgs(rosenbrock2, Float64Array.of(-1.2, 1));
    const fs: number[] = [];
    for (let it = run.step(); it !== null; it = run.step()) {
      expect(it.iteration).toBe(run.iterations);
      expect(it.f).toBe(run.f);
      fs.push(it.f);
    }
    const steps = run.result();
    expect(steps.reason).toBe(whole.reason);
    expect(steps.iterations).toBe(whole.iterations);
    expect(steps.evaluations).toBe(whole.evaluations);
    expect(Array.from(steps.x)).toEqual(Array.from(whole.x));
    expect(fs).toHaveLength(whole.iterations);
    expect(run.step()).toBeNull();
  });

  it('exposes the current point after each step and stops on request', () => {
    const run = new Lbfgs(rosenbrock2, Float64Array.of(-1.2, 1));
    run.step();
    run.step();
    const g = new Float64Array(2);
    expect(rosenbrock2(Float64Array.from(run.point), g)).toBe(run.f);
    expect(run.reason).toBeNull();
    run.stop();
    expect(run.step()).toBeNull();
    expect(run.result()).toMatchObject({ reason: 'stopped', iterations: 2, converged: false });
  });

  it('reports max-iterations before taking a step past the limit, and gradient at a minimum', () => {
    const run = new Lbfgs(rosenbrock2, Float64Array.of(-1.2, 1), { maxIterations: 1 });
    expect(run.step()).not.toBeNull();
    expect(run.step()).toBeNull();
    expect(run.reason).toBe('max-iterations');
    expect(new Lbfgs(rosenbrock2, Float64Array.of(1, 1)).reason).toBe('gradient');
  });
});
