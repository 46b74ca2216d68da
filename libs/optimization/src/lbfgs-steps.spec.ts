import { Lbfgs, minimizeLbfgs } from './lbfgs';
import type { Objective } from './objective';

/** 2-D Rosenbrock f = 100(y − x²)² + (1 − x)², minimum 0 at (1, 1). */
const rosenbrock2: Objective = (x, g) => {
  const a = x[1] - x[0] * x[0];
  const b = 1 - x[0];
  g[0] = -400 * x[0] * a - 2 * b;
  g[1] = 200 * a;
  return 100 * a * a + b * b;
};

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
