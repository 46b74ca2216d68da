import * as fs from 'node:fs';
import * as path from 'node:path';
import { Random } from '@recsys/core';
import { buildRatingMatrix, fileSplit, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { describeWithData, randomRatings, sharedDataPath } from '@recsys/testing';
import { alsChunks, AlsPreconditioner, AlsRowKernel, AlsRowSolver, AlsViews, plainAlsPasses } from './passes';
import { alsBlockChunkRatings, alsLayout, createAlsTrainer } from './trainer';
import { ALS_WASM_PATH } from './wasm';
import { initialFactors } from '../sgd/plain-trainer';
import { SvdModel } from '../svd-model';

function matrixOf(rows: Array<[number, number, number]>): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/** Training RMSE (unclipped) of μ + b_u + b_i + p_u·q_i over the matrix, from the definition. */
function trainingRmse(
  train: RatingMatrix,
  globalMean: number,
  userBias: ArrayLike<number>,
  movieBias: ArrayLike<number>,
  userFactors: Float32Array,
  movieFactors: Float32Array,
  k: number,
): number {
  const { userPtr, userMovies, userRatings } = train;
  let sum = 0;
  for (let u = 0; u < train.nUsers; u++) {
    const pu = u * k;
    for (let p = userPtr[u]; p < userPtr[u + 1]; p++) {
      const m = userMovies[p];
      const qi = m * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += userFactors[pu + f] * movieFactors[qi + f];
      const e = userRatings[p] * 0.5 - globalMean - userBias[u] - movieBias[m] - dot;
      sum += e * e;
    }
  }
  return Math.sqrt(sum / train.nRatings);
}

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  return buildRatingMatrix(randomRatings({ seed, users, movies, density }), WHOLE_STARS_1_TO_5).matrix;
}

/** Plain typed-array views of a matrix with factor rows of kp floats (no trainer involved). */
function viewsOf(m: RatingMatrix, kp: number, P: Float32Array, Q: Float32Array, userBias: Float64Array, movieBias: Float64Array): AlsViews {
  return {
    kp,
    users: { ptr: m.userPtr, other: m.userMovies, codes: m.userRatings, factors: P, bias: userBias },
    movies: { ptr: m.moviePtr, other: m.movieUsers, codes: m.movieRatings, factors: Q, bias: movieBias },
  };
}

/** Dense Gaussian elimination with partial pivoting: an independent solver of A·x = b. */
function gaussSolve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[pivot][c])) pivot = r;
    [M[c], M[pivot]] = [M[pivot], M[c]];
    for (let r = c + 1; r < n; r++) {
      const factor = M[r][c] / M[c][c];
      for (let j = c; j <= n; j++) M[r][j] -= factor * M[c][j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = M[r][n];
    for (let j = r + 1; j < n; j++) sum -= M[r][j] * x[j];
    x[r] = sum / M[r][r];
  }
  return x;
}

/** The exact ridge solution [p_u; b_u] of one user, from the definition (dense normal equations). */
/** User u's ridge system A z = b (A = Σ x xᵀ + D, b = Σ y x), formed densely by a plain loop. */
function userSystem(m: RatingMatrix, u: number, Q: Float32Array, kp: number, k: number, movieBias: Float64Array, reg: number, regBias: number): { A: number[][]; b: number[] } {
  const mu = m.globalMean();
  const n = k + 1;
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const b = new Array<number>(n).fill(0);
  for (let j = m.userPtr[u]; j < m.userPtr[u + 1]; j++) {
    const i = m.userMovies[j];
    const x = [...Array.from(Q.subarray(i * kp, i * kp + k)), 1];
    const y = m.userRatings[j] * 0.5 - mu - movieBias[i];
    for (let r = 0; r < n; r++) {
      b[r] += y * x[r];
      for (let c = 0; c < n; c++) A[r][c] += x[r] * x[c];
    }
  }
  for (let f = 0; f < k; f++) A[f][f] += reg;
  A[k][k] += regBias;
  return { A, b };
}

function exactUser(m: RatingMatrix, u: number, Q: Float32Array, kp: number, k: number, movieBias: Float64Array, reg: number, regBias: number): number[] {
  const { A, b } = userSystem(m, u, Q, kp, k, movieBias, reg, regBias);
  return gaussSolve(A, b);
}

/** Σ e² + reg(‖P‖² + ‖Q‖²) + regBias(‖b_u‖² + ‖b_i‖²), the objective ALS minimises. */
function objective(m: RatingMatrix, s: { userFactors: Float32Array; movieFactors: Float32Array; userBias: Float64Array; movieBias: Float64Array }, k: number, reg: number, regBias: number): number {
  const rmse = trainingRmse(m, m.globalMean(), s.userBias, s.movieBias, s.userFactors, s.movieFactors, k);
  let norm = 0;
  for (const x of s.userFactors) norm += reg * x * x;
  for (const x of s.movieFactors) norm += reg * x * x;
  for (const x of s.userBias) norm += regBias * x * x;
  for (const x of s.movieBias) norm += regBias * x * x;
  return rmse * rmse * m.nRatings + norm;
}

const wasmBuilt = fs.existsSync(ALS_WASM_PATH);
if (!wasmBuilt) console.log(`als.spec: the WebAssembly cases skipped, ${ALS_WASM_PATH} is not built (node tools/build-wasm.js)`);
const itWasm = wasmBuilt ? it : it.skip;

describe('alsChunks', () => {
  it('cuts rows where the running rating count reaches the target, or at maxRows', () => {
    // Row lengths 3, 1, 4, 0, 2 → ptr 0 3 4 8 8 10.
    const ptr = Uint32Array.of(0, 3, 4, 8, 8, 10);
    expect(Array.from(alsChunks(ptr, 5, 4))).toEqual([0, 2, 3, 5]);
    expect(Array.from(alsChunks(ptr, 5, 100))).toEqual([0, 5]);
    expect(Array.from(alsChunks(ptr, 5, 100, 2))).toEqual([0, 2, 4, 5]);
    expect(Array.from(alsChunks(ptr, 0, 4))).toEqual([0]);
  });
});

describe('alsBlockChunkRatings', () => {
  it('is nRatings / (6·threads) between 2²¹ and 2²³', () => {
    expect(alsBlockChunkRatings(100_000, 2)).toBe(2 ** 21);
    expect(alsBlockChunkRatings(12 * 2 ** 21, 2)).toBe(2 ** 21);
    expect(alsBlockChunkRatings(50_000_000, 2)).toBe(Math.ceil(50_000_000 / 12));
    expect(alsBlockChunkRatings(100_480_507, 2)).toBe(Math.ceil(100_480_507 / 12));
    expect(alsBlockChunkRatings(120_000_000, 2)).toBe(2 ** 23);
    expect(alsBlockChunkRatings(100_480_507, 8)).toBe(2 ** 21);
    expect(alsBlockChunkRatings(150_000_000, 8)).toBe(3_125_000);
    // A thread count below 1 counts as one.
    expect(alsBlockChunkRatings(30_000_000, 0)).toBe(5_000_000);
  });
});

describe('AlsRowKernel', () => {
  const m = randomMatrix(11, 30, 25, 0.3);
  const k = 5;
  const kp = 8; // padded rows, as the trainer lays them out
  const reg = 0.8;
  const regBias = 0.3;
  const random = new Random(5);
  const Q = new Float32Array(m.nMovies * kp);
  for (let i = 0; i < m.nMovies; i++) for (let f = 0; f < k; f++) Q[i * kp + f] = random.normal();
  const movieBias = Float64Array.from({ length: m.nMovies }, () => 0.3 * random.normal());

  function solveUsers(solver: AlsRowSolver, cgSteps: number, preconditioner: AlsPreconditioner = 'none'): { P: Float32Array; userBias: Float64Array } {
    const P = new Float32Array(m.nUsers * kp);
    const userBias = new Float64Array(m.nUsers);
    const kernel = new AlsRowKernel({ factors: k, mu: m.globalMean(), reg, regBias, solver, cgSteps, preconditioner }, viewsOf(m, kp, P, Q, userBias, movieBias));
    kernel.solveRows(true, 0, m.nUsers, false);
    return { P, userBias };
  }

  it.each([
    ['cholesky', 1, 'none'],
    ['cg', k + 1, 'none'], // exact arithmetic: CG solves a (k+1)-dimensional system in k+1 steps
    ['cg', k + 1, 'jacobi'], // and so does preconditioned CG
  ] as const)('%s (%d steps, preconditioner %s) solves every user’s ridge system like dense elimination', (solver, steps, preconditioner) => {
    const { P, userBias } = solveUsers(solver, steps, preconditioner);
    for (let u = 0; u < m.nUsers; u++) {
      const x = exactUser(m, u, Q, kp, k, movieBias, reg, regBias);
      for (let f = 0; f < k; f++) expect(P[u * kp + f]).toBeCloseTo(x[f], 5);
      expect(userBias[u]).toBeCloseTo(x[k], 8);
      for (let f = k; f < kp; f++) expect(P[u * kp + f]).toBe(0);
    }
  });

  it('cholesky solves each user’s 2×2 ridge system like the closed form (Cramer’s rule), k = 1', () => {
    // Users 1 (rated movies 1 → 5 and 2 → 2) and 2 (rated movie 1 → 3); μ = 10/3.
    const m = matrixOf([
      [1, 1, 5],
      [1, 2, 2],
      [2, 1, 3],
    ]);
    const mu = m.globalMean();
    const Q = Float32Array.from([0.5, -1.5]);
    const movieBias = Float64Array.from([0.25, -0.5]);
    const P = new Float32Array(2);
    const userBias = new Float64Array(2);
    const reg = 0.7;
    const regBias = 0.3;
    new AlsRowKernel({ factors: 1, mu, reg, regBias, solver: 'cholesky', cgSteps: 1 }, viewsOf(m, 1, P, Q, userBias, movieBias)).solveRows(true, 0, m.nUsers, false);
    // Normal equations [[Σq² + λ, Σq], [Σq, n + λ_b]]·[p; b] = [Σ y q; Σ y], y = r − μ − b_i.
    const q1 = Q[0];
    const q2 = Q[1];
    const cramer = (a: number, b: number, d: number, e: number, f: number) => {
      const det = a * d - b * b;
      return [(e * d - b * f) / det, (a * f - b * e) / det];
    };
    const y11 = 5 - mu - 0.25;
    const y12 = 2 - mu + 0.5;
    const [p1, b1] = cramer(q1 * q1 + q2 * q2 + reg, q1 + q2, 2 + regBias, y11 * q1 + y12 * q2, y11 + y12);
    const y21 = 3 - mu - 0.25;
    const [p2, b2] = cramer(q1 * q1 + reg, q1, 1 + regBias, y21 * q1, y21);
    expect(P[0]).toBeCloseTo(p1, 6);
    expect(userBias[0]).toBeCloseTo(b1, 12);
    expect(P[1]).toBeCloseTo(p2, 6);
    expect(userBias[1]).toBeCloseTo(b2, 12);
  });

  it('cg with few steps from zero lowers each row’s objective and nears the exact solution', () => {
    const { P, userBias } = solveUsers('cg', 3);
    for (let u = 0; u < m.nUsers; u++) {
      const x = exactUser(m, u, Q, kp, k, movieBias, reg, regBias);
      let error = (userBias[u] - x[k]) ** 2;
      let size = x[k] ** 2;
      for (let f = 0; f < k; f++) {
        error += (P[u * kp + f] - x[f]) ** 2;
        size += x[f] ** 2;
      }
      expect(Math.sqrt(error)).toBeLessThan(0.5 * Math.sqrt(size) + 1e-9);
    }
  });

  it('one Jacobi-preconditioned step from zero is δ = α·M⁻¹b with M = diag(A), α = bᵀM⁻¹b / (M⁻¹b)ᵀA(M⁻¹b)', () => {
    const { P, userBias } = solveUsers('cg', 1, 'jacobi');
    for (let u = 0; u < m.nUsers; u++) {
      const { A, b } = userSystem(m, u, Q, kp, k, movieBias, reg, regBias);
      const z = b.map((bf, f) => bf / A[f][f]);
      let bz = 0;
      let zAz = 0;
      for (let r = 0; r <= k; r++) {
        bz += b[r] * z[r];
        for (let c = 0; c <= k; c++) zAz += z[r] * A[r][c] * z[c];
      }
      const alpha = bz / zAz;
      for (let f = 0; f < k; f++) expect(P[u * kp + f]).toBeCloseTo(alpha * z[f], 5);
      expect(userBias[u]).toBeCloseTo(alpha * z[k], 8);
    }
  });

  it('reports Σ e² of the solved rows with their new values', () => {
    const P = new Float32Array(m.nUsers * kp);
    const userBias = new Float64Array(m.nUsers);
    const views = viewsOf(m, kp, P, Q, userBias, movieBias);
    const kernel = new AlsRowKernel({ factors: k, mu: m.globalMean(), reg, regBias, solver: 'cholesky', cgSteps: 1 }, views);
    const sse = kernel.solveRows(true, 0, m.nUsers, true);
    const passes = plainAlsPasses(k, kp, m.globalMean());
    let direct = 0;
    let perRow = 0;
    for (let u = 0; u < m.nUsers; u++) {
      for (let j = m.userPtr[u]; j < m.userPtr[u + 1]; j++) {
        const i = m.userMovies[j];
        let dot = 0;
        for (let f = 0; f < k; f++) dot += P[u * kp + f] * Q[i * kp + f];
        direct += (m.userRatings[j] * 0.5 - m.globalMean() - userBias[u] - movieBias[i] - dot) ** 2;
      }
      perRow += passes.sse(views.users, views.movies, u);
    }
    expect(sse).toBeCloseTo(direct, 9);
    expect(perRow).toBeCloseTo(direct, 9);
  });

  it('refuses λ = 0 and a bad step count', () => {
    const views = viewsOf(m, kp, new Float32Array(m.nUsers * kp), Q, new Float64Array(m.nUsers), movieBias);
    expect(() => new AlsRowKernel({ factors: k, mu: 3, reg: 0, regBias: 1, solver: 'cg', cgSteps: 3 }, views)).toThrow(/reg and regBias must be > 0/);
    expect(() => new AlsRowKernel({ factors: k, mu: 3, reg: 1, regBias: 1, solver: 'cg', cgSteps: 0 }, views)).toThrow(/cgSteps must be an integer ≥ 1/);
  });
});

describe('createAlsTrainer', () => {
  const m = randomMatrix(3, 60, 40, 0.25);
  const reg = 2;
  const regBias = 1;

  async function train(
    k: number,
    { useWasm, ...options }: {
      threads?: number;
      solver?: AlsRowSolver;
      useWasm?: boolean;
      cgSteps?: number;
      preconditioner?: AlsPreconditioner;
      blockBytes?: number;
      blockChunkRatings?: number;
    },
    iterations: number,
  ) {
    const { P, Q } = initialFactors(m.nUsers, m.nMovies, k, 42, 0.1, 0);
    const backend = useWasm === undefined ? undefined : useWasm ? 'wasm' : 'js';
    const trainer = await createAlsTrainer(m, { factors: k, reg, regBias, userFactors: P, movieFactors: Q, chunkRatings: 50, backend, ...options });
    try {
      const rmse: number[] = [];
      const objectives: number[] = [];
      for (let t = 0; t < iterations; t++) {
        rmse.push(await trainer.step());
        objectives.push(objective(m, trainer.state(), k, reg, regBias));
      }
      return { rmse, objectives, state: trainer.state(), wasm: trainer.wasm, workers: trainer.workers };
    } finally {
      await trainer.dispose();
    }
  }

  it('lays out rows of kp = 4⌈k/4⌉ floats, 16-byte aligned, scratch areas on cache lines of their own, and no rating arrays', () => {
    const userChunks = alsChunks(m.userPtr, m.nUsers, 100);
    const movieChunks = alsChunks(m.moviePtr, m.nMovies, 50);
    const layout = alsLayout(m, 10, 2, userChunks, movieChunks);
    expect(layout.kp).toBe(12);
    for (const key of ['P', 'Q', 'userBias', 'movieBias', 'scratch', 'scratchBytes'] as const) {
      expect(layout[key] % 16).toBe(0);
    }
    // Each thread's scratch area on cache lines of its own, and the shared control words too.
    expect(layout.scratch % 64).toBe(0);
    expect(layout.scratchBytes % 64).toBe(0);
    expect(layout.control % 64).toBe(0);
    expect(layout.Q - layout.P).toBeGreaterThanOrEqual(m.nUsers * 12 * 4);
    // The scratch areas hold the largest chunk's slice of the ratings, not the ratings themselves.
    let most = 0;
    for (const [ptr, bounds] of [[m.userPtr, userChunks], [m.moviePtr, movieChunks]] as const) {
      for (let c = 0; c + 1 < bounds.length; c++) most = Math.max(most, ptr[bounds[c + 1]] - ptr[bounds[c]]);
    }
    expect(layout.maxChunkRatings).toBe(most);
    expect(most).toBeLessThan(m.nRatings);
    expect(layout.bytes).toBeLessThan(layout.scratch + 2 * layout.scratchBytes + 16);
  });

  it('randomFactors draws the same initial factors as copying initialFactors, and trains identically', async () => {
    const k = 6; // kp = 8: the drawn rows are padded
    const { P, Q } = initialFactors(m.nUsers, m.nMovies, k, 7, 0.3, 0.5);
    const copied = await createAlsTrainer(m, { factors: k, reg, regBias, userFactors: P, movieFactors: Q });
    const drawn = await createAlsTrainer(m, { factors: k, reg, regBias, randomFactors: { seed: 7, std: 0.3, mean: 0.5 } });
    try {
      expect(drawn.state().userFactors).toEqual(P);
      expect(drawn.state().movieFactors).toEqual(Q);
      expect(await drawn.step()).toBe(await copied.step());
      expect(drawn.state()).toEqual(copied.state());
    } finally {
      await copied.dispose();
      await drawn.dispose();
    }
    await expect(createAlsTrainer(m, { factors: k, reg, regBias })).rejects.toThrow(/either userFactors and movieFactors or randomFactors/);
    await expect(createAlsTrainer(m, { factors: k, reg, regBias, userFactors: P, movieFactors: Q, randomFactors: { seed: 1, std: 0.1 } })).rejects.toThrow(
      /either userFactors and movieFactors or randomFactors/,
    );
  });

  it.each([
    ['cholesky', false],
    ['cg', false],
    ['cg', true],
  ] as const)('%s (wasm %s): the objective never rises and the RMSE is the training RMSE of the state', async (solver, useWasm) => {
    if (useWasm && !wasmBuilt) return;
    const k = 6;
    const run = await train(k, { solver, useWasm, cgSteps: 3 }, 6);
    expect(run.wasm).toBe(useWasm);
    for (let t = 1; t < run.objectives.length; t++) expect(run.objectives[t]).toBeLessThanOrEqual(run.objectives[t - 1] * (1 + 1e-6));
    const s = run.state;
    // The SIMD kernel's dot products run in f32; the cg solver's blocked movies half step takes Σ e²
    // from the CG identity over its f64 solution, which the f32 factors store rounded (≈ 1e-9 here).
    expect(run.rmse[run.rmse.length - 1]).toBeCloseTo(trainingRmse(m, m.globalMean(), s.userBias, s.movieBias, s.userFactors, s.movieFactors, k), useWasm ? 7 : solver === 'cg' ? 8 : 9);
  });

  it.each([
    [3, 'none'],
    [2, 'jacobi'],
  ] as const)('cg with warm starts (%d steps, preconditioner %s) reaches the objective of exact (Cholesky) ALS', async (cgSteps, preconditioner) => {
    const exact = await train(6, { solver: 'cholesky' }, 15);
    const cg = await train(6, { solver: 'cg', useWasm: false, cgSteps, preconditioner }, 15);
    const a = exact.objectives[exact.objectives.length - 1];
    const b = cg.objectives[cg.objectives.length - 1];
    expect(Math.abs(a - b) / a).toBeLessThan(0.01);
  });

  const variants = [
    { cgSteps: 1, preconditioner: 'jacobi' },
    { cgSteps: 3, preconditioner: 'jacobi' },
    { cgSteps: 2, preconditioner: 'none' },
  ] as const;

  itWasm.each(variants)('the SIMD passes agree with the plain TypeScript ones to f32 rounding (%o)', async (variant) => {
    const plain = await train(7, { solver: 'cg', useWasm: false, ...variant }, 3);
    const simd = await train(7, { solver: 'cg', useWasm: true, ...variant }, 3);
    expect(simd.wasm).toBe(true);
    for (let j = 0; j < plain.state.userFactors.length; j++) expect(simd.state.userFactors[j]).toBeCloseTo(plain.state.userFactors[j], 3);
    for (let j = 0; j < plain.state.movieBias.length; j++) expect(simd.state.movieBias[j]).toBeCloseTo(plain.state.movieBias[j], 3);
    expect(simd.rmse[2]).toBeCloseTo(plain.rmse[2], 4);
  });

  it.each([
    ['cholesky', false],
    ['cg', false],
    ['cg', true],
  ] as const)('%s (wasm %s) gives bit-identical results with 1, 2 and 3 threads', async (solver, useWasm) => {
    if (useWasm && !wasmBuilt) return;
    const one = await train(5, { solver, useWasm, threads: 1 }, 3);
    for (const threads of [2, 3]) {
      const many = await train(5, { solver, useWasm, threads }, 3);
      expect(many.workers).toBe(threads - 1);
      expect(many.rmse).toEqual(one.rmse);
      expect(Array.from(many.state.userFactors)).toEqual(Array.from(one.state.userFactors));
      expect(Array.from(many.state.movieFactors)).toEqual(Array.from(one.state.movieFactors));
      expect(Array.from(many.state.userBias)).toEqual(Array.from(one.state.userBias));
      expect(Array.from(many.state.movieBias)).toEqual(Array.from(one.state.movieBias));
    }
  }, 30_000);

  it.each(variants.flatMap((variant) => [false, true].map((useWasm) => [useWasm, variant] as const)))('the blocked movies half step (wasm %s, %o) solves like row by row, for any block and chunk size', async (useWasm, variant) => {
    if (useWasm && !wasmBuilt) return;
    const rows = await train(6, { solver: 'cg', useWasm, blockBytes: 0, threads: 1, ...variant }, 3);
    // Blocks of 2 user rows (kp = 8: 64 bytes), chunks of ≥ 40 ratings, 2 threads; and one block of every user.
    for (const options of [
      { blockBytes: 64, blockChunkRatings: 40, threads: 2 },
      { blockBytes: 1 << 20, threads: 1 },
    ]) {
      const blocked = await train(6, { solver: 'cg', useWasm, ...options, ...variant }, 3);
      // Same CG steps; only the order of the f64 sums (per block) differs, and with wasm the f32 flushes.
      for (let j = 0; j < rows.state.movieFactors.length; j++) expect(blocked.state.movieFactors[j]).toBeCloseTo(rows.state.movieFactors[j], useWasm ? 4 : 6);
      for (let j = 0; j < rows.state.movieBias.length; j++) expect(blocked.state.movieBias[j]).toBeCloseTo(rows.state.movieBias[j], useWasm ? 4 : 6);
      // The blocked Σ e² comes from the CG identity (f64 solution), row by row from a pass over the stored f32 values.
      for (let t = 0; t < 3; t++) expect(blocked.rmse[t]).toBeCloseTo(rows.rmse[t], useWasm ? 6 : 8);
    }
  }, 30_000);

  it('SvdModel als with threads gives the same predictions as one thread', async () => {
    const pairs = m.toList();
    const one = (await new SvdModel({ solver: 'als', factors: 20, epochs: 3, threads: 1 }).fit(m)).predictMany(pairs);
    const two = (await new SvdModel({ solver: 'als', factors: 20, epochs: 3, threads: 2 }).fit(m)).predictMany(pairs);
    expect(Array.from(two)).toEqual(Array.from(one));
  }, 30_000);
});

const ML = sharedDataPath('movielens-100k');

describeWithData('MovieLens 100k u1, 32 factors', ['movielens-100k/u1.base', 'movielens-100k/u1.test'], () => {
  it('ALS-CG (the default: 2 plain CG steps a row) tests as accurately as exact ALS', async () => {
    const { train, test } = await fileSplit(path.join(ML, 'u1.base'), path.join(ML, 'u1.test'));
    const rmse = async (solver: AlsRowSolver): Promise<number> => {
      const { P, Q } = initialFactors(train.nUsers, train.nMovies, 32, 42, 0.1, 0);
      const trainer = await createAlsTrainer(train, { factors: 32, reg: 12, regBias: 5, userFactors: P, movieFactors: Q, solver });
      for (let t = 0; t < 15; t++) await trainer.step();
      const s = trainer.state();
      await trainer.dispose();
      const mu = train.globalMean();
      let se = 0;
      for (let j = 0; j < test.length; j++) {
        const u = train.users.indexOf(test.users[j]);
        const i = train.movies.indexOf(test.movies[j]);
        let p = mu + (u >= 0 ? s.userBias[u] : 0) + (i >= 0 ? s.movieBias[i] : 0);
        if (u >= 0 && i >= 0) for (let f = 0; f < 32; f++) p += s.userFactors[u * 32 + f] * s.movieFactors[i * 32 + f];
        se += (Math.min(5, Math.max(1, p)) - test.ratings[j] * 0.5) ** 2;
      }
      return Math.sqrt(se / test.length);
    };
    const exact = await rmse('cholesky');
    const cg = await rmse('cg');
    console.log(`ML-100k u1, 32 factors, 15 iterations: exact ALS RMSE ${exact.toFixed(4)}, ALS-CG ${cg.toFixed(4)}`);
    expect(Math.abs(cg - exact)).toBeLessThan(0.002);
    expect(cg).toBeLessThan(0.94);
  }, 60_000);
});
