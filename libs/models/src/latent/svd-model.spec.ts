import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { randomRatings } from '@recsys/testing';
import { createModel } from '../model-kinds';
import { sgdEpoch } from './sgd/plain-trainer';
import { SvdModel, SVD_DEFAULTS } from './svd-model';

function matrixOf(rows: Array<[number, number, number]>): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  return buildRatingMatrix(randomRatings({ seed, users, movies, density }), WHOLE_STARS_1_TO_5).matrix;
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
