import { cubicMinimizer, lineSearchStrongWolfe, quadraticMinimizer } from './line-search';
import type { Objective } from './objective';
import { dot, rosenbrock2 } from '../test/functions';

describe('lineSearchStrongWolfe', () => {
  function checkStrongWolfe(objective: Objective, x: Float64Array, d: Float64Array, step: number, c1: number, c2: number) {
    const n = x.length;
    const g0 = new Float64Array(n);
    const f0 = objective(x, g0);
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = x[i] + step * d[i];
    const g = new Float64Array(n);
    const f = objective(xs, g);
    const slope0 = dot(g0, d);
    return {
      armijo: f <= f0 + c1 * step * slope0,
      curvature: Math.abs(dot(g, d)) <= c2 * Math.abs(slope0),
    };
  }

  it.each([
    [1e-6, 0.9],
    [1e-3, 0.9],
    [1, 0.9],
    [100, 0.9],
    [1e-6, 0.1],
    [1, 0.1],
    [100, 0.1],
    [1, 0.01],
  ])('returns a strong Wolfe step on Rosenbrock along −g (initial step %p, c2 %p)', (initialStep, c2) => {
    const x = Float64Array.of(-1.2, 1);
    const g = new Float64Array(2);
    const f0 = rosenbrock2(x, g);
    const d = Float64Array.of(-g[0], -g[1]);
    const xOut = new Float64Array(2);
    const gOut = new Float64Array(2);
    const result = lineSearchStrongWolfe(rosenbrock2, x, f0, dot(g, d), d, initialStep, xOut, gOut, { c2 });
    expect(result.status).toBe('strong-wolfe');
    expect(checkStrongWolfe(rosenbrock2, x, d, result.step, 1e-4, c2)).toEqual({ armijo: true, curvature: true });
    // xOut, gOut hold the accepted point and its gradient.
    expect(Array.from(xOut)).toEqual([x[0] + result.step * d[0], x[1] + result.step * d[1]]);
    const gCheck = new Float64Array(2);
    expect(rosenbrock2(xOut, gCheck)).toBe(result.f);
    expect(Array.from(gOut)).toEqual(Array.from(gCheck));
    expect(result.slope).toBeCloseTo(dot(gCheck, d), 8);
  });

  it('finds the exact minimiser of a 1-D quadratic by cubic extrapolation', () => {
    // f(x) = (x − 3)², from 0 along +1: φ'(α) = 2(α − 3); c2 = 0.01 demands α ∈ [2.97, 3.03].
    const f: Objective = (x, g) => {
      g[0] = 2 * (x[0] - 3);
      return (x[0] - 3) ** 2;
    };
    const out = new Float64Array(1);
    const gOut = new Float64Array(1);
    const result = lineSearchStrongWolfe(f, Float64Array.of(0), 9, -6, Float64Array.of(1), 1, out, gOut, { c2: 0.01 });
    expect(result.status).toBe('strong-wolfe');
    expect(result.step).toBeCloseTo(3, 12);
    expect(result.evaluations).toBe(2);
  });

  it('restores the best sufficient-decrease point when the budget runs out', () => {
    // (x − 3)² up to x = 0.3, undefined (NaN) beyond: the extrapolated trial 0.5 fails, budget 3.
    const f: Objective = (x, g) => {
      if (x[0] > 0.3) {
        g[0] = NaN;
        return NaN;
      }
      g[0] = 2 * (x[0] - 3);
      return (x[0] - 3) ** 2;
    };
    const out = new Float64Array(1);
    const gOut = new Float64Array(1);
    const result = lineSearchStrongWolfe(f, Float64Array.of(0), 9, -6, Float64Array.of(1), 0.1, out, gOut, {
      c2: 0.1,
      maxEvaluations: 3,
    });
    expect(result.status).toBe('sufficient-decrease');
    expect(result.evaluations).toBe(3);
    expect(result.step).toBe(0.1);
    expect(result.f).toBeCloseTo(8.41, 12);
    expect(out[0]).toBe(0.1);
    expect(gOut[0]).toBeCloseTo(-5.8, 12);
  });

  it('never accepts a point whose gradient is not finite', () => {
    // f(x) = (x − 3)² everywhere, but ∇f is NaN beyond x = 2, so the Wolfe step near 3 is out of reach.
    const f: Objective = (x, g) => {
      g[0] = x[0] > 2 ? NaN : 2 * (x[0] - 3);
      return (x[0] - 3) ** 2;
    };
    const out = new Float64Array(1);
    const gOut = new Float64Array(1);
    const result = lineSearchStrongWolfe(f, Float64Array.of(0), 9, -6, Float64Array.of(1), 1, out, gOut, { c2: 0.01 });
    expect(result.status).toBe('sufficient-decrease');
    expect(result.step).toBeGreaterThan(0);
    expect(result.step).toBeLessThanOrEqual(2);
    expect(out[0]).toBe(result.step);
    expect(gOut[0]).toBe(2 * (result.step - 3));
    expect(result.f).toBe((result.step - 3) ** 2);
  });

  it('stops at maxStep on an unbounded linear function', () => {
    const f: Objective = (x, g) => {
      g[0] = -1;
      return -x[0];
    };
    const out = new Float64Array(1);
    const result = lineSearchStrongWolfe(f, Float64Array.of(0), 0, -1, Float64Array.of(1), 1, out, new Float64Array(1), {
      maxStep: 10,
    });
    expect(result.status).toBe('sufficient-decrease');
    expect(result.step).toBe(10);
    expect(out[0]).toBe(10);
  });

  it('fails when no trial point decreases f, within its budget', () => {
    const f: Objective = (x, g) => {
      g[0] = -1;
      return x[0] === 0 ? 0 : NaN;
    };
    const result = lineSearchStrongWolfe(f, Float64Array.of(0), 0, -1, Float64Array.of(1), 1, new Float64Array(1), new Float64Array(1), {
      maxEvaluations: 12,
    });
    expect(result.status).toBe('failed');
    expect(result.step).toBe(0);
    expect(result.evaluations).toBe(12);
  });

  it('rejects a direction that is not a descent direction', () => {
    const x = Float64Array.of(-1.2, 1);
    const g = new Float64Array(2);
    const f0 = rosenbrock2(x, g);
    expect(() => lineSearchStrongWolfe(rosenbrock2, x, f0, dot(g, g), g, 1, new Float64Array(2), new Float64Array(2))).toThrow(
      /not a descent direction/,
    );
  });
});

describe('interpolation helpers', () => {
  it('cubicMinimizer recovers the minimiser of a cubic from two points', () => {
    // φ(α) = α³ − 3α: φ(0) = 0, φ'(0) = −3, φ(2) = 2, φ'(2) = 9; local minimum at α = 1.
    expect(cubicMinimizer(0, 0, -3, 2, 2, 9)).toBeCloseTo(1, 12);
    // Either order of the points.
    expect(cubicMinimizer(2, 2, 9, 0, 0, -3)).toBeCloseTo(1, 12);
    // φ(α) = (α − 2)² is a (degenerate) cubic too.
    expect(cubicMinimizer(0, 4, -4, 3, 1, 2)).toBeCloseTo(2, 12);
  });

  it('quadraticMinimizer recovers the minimiser of a parabola, NaN when concave', () => {
    expect(quadraticMinimizer(0, 4, -4, 3, 1)).toBeCloseTo(2, 12);
    expect(quadraticMinimizer(0, 0, -1, 1, -5)).toBeNaN();
  });
});
