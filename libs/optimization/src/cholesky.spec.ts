import { Random } from '@recsys/core';
import { choleskyFactor, choleskySolve, RidgeSolver } from './cholesky';
import { gaussianSolve, randomSpd } from '@recsys/testing';

describe('choleskyFactor / choleskySolve', () => {
  it('factors a hand-computed 2×2 case and solves it', () => {
    // A = [[4, 2], [2, 3]] = L·Lᵀ with L = [[2, 0], [1, √2]]; A⁻¹·[2, 1] = [0.5, 0].
    const A = Float64Array.of(4, 2, 2, 3);
    expect(choleskyFactor(A, 2)).toBe(true);
    expect(A[0]).toBe(2);
    expect(A[1]).toBe(0);
    expect(A[2]).toBe(1);
    expect(A[3]).toBeCloseTo(Math.SQRT2, 15);
    const b = Float64Array.of(2, 1);
    choleskySolve(A, b, 2);
    expect(b[0]).toBeCloseTo(0.5, 15);
    expect(b[1]).toBeCloseTo(0, 15);
  });

  it('reproduces A = L·Lᵀ on random SPD matrices', () => {
    const random = new Random(17);
    for (const k of [1, 3, 8, 20]) {
      const A = randomSpd(k, random);
      const L = Float64Array.from(A);
      expect(choleskyFactor(L, k)).toBe(true);
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += L[i * k + p] * L[j * k + p];
          expect(sum).toBeCloseTo(A[i * k + j], 10);
          if (j > i) expect(L[i * k + j]).toBe(0);
        }
      }
    }
  });

  it('rejects matrices that are not positive definite', () => {
    expect(choleskyFactor(Float64Array.of(1, 2, 2, 1), 2)).toBe(false); // eigenvalues 3, −1
    expect(choleskyFactor(Float64Array.of(1, 1, 1, 1), 2)).toBe(false); // singular
    expect(choleskyFactor(Float64Array.of(-1), 1)).toBe(false);
    expect(choleskyFactor(Float64Array.of(NaN), 1)).toBe(false);
    expect(() => choleskyFactor(new Float64Array(3), 2)).toThrow(/k² = 4/);
  });
});

describe('RidgeSolver', () => {
  it('agrees with Gaussian elimination on random SPD systems, for several k and λ', () => {
    const random = new Random(5);
    for (const k of [1, 2, 5, 10, 50]) {
      const solver = new RidgeSolver(k);
      for (const lambda of [0, 0.02, 1, 10]) {
        const A = randomSpd(k, random);
        const b = new Float64Array(k);
        for (let i = 0; i < k; i++) b[i] = 4 * random.next() - 2;
        const shifted = Float64Array.from(A);
        for (let i = 0; i < k; i++) shifted[i * k + i] += lambda;
        const expected = gaussianSolve(shifted, b, k);
        const x = Float64Array.from(b);
        expect(solver.solve(A, x, lambda)).toBe(true);
        for (let i = 0; i < k; i++) expect(x[i]).toBeCloseTo(expected[i], 10);
        // Residual of the original system is tiny.
        for (let i = 0; i < k; i++) {
          let r = -b[i];
          for (let j = 0; j < k; j++) r += shifted[i * k + j] * x[j];
          expect(Math.abs(r)).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('returns false on a non-SPD system without touching b, and λ can make it SPD', () => {
    const solver = new RidgeSolver(2);
    const b = Float64Array.of(1, 1);
    expect(solver.solve(Float64Array.of(1, 2, 2, 1), b, 0)).toBe(false);
    expect(Array.from(b)).toEqual([1, 1]);
    // [[1,2],[2,1]] + 2I = [[3,2],[2,3]], whose solution for [1, 1] is [0.2, 0.2].
    expect(solver.solve(Float64Array.of(1, 2, 2, 1), b, 2)).toBe(true);
    expect(b[0]).toBeCloseTo(0.2, 15);
    expect(b[1]).toBeCloseTo(0.2, 15);
  });

  it('checks sizes', () => {
    expect(() => new RidgeSolver(0)).toThrow(/k must be/);
    const solver = new RidgeSolver(3);
    expect(() => solver.solve(new Float64Array(4), new Float64Array(3), 1)).toThrow(/k² = 9/);
    expect(() => solver.solve(new Float64Array(9), new Float64Array(2), 1)).toThrow(/k = 3/);
  });
});
