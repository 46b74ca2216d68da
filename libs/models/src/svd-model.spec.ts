import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { BiasedRidge } from './fold-in';
import { runEpochs } from './latent-model';
import { createModel } from './model-registry';
import { sgdEpoch } from './sgd-trainer';
import { alsHalfStep, SvdModel, SVD_DEFAULTS } from './svd-model';

function matrixOf(rows: Array<[number, number, number]>): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  const random = new Random(seed);
  const b = new RatingListBuilder(64);
  for (let u = 1; u <= users; u++) for (let m = 1; m <= movies; m++) if (random.next() < density) b.push(u, m, 2 * (1 + random.int(5)));
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

describe('sgdEpoch', () => {
  it('does one Surprise SGD step computed by hand', () => {
    // One rating r = 4, μ = 3, p = (0.1, 0.2), q = (0.3, −0.1), lr = lrBias = 0.1, reg = regBias = 0.2.
    // dot = 0.01, e = 0.99; b_u = b_i = 0.1·0.99 = 0.099
    // p = (0.1 + 0.1(0.99·0.3 − 0.02), 0.2 + 0.1(−0.099 − 0.04)) = (0.1277, 0.1861)
    // q = (0.3 + 0.1(0.99·0.1 − 0.06), −0.1 + 0.1(0.99·0.2 + 0.02)) = (0.3039, −0.0782)
    const m = matrixOf([[1, 1, 4]]);
    const ub = new Float32Array(1);
    const mb = new Float32Array(1);
    const P = Float32Array.from([0.1, 0.2]);
    const Q = Float32Array.from([0.3, -0.1]);
    const sse = sgdEpoch(m, Uint32Array.of(0), 3, ub, mb, P, Q, 2, 0.1, 0.2, 0.1, 0.2);
    expect(sse).toBeCloseTo(0.99 * 0.99, 6);
    expect(ub[0]).toBeCloseTo(0.099, 6);
    expect(mb[0]).toBeCloseTo(0.099, 6);
    expect(P[0]).toBeCloseTo(0.1277, 6);
    expect(P[1]).toBeCloseTo(0.1861, 6);
    expect(Q[0]).toBeCloseTo(0.3039, 6);
    expect(Q[1]).toBeCloseTo(-0.0782, 6);
  });
});

describe('alsHalfStep', () => {
  it('solves each user’s 2×2 ridge system like the closed form (Cramer’s rule), k = 1', () => {
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
    alsHalfStep(m, true, mu, new BiasedRidge(1), Q, movieBias, P, userBias, 1, reg, regBias);
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
});

describe('runEpochs', () => {
  it('stops after `patience` epochs without improvement and restores the best', async () => {
    const validation = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5];
    let current = -1;
    let snapshotAt = -1;
    let restoredTo = -1;
    const progress: number[] = [];
    const run = await runEpochs(
      { kind: 'test' },
      6,
      { validation: { length: 1, users: new Int32Array(1), movies: new Int32Array(1), ratings: new Uint8Array(1), days: null }, earlyStopping: { patience: 2 }, onProgress: (p) => progress.push(p.epoch) },
      (t) => {
        current = t;
        return 1;
      },
      () => validation[current],
      () => (snapshotAt = current),
      () => (restoredTo = snapshotAt),
    );
    expect(run.history.map((h) => h.validationRmse)).toEqual([1.0, 0.9, 0.95, 0.96]);
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(run.restoredBest).toBe(true);
    expect(restoredTo).toBe(1);
  });
});

describe('SvdModel', () => {
  const m = randomMatrix(3, 30, 20, 0.4);

  it('predicts μ + b_u + b_i + p_u·q_i from its state', async () => {
    const model = await new SvdModel({ factors: 4, epochs: 5 }).fit(m);
    const s = model.state();
    const u = 7;
    const i = 11;
    let dot = 0;
    for (let f = 0; f < 4; f++) dot += s.userFactors[u * 4 + f] * s.movieFactors[i * 4 + f];
    expect(model.predict(m.users.ids[u], m.movies.ids[i]).unclipped).toBeCloseTo(s.globalMean + s.userBias[u] + s.movieBias[i] + dot, 6);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const pairs = m.toList();
    const a = (await new SvdModel({ factors: 4, epochs: 5, seed: 7 }).fit(m)).predictMany(pairs);
    const b = (await new SvdModel({ factors: 4, epochs: 5, seed: 7 }).fit(m)).predictMany(pairs);
    const c = (await new SvdModel({ factors: 4, epochs: 5, seed: 8 }).fit(m)).predictMany(pairs);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('reports progress per epoch with validation RMSE, for every solver', async () => {
    const validation = m.toList();
    for (const solver of ['sgd', 'als', 'lbfgs'] as const) {
      const seen: number[] = [];
      const model = await new SvdModel({ solver, factors: 3, epochs: 4 }).fit(m, {
        validation,
        onProgress: (p) => {
          expect(p.trainRmse).toBeGreaterThan(0);
          expect(p.validationRmse).toBeGreaterThan(0);
          seen.push(p.epoch);
        },
      });
      expect(seen).toEqual([1, 2, 3, 4].slice(0, model.history.length));
      expect(seen.length).toBeGreaterThan(0);
    }
  });

  it('als lowers the training RMSE over its iterations', async () => {
    const model = await new SvdModel({ solver: 'als', factors: 3, epochs: 6, reg: 1, regBias: 1 }).fit(m);
    const rmse = model.history.map((h) => h.trainRmse!);
    // The objective (not the RMSE alone) is monotone; with small λ the RMSE follows it closely.
    expect(rmse[rmse.length - 1]).toBeLessThan(rmse[0]);
  });

  it('scoreAll-based recommend agrees with predict and skips rated movies', async () => {
    const model = await new SvdModel({ factors: 4, epochs: 5 }).fit(m);
    const userId = m.users.ids[4];
    const recs = model.recommend(userId, 5);
    const u = m.users.indexOf(userId);
    const rated = new Set(Array.from(m.userMovies.subarray(m.userPtr[u], m.userPtr[u + 1])).map((i) => m.movies.ids[i]));
    for (const r of recs) {
      expect(rated.has(r.movieId)).toBe(false);
      expect(r.score).toBeCloseTo(model.predict(userId, r.movieId).rating, 6);
    }
    // Best first, and nothing unrated scores higher than the last one returned.
    for (let j = 1; j < recs.length; j++) expect(recs[j].score).toBeLessThanOrEqual(recs[j - 1].score);
    for (const id of m.movies.ids) {
      if (!rated.has(id) && !recs.some((r) => r.movieId === id)) expect(model.predict(userId, id).rating).toBeLessThanOrEqual(recs[recs.length - 1].score + 1e-9);
    }
  });

  it('fills per-solver defaults and refuses bad parameters', () => {
    expect(createModel('svd').params).toEqual(SVD_DEFAULTS.sgd);
    expect(createModel('svd', { solver: 'als' }).params).toEqual(SVD_DEFAULTS.als);
    expect(createModel('svd', { solver: 'lbfgs', factors: 2 }).params).toMatchObject({ solver: 'lbfgs', factors: 2, epochs: SVD_DEFAULTS.lbfgs.epochs });
    expect(() => createModel('svd', { factors: -1 })).toThrow(/factors must be an integer/);
    expect(() => createModel('svd', { lr: 'fast' })).toThrow(/lr must be a finite number/);
    expect(() => createModel('svd', { learningRate: 0.1 })).toThrow(/unknown parameter "learningRate"/);
  });
});
