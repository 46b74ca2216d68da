import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { gaussianSolve, randomRatings, randomSpd, SeededRandom } from '@recsys/testing';
import { decodeModelArtifact, encodeModelArtifact } from '../artifact';
import { createModel, restoreModel } from '../model-kinds';
import { EaseModel } from './ease-model';
import { EaseSolver } from './ease/solver';
import { referenceGram, referenceWeights } from './ease/reference';

/** A matrix from [user, movie, stars] triples. */
function matrixOf(triples: ReadonlyArray<readonly [number, number, number]>): RatingMatrix {
  const b = new RatingListBuilder(64);
  for (const [u, m, r] of triples) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  return buildRatingMatrix(randomRatings({ seed, users, movies, density }), WHOLE_STARS_1_TO_5).matrix;
}

/** G⁻¹ by plain Gaussian elimination, one column of the identity at a time (n × n row-major). */
function referenceInverse(g: Float64Array, n: number): Float64Array {
  const inverse = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const e = new Float64Array(n);
    e[j] = 1;
    const x = gaussianSolve(g, e, n);
    for (let i = 0; i < n; i++) inverse[i * n + j] = x[i];
  }
  return inverse;
}

/** Largest |a − b| over max |b|. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let k = 0; k < b.length; k++) {
    err = Math.max(err, Math.abs(a[k] - b[k]));
    scale = Math.max(scale, Math.abs(b[k]));
  }
  return err / scale;
}

describe('EASE solver (WebAssembly sweep) against the plain f64 reference', () => {
  it.each([
    [3, 16, 1],
    [37, 16, 1],
    [70, 16, 2],
    [70, 32, 2],
    [130, 64, 2],
    [300, 16, 2],
  ])('inverts a random SPD matrix of %i items (block %i, %i threads) to f32 accuracy', async (n, blockSize, threads) => {
    // MᵀM/n + I (M uniform in [−1, 1)): eigenvalues in [1, about 5], so f32 keeps about 6 digits.
    const g = randomSpd(n, new SeededRandom(n)).map((v, k) => (k % (n + 1) === 0 ? (v - 1) / n + 1 : v / n));
    const solver = await EaseSolver.create(n, { threads, blockSize });
    try {
      solver.setMatrix(g);
      await solver.invert();
      const { np } = solver.layout;
      const m = solver.matrixView();
      // The lower triangle holds −G⁻¹.
      const got = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) got[i * n + j] = -(i >= j ? m[i * np + j] : m[j * np + i]);
      // G · G⁻¹ = I.
      let off = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += g[i * n + k] * got[k * n + j];
          off = Math.max(off, Math.abs(s - (i === j ? 1 : 0)));
        }
      }
      expect(off).toBeLessThan(1e-5);
      if (n <= 130) expect(relativeError(got, referenceInverse(g, n))).toBeLessThan(1e-5);
    } finally {
      await solver.dispose();
    }
  });

  it('refuses a block size that is not a multiple of 16 (W = V·D is formed 16 columns at a time)', async () => {
    await expect(EaseSolver.create(10, { threads: 1, blockSize: 8 })).rejects.toThrow('ease: block size must be a multiple of 16, got 8');
  });

  it('refuses a matrix that is not positive definite, naming the item and lambda', async () => {
    const solver = await EaseSolver.create(3, { threads: 1 });
    try {
      solver.setMatrix(Float64Array.from([1, 2, 0, 2, 1, 0, 0, 0, 1]));
      await expect(solver.invert()).rejects.toThrow('not positive definite in f32 at item index 1 (pivot ≤ 0): increase lambda');
    } finally {
      await solver.dispose();
    }
  });
});

describe('ease', () => {
  // Users 1: {1, 2}, 2: {2, 3}; λ = 1: G = [[2,1,0],[1,3,1],[0,1,2]], det 8, P = ⅛[[5,−2,1],[−2,4,−2],[1,−2,5]],
  // B_ij = −P_ij / P_jj by hand: [[0, .5, −.2], [.4, 0, .4], [−.2, .5, 0]].
  const hand = (): RatingMatrix => matrixOf([[1, 1, 5], [1, 2, 3], [2, 2, 4], [2, 3, 1]]);
  const handB = [0, 0.5, -0.2, 0.4, 0, 0.4, -0.2, 0.5, 0];

  it('computes the hand-worked 3 × 3 EASE', async () => {
    const model = await new EaseModel({ lambda: 1, minWeight: 0, threads: 1 }).fit(hand());
    const b = model.weights;
    for (let k = 0; k < 9; k++) expect(b[k]).toBeCloseTo(handB[k], 6);
    // User 1 has movies 1 and 2: scores = row 1 + row 2 of B = [0.4, 0.5, 0.2]; movie 3 is the only one left.
    expect(model.recommend(1, 5)).toEqual([{ movieId: 3, score: expect.closeTo(0.2, 6) }]);
    expect(model.recommend(1, 3, { excludeRated: false }).map((r) => r.movieId)).toEqual([2, 1, 3]);
    expect(model.predict(2, 1).unclipped).toBeCloseTo(0.4 - 0.2, 6);
    expect(model.lastFitTimings).toEqual({
      gramSeconds: expect.any(Number),
      inverseSeconds: expect.any(Number),
      totalSeconds: expect.any(Number),
      gramCpuSeconds: expect.any(Number),
      inverseCpuSeconds: expect.any(Number),
      peakBytes: expect.any(Number),
    });
  });

  it.each([
    ['binary', 0, 1],
    ['binary', 4, 2],
    ['value', 0, 2],
  ] as const)('matches the f64 reference EASE on random data (weighting %s, minWeight %i, %i threads)', async (weighting, minWeight, threads) => {
    const train = randomMatrix(7, 120, 90, 0.15);
    const lambda = 20;
    const model = await new EaseModel({ lambda, weighting, minWeight, threads }).fit(train);
    const n = train.nMovies;
    const reference = referenceWeights(referenceInverse(referenceGram(train, lambda, { minWeight, binary: weighting === 'binary' }), n), n);
    expect(relativeError(model.weights, reference)).toBeLessThan(1e-4);
    // Fold-in of a training user's interactions scores as the trained user does.
    const u = 5;
    const interactions = [];
    for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) interactions.push({ movieId: train.movies.ids[train.userMovies[k]], weight: train.userRatings[k] * 0.5 });
    const folded = model.foldIn(interactions);
    const userId = train.users.ids[u];
    const expected = model.recommend(userId, 10);
    const got = model.recommendFolded(folded, 10);
    expect(got.map((r) => r.movieId)).toEqual(expected.map((r) => r.movieId));
    for (let k = 0; k < got.length; k++) expect(got[k].score).toBeCloseTo(expected[k].score, 9);
    // And by the reference: Σ_i x_ui B_ij for the top movie.
    const top = train.movies.indexOf(expected[0].movieId);
    let score = 0;
    for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) {
      const v = train.userRatings[k] * 0.5;
      if (v >= minWeight) score += (weighting === 'binary' ? 1 : v) * reference[train.userMovies[k] * n + top];
    }
    expect(expected[0].score).toBeCloseTo(score, 3);
  });

  it('explains a score by contributions that sum to it exactly, largest |c| first', async () => {
    const train = randomMatrix(3, 60, 40, 0.2);
    const model = await new EaseModel({ lambda: 10, minWeight: 0, threads: 1 }).fit(train);
    const interactions = [
      { movieId: train.movies.ids[0], weight: 4 },
      { movieId: train.movies.ids[3], weight: 5 },
      { movieId: train.movies.ids[7], weight: 1 },
      { movieId: train.movies.ids[3], weight: 1 },
      { movieId: 999_999, weight: 5 },
    ];
    const target = train.movies.ids[11];
    const contributions = model.explain(interactions, target, 10);
    expect(contributions.map((c) => c.movieId).sort((a, b) => a - b)).toEqual([train.movies.ids[0], train.movies.ids[3], train.movies.ids[7]]);
    for (let k = 1; k < contributions.length; k++) expect(Math.abs(contributions[k - 1].contribution)).toBeGreaterThanOrEqual(Math.abs(contributions[k].contribution));
    const scores = new Float64Array(train.nMovies);
    model.scoreFolded(model.foldIn(interactions), scores);
    const byMovie = [...contributions].sort((a, b) => a.movieId - b.movieId);
    let sum = 0;
    for (const c of byMovie) sum += c.contribution;
    expect(sum).toBe(scores[11]);
    expect(byMovie[0].contribution).toBe(model.weights[0 * train.nMovies + 11]);
    expect(model.explain(interactions, target, 1)).toEqual([contributions[0]]);
  });

  it('finds similar movies in row m of B, the movie itself excluded', async () => {
    const model = await new EaseModel({ lambda: 1, minWeight: 0, threads: 1 }).fit(hand());
    // Row of movie 2: [0.4, 0, 0.4]: movies 1 and 3 tie (smaller id first).
    expect(model.similar(2, 5)).toEqual([
      { movieId: 1, similarity: expect.closeTo(0.4, 6) },
      { movieId: 3, similarity: expect.closeTo(0.4, 6) },
    ]);
    expect(model.similar(1, 1)).toEqual([{ movieId: 2, similarity: expect.closeTo(0.5, 6) }]);
    expect(model.similar(42, 3)).toEqual([]);
  });

  it('saves B as one f32 section and loads it back', async () => {
    const train = randomMatrix(11, 50, 30, 0.2);
    const model = (await createModel('ease', { lambda: 5, threads: 2 }).fit(train)) as EaseModel;
    const artifact = decodeModelArtifact(encodeModelArtifact(model.toArtifact()));
    expect(Object.keys(artifact.sections)).toEqual(['weights']);
    const loaded = (await restoreModel(artifact, train)) as EaseModel;
    expect(loaded.weights).toEqual(model.weights);
    expect(loaded.params).toEqual(model.params);
    expect(loaded.recommend(train.users.ids[0], 5)).toEqual(model.recommend(train.users.ids[0], 5));
  });

  it('refuses more items than maxItems, stating the bytes, and bad parameters', async () => {
    const train = randomMatrix(1, 20, 30, 0.3);
    await expect(new EaseModel({ maxItems: 29 }).fit(train)).rejects.toThrow(
      'ease: 30 items need a dense items² × 4 B matrix of 3,600 B (0.00 GB) (plus 9 B per interaction while fitting); maxItems is 29 (3,364 B (0.00 GB))',
    );
    expect(() => new EaseModel({ lambda: 0 })).toThrow('ease: lambda must be a number with 0 < lambda ≤ 1e9, got 0');
    expect(() => new EaseModel({ weighting: 'log' as never })).toThrow(`ease: weighting must be 'binary' or 'value', got "log"`);
    expect(() => createModel('ease', { lamda: 3 })).toThrow('ease: unknown parameter lamda');
  });

  it('takes minWeight 3 stars on rating data and 0 on implicit data unless given, and refuses a view with no interaction', async () => {
    const ratings = hand();
    const fitted = await new EaseModel({ lambda: 1, threads: 1 }).fit(ratings);
    expect(fitted.params.minWeight).toBe(3);
    // Movie 3's only rating is 1 star: below 3 it is no interaction, so B's row and column of it are 0.
    expect(Array.from(fitted.weights.subarray(6, 9))).toEqual([0, 0, 0]);
    const b = new RatingListBuilder(64);
    for (const [u, m] of [[1, 1], [1, 2], [2, 2], [2, 3]]) b.push(u, m, 2);
    const implicit = buildRatingMatrix(b.finish(), { min: 1, max: 1, step: 1, implicit: true } as unknown as typeof WHOLE_STARS_1_TO_5).matrix;
    const onImplicit = await new EaseModel({ lambda: 1, threads: 1 }).fit(implicit);
    expect(onImplicit.params.minWeight).toBe(0);
    for (let k = 0; k < 9; k++) expect(onImplicit.weights[k]).toBeCloseTo(handB[k], 6);
    await expect(new EaseModel({ minWeight: 2 }).fit(implicit)).rejects.toThrow('ease: none of the 4 stored values is ≥ minWeight 2 (the scale is 1..1): give a smaller minWeight');
  });

  it('reports the three phases through onProgress with the kernel memory', async () => {
    const phases: Array<string | undefined> = [];
    const model = await new EaseModel({ lambda: 5, threads: 1 }).fit(randomMatrix(2, 30, 20, 0.3), { onProgress: (p) => phases.push(p.phase?.split(':')[0]) });
    expect(phases).toEqual(['gram', 'inverse', 'weights']);
    expect(model.lastFitTimings!.peakBytes).toBeGreaterThan(20 * 20 * 4);
  });
});
