// Test functions shared by the optimisation specs.
import type { Objective } from '../src/objective';

/** 2-D Rosenbrock f = 100(y − x²)² + (1 − x)², minimum 0 at (1, 1). */
export const rosenbrock2: Objective = (x, g) => {
  const a = x[1] - x[0] * x[0];
  const b = 1 - x[0];
  g[0] = -400 * x[0] * a - 2 * b;
  g[1] = 200 * a;
  return 100 * a * a + b * b;
};

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
