import { checkGradient } from './gradient-check';
import type { Objective } from './objective';

/** Chained Rosenbrock Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², with its exact gradient. */
const chainedRosenbrock: Objective = (x, g) => {
  g.fill(0);
  let f = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    f += 100 * a * a + b * b;
    g[i] += -400 * x[i] * a - 2 * b;
    g[i + 1] += 200 * a;
  }
  return f;
};

const point = Float64Array.of(-1.2, 1, 0.3, -0.7, 2, 1.5, 0.1, -2, 0.9, 1.1);

describe('checkGradient', () => {
  it('passes a correct gradient with tiny errors', () => {
    const result = checkGradient(chainedRosenbrock, point);
    expect(result.maxRelError).toBeLessThan(1e-7);
    expect(result.maxAbsError).toBeLessThan(1e-5);
    expect(result.worstIndex).toBeGreaterThanOrEqual(0);
  });

  it('matches the hand-computed derivatives of f = x₀²·x₁ + 3x₁', () => {
    // ∂f/∂x₀ = 2x₀x₁, ∂f/∂x₁ = x₀² + 3. f is at most quadratic in each coordinate, so central
    // differences are exact but for rounding.
    const f: Objective = (x, g) => {
      g[0] = 2 * x[0] * x[1];
      g[1] = x[0] * x[0] + 3;
      return x[0] * x[0] * x[1] + 3 * x[1];
    };
    const result = checkGradient(f, Float64Array.of(1.5, -2));
    expect(result.maxAbsError).toBeLessThan(1e-8);
  });

  it('catches a deliberately wrong component and names it', () => {
    const wrong: Objective = (x, g) => {
      const f = chainedRosenbrock(x, g);
      g[3] *= 1.01; // 1% error in one component
      return f;
    };
    const result = checkGradient(wrong, point);
    expect(result.worstIndex).toBe(3);
    expect(result.maxRelError).toBeGreaterThan(5e-3);
    expect(result.maxRelError).toBeLessThan(2e-2);
  });

  it('catches a missing term (gradient of only part of f)', () => {
    const partial: Objective = (x, g) => {
      const f = chainedRosenbrock(x, g);
      g[0] -= 2 * x[0]; // f gains +x₀² but its derivative gets the wrong sign
      return f + x[0] * x[0];
    };
    const result = checkGradient(partial, point);
    expect(result.worstIndex).toBe(0);
    expect(result.maxAbsError).toBeCloseTo(4 * 1.2, 4); // |(−2x₀) − (+2x₀)| = 4|x₀| at x₀ = −1.2
  });

  it('checks only the requested indices and leaves x unchanged', () => {
    const wrong: Objective = (x, g) => {
      const f = chainedRosenbrock(x, g);
      g[3] *= 1.01;
      return f;
    };
    const copy = Float64Array.from(point);
    let calls = 0;
    const counted: Objective = (x, g) => {
      calls++;
      return wrong(x, g);
    };
    const result = checkGradient(counted, copy, { indices: [0, 1, 5] });
    expect(result.maxRelError).toBeLessThan(1e-7);
    expect(calls).toBe(1 + 2 * 3);
    expect(Array.from(copy)).toEqual(Array.from(point));
    expect(() => checkGradient(wrong, copy, { indices: [10] })).toThrow(/index 10/);
  });

  it('reports a NaN gradient as an infinite error', () => {
    const nan: Objective = (x, g) => {
      const f = chainedRosenbrock(x, g);
      g[2] = NaN;
      return f;
    };
    const result = checkGradient(nan, point);
    expect(result.maxRelError).toBe(Infinity);
    expect(result.worstIndex).toBe(2);
  });
});
