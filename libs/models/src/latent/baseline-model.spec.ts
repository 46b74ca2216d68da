import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingList, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { fitBaselinesAls } from '@recsys/similarity';
import { BaselineModel } from './baseline-model';
import { createModel } from '../model-kinds';

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

/** The training ratings mirrored (6 − r): the better the fit, the worse their RMSE. */
function mirrored(m: RatingMatrix): RatingList {
  const list = m.toList();
  const ratings = Uint8Array.from(list.ratings, (code) => 12 - code);
  return { ...list, ratings };
}

function rmseOn(model: BaselineModel, list: RatingList): number {
  const predictions = model.predictMany(list);
  let se = 0;
  for (let j = 0; j < list.length; j++) se += (predictions[j] - list.ratings[j] * 0.5) ** 2;
  return Math.sqrt(se / list.length);
}

const ROWS: Array<[number, number, number]> = [
  [1, 10, 4],
  [1, 20, 5],
  [2, 10, 2],
  [2, 30, 3],
  [3, 20, 4],
  [3, 30, 1],
  [3, 40, 5],
];

describe('BaselineModel', () => {
  const m = matrixOf(ROWS);

  it('als (the default) equals fitBaselinesAls with the swept defaults (10 iterations, regUser 5, regMovie 3)', async () => {
    const model = await new BaselineModel().fit(m);
    expect(model.params).toMatchObject({ solver: 'als', epochs: 10, regUser: 5, regMovie: 3 });
    const expected = fitBaselinesAls(m, { iterations: 10, regUser: 5, regMovie: 3 });
    expect(Array.from(model.userBiases)).toEqual(Array.from(expected.userBias));
    expect(Array.from(model.movieBiases)).toEqual(Array.from(expected.movieBias));
    // biases(): μ, b_u, b_i without the factors (pearson-baseline's baselines in the API), as copies.
    const b = model.biases();
    expect(b.globalMean).toBe(expected.globalMean);
    expect(Array.from(b.userBias)).toEqual(Array.from(expected.userBias));
    expect(Array.from(b.movieBias)).toEqual(Array.from(expected.movieBias));
    b.userBias[0] += 1;
    expect(model.biases().userBias[0]).toBe(expected.userBias[0]);
    const u = m.users.indexOf(3);
    const i = m.movies.indexOf(40);
    expect(model.predict(3, 40).unclipped).toBeCloseTo(expected.globalMean + expected.userBias[u] + expected.movieBias[i], 12);
  });

  it('falls back to μ + b_u for an unknown movie and μ + b_i for an unknown user', async () => {
    const model = await new BaselineModel().fit(m);
    const s = model.state();
    expect(model.predict(2, 99)).toMatchObject({ fallback: 'unknown-movie', unclipped: s.globalMean + s.userBias[m.users.indexOf(2)] });
    expect(model.predict(9, 30)).toMatchObject({ fallback: 'unknown-user', unclipped: s.globalMean + s.movieBias[m.movies.indexOf(30)] });
    expect(model.predict(9, 99)).toMatchObject({ fallback: 'unknown-user-and-movie', unclipped: s.globalMean });
  });

  it('sgd: one epoch over two ratings computed by hand (Surprise’s update, stored order)', async () => {
    // User 1 rated movie 10 → 4 and movie 20 → 2; μ = 3; lr 0.1, reg 0.5.
    // rating 1: e = 4 − 3 = 1; b_u = 0.1·(1 − 0) = 0.1; b_10 = 0.1.
    // rating 2: e = 2 − (3 + 0.1 + 0) = −1.1; b_u = 0.1 + 0.1·(−1.1 − 0.05) = −0.015;
    //           b_20 = 0.1·(−1.1 − 0) = −0.11.
    const tiny = matrixOf([
      [1, 10, 4],
      [1, 20, 2],
    ]);
    const model = await new BaselineModel({ solver: 'sgd', epochs: 1, lr: 0.1, reg: 0.5 }).fit(tiny);
    const s = model.state();
    expect(s.userBias[0]).toBeCloseTo(-0.015, 6);
    expect(s.movieBias[0]).toBeCloseTo(0.1, 6);
    expect(s.movieBias[1]).toBeCloseTo(-0.11, 6);
    expect(model.history).toHaveLength(1);
    // Training RMSE of the errors seen during the epoch: √((1 + 1.21)/2).
    expect(model.history[0].trainRmse).toBeCloseTo(Math.sqrt(2.21 / 2), 6);
  });

  it('lbfgs minimises the notebook objective: at the fit, each b_u solves its own normal equation', async () => {
    const model = await new BaselineModel({ solver: 'lbfgs', reg: 0.01 }).fit(m);
    expect(model.lbfgsResult!.converged).toBe(true);
    const s = model.state();
    const N = m.nRatings;
    // ∂f/∂b_u = (2/N) Σ_i (α + b_u + b_i − r) + 2λ b_u = 0
    for (let u = 0; u < m.nUsers; u++) {
      let sum = 0;
      for (let p = m.userPtr[u]; p < m.userPtr[u + 1]; p++) sum += s.globalMean + s.userBias[u] + s.movieBias[m.userMovies[p]] - m.userRatings[p] * 0.5;
      expect((2 / N) * sum + 2 * 0.01 * s.userBias[u]).toBeCloseTo(0, 5);
    }
  });

  it('is created by kind with its params, and refuses unknown parameters and solvers', () => {
    expect(createModel('baseline', { solver: 'sgd' }).params).toMatchObject({ solver: 'sgd', epochs: 20, lr: 0.005, reg: 0.02 });
    expect(createModel('baseline', { solver: 'lbfgs' }).params).toMatchObject({ reg: 0.001 });
    expect(() => createModel('baseline', { factors: 3 })).toThrow(/unknown parameter "factors"/);
    expect(() => createModel('baseline', { solver: 'newton' })).toThrow(/solver must be one of/);
    expect(() => createModel('nope')).toThrow(/unknown model kind "nope"/);
  });

  describe.each(['als', 'sgd', 'lbfgs'] as const)('%s, through the epoch loop', (solver) => {
    const r = randomMatrix(5, 40, 25, 0.3);

    it('reports the training and validation RMSE of every epoch', async () => {
      const validation = r.toList();
      const seen: number[] = [];
      const model = await new BaselineModel({ solver, epochs: 5 }).fit(r, { validation, onProgress: (p) => seen.push(p.epoch) });
      expect(model.history.length).toBeGreaterThan(0);
      expect(seen).toEqual(model.history.map((h) => h.epoch));
      expect(seen).toEqual([1, 2, 3, 4, 5].slice(0, seen.length));
      for (const h of model.history) {
        expect(h.trainRmse).toBeGreaterThan(0);
        expect(h.validationRmse).toBeGreaterThan(0);
      }
      // The last epoch's validation RMSE is the fitted model's.
      expect(rmseOn(model, validation)).toBeCloseTo(model.history[model.history.length - 1].validationRmse!, 12);
    });

    it('honours earlyStopping: stops once the validation RMSE stops improving and keeps the best epoch', async () => {
      const validation = mirrored(r);
      // Surprise's ALS regularisation (15, 10), under which this validation set turns within 30 epochs.
      const model = await new BaselineModel({ solver, epochs: 30, regUser: 15, regMovie: 10 }).fit(r, { validation, earlyStopping: { patience: 2 } });
      const v = model.history.map((h) => h.validationRmse!);
      const best = Math.min(...v);
      const bestEpoch = v.indexOf(best);
      expect(v.length).toBeLessThan(30);
      expect(v.length).toBe(bestEpoch + 3);
      expect(rmseOn(model, validation)).toBeCloseTo(best, 12);
      await expect(new BaselineModel({ solver }).fit(r, { earlyStopping: { patience: 2 } })).rejects.toThrow('baseline: earlyStopping needs a validation set');
    });
  });
});
