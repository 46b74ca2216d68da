import { ConjugateGradient, conjugateGradient } from './conjugate-gradient';
import { randomSpdSystem } from '@recsys/testing';

function randomSpdOperator(n: number, seed: number) {
  const { A, b } = randomSpdSystem(n, seed);
  const apply = (x: Float64Array, out: Float64Array) => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
      out[i] = s;
    }
  };
  return { A, b, apply };
}

function residualNorm(apply: (x: Float64Array, out: Float64Array) => void, b: Float64Array, x: Float64Array): number {
  const ax = new Float64Array(b.length);
  apply(x, ax);
  let s = 0;
  for (let i = 0; i < b.length; i++) s += (b[i] - ax[i]) ** 2;
  return Math.sqrt(s);
}

describe('conjugateGradient', () => {
  it('solves a random SPD system to the requested relative residual', () => {
    const n = 50;
    const { b, apply } = randomSpdOperator(n, 9);
    const x = new Float64Array(n);
    const result = conjugateGradient(apply, b, x, { maxIterations: 500, tolerance: 1e-12 });
    expect(result.converged).toBe(true);
    const bNorm = Math.sqrt(b.reduce((s, v) => s + v * v, 0));
    // The true residual, recomputed here, not the recurrence's.
    expect(residualNorm(apply, b, x)).toBeLessThan(1e-10 * bNorm);
  });

  it('converges in as many iterations as A has distinct eigenvalues (diagonal with 3 values)', () => {
    const diagonal = Float64Array.of(1, 1, 4, 4, 4, 9, 9, 1, 4, 9);
    const n = diagonal.length;
    const apply = (x: Float64Array, out: Float64Array) => {
      for (let i = 0; i < n; i++) out[i] = diagonal[i] * x[i];
    };
    const b = Float64Array.from({ length: n }, (_, i) => i + 1);
    const x = new Float64Array(n);
    const result = conjugateGradient(apply, b, x, { tolerance: 1e-12 });
    expect(result.converged).toBe(true);
    expect(result.iterations).toBe(3);
    for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo(b[i] / diagonal[i], 12);
  });

  it('does no iteration when started at the solution, and reuses its buffers', () => {
    const solver = new ConjugateGradient(2);
    // [[2, 1], [1, 3]]·[1, 2] = [4, 7]
    const apply = (x: Float64Array, out: Float64Array) => {
      out[0] = 2 * x[0] + x[1];
      out[1] = x[0] + 3 * x[1];
    };
    const x = Float64Array.of(1, 2);
    expect(solver.solve(apply, Float64Array.of(4, 7), x).iterations).toBe(0);
    const y = new Float64Array(2);
    const result = solver.solve(apply, Float64Array.of(4, 7), y);
    expect(result.iterations).toBeLessThanOrEqual(2);
    expect(y[0]).toBeCloseTo(1, 12);
    expect(y[1]).toBeCloseTo(2, 12);
  });

  it('stops at maxIterations and says it did not converge', () => {
    const n = 50;
    const { b, apply } = randomSpdOperator(n, 10);
    const result = conjugateGradient(apply, b, new Float64Array(n), { maxIterations: 2, tolerance: 1e-14 });
    expect(result.iterations).toBe(2);
    expect(result.converged).toBe(false);
  });

  it('with a Jacobi preconditioner: one step is the hand-computed z = M⁻¹b, α = bᵀz / zᵀAz, x = αz; n steps solve', () => {
    // A = [[4, 1], [1, 3]], b = [1, 2], M = diag(4, 3): z = [1/4, 2/3], Az = [5/3, 9/4],
    // bᵀz = 1/4 + 4/3 = 19/12, zᵀAz = 5/12 + 3/2 = 23/12, α = 19/23.
    const apply = (x: Float64Array, out: Float64Array) => {
      out[0] = 4 * x[0] + x[1];
      out[1] = x[0] + 3 * x[1];
    };
    const diagonal = Float64Array.of(4, 3);
    const one = new Float64Array(2);
    conjugateGradient(apply, Float64Array.of(1, 2), one, { maxIterations: 1, tolerance: 0, diagonal });
    expect(one[0]).toBeCloseTo((19 / 23) * (1 / 4), 14);
    expect(one[1]).toBeCloseTo((19 / 23) * (2 / 3), 14);
    const full = new Float64Array(2);
    const result = conjugateGradient(apply, Float64Array.of(1, 2), full, { diagonal, tolerance: 1e-14 });
    // A⁻¹b = [1, 7] / 11.
    expect(full[0]).toBeCloseTo(1 / 11, 12);
    expect(full[1]).toBeCloseTo(7 / 11, 12);
    expect(result.iterations).toBeLessThanOrEqual(2);
    expect(() => conjugateGradient(apply, Float64Array.of(1, 2), new Float64Array(2), { diagonal: Float64Array.of(1) })).toThrow(RangeError);
  });
});
