import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { randomRatings, SeededRandom } from '@recsys/testing';
import { foldInFactors } from './fold-in';
import { SvdModel } from './svd-model';
import { SvdppModel } from './svdpp-model';
import { gaussSolve } from '../../test/reference';

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  // Ratings with structure (user and movie effects plus noise), so that a model can learn them.
  const random = new SeededRandom(seed);
  const userEffect = Array.from({ length: users + 1 }, () => random.normal() * 0.7);
  const movieEffect = Array.from({ length: movies + 1 }, () => random.normal() * 0.7);
  const stars = (u: number, m: number) => Math.min(5, Math.max(1, Math.round(3.5 + userEffect[u + 1] + movieEffect[m + 1] + 0.5 * random.normal())));
  return buildRatingMatrix(randomRatings({ random, users, movies, density, stars }), WHOLE_STARS_1_TO_5).matrix;
}


describe('foldInFactors', () => {
  it('solves the ridge normal equations exactly (closed form by Gaussian elimination)', () => {
    const k = 3;
    const random = new Random(11);
    const nMovies = 6;
    const Q = Float32Array.from({ length: nMovies * k }, () => random.normal());
    const movieBias = Float64Array.from({ length: nMovies }, () => random.normal() * 0.3);
    const mu = 3.4;
    const movies = [0, 2, 3, 5];
    const ratings = [4, 2, 5, 3];
    const offsets = [0.1, -0.2, 0, 0.05];
    const reg = 0.8;
    const regBias = 0.4;
    const x = foldInFactors(Q, movieBias, mu, k, { length: 4, movies, ratings }, reg, regBias, offsets);
    // Σ x_j x_jᵀ + diag(λ, λ, λ, λ_b), x_j = [q_j; 1]; right side Σ y_j x_j.
    const M = Array.from({ length: k + 1 }, () => new Array<number>(k + 1).fill(0));
    const c = new Array<number>(k + 1).fill(0);
    movies.forEach((m, j) => {
      const xj = [...Array.from(Q.subarray(m * k, m * k + k)), 1];
      const y = ratings[j] - mu - movieBias[m] - offsets[j];
      for (let a = 0; a <= k; a++) {
        c[a] += y * xj[a];
        for (let b = 0; b <= k; b++) M[a][b] += xj[a] * xj[b];
      }
    });
    for (let a = 0; a < k; a++) M[a][a] += reg;
    M[k][k] += regBias;
    const expected = gaussSolve(M, c);
    for (let a = 0; a <= k; a++) expect(x[a]).toBeCloseTo(expected[a], 5);
  });
});

describe('LatentModel.foldInUser', () => {
  const full = randomMatrix(21, 120, 60, 0.3);
  // The user with the most ratings is removed from training and folded in from their ratings.
  let target = 0;
  for (let u = 1; u < full.nUsers; u++) if (full.userCount(u) > full.userCount(target)) target = u;
  const targetId = full.users.ids[target];
  const train = full.select((p) => p < full.userPtr[target] || p >= full.userPtr[target + 1]);
  const theirRatings = Array.from({ length: full.userCount(target) }, (_, j) => {
    const p = full.userPtr[target] + j;
    return { movieId: full.movies.ids[full.userMovies[p]], rating: full.userRatings[p] * 0.5 };
  });

  it('predicts the folded-in user close to the model trained with them (svd, als)', async () => {
    const withUser = await new SvdModel({ solver: 'als', factors: 4, epochs: 10, reg: 2, regBias: 2 }).fit(full);
    const without = await new SvdModel({ solver: 'als', factors: 4, epochs: 10, reg: 2, regBias: 2 }).fit(train);
    expect(without.train.users.has(targetId)).toBe(false);
    const vector = without.foldInUser(theirRatings);
    expect(vector).toHaveLength(5);
    let diff = 0;
    let errFold = 0;
    let errMean = 0;
    for (const r of theirRatings) {
      const folded = without.predictForFactors(vector, r.movieId);
      diff += Math.abs(folded - withUser.predict(targetId, r.movieId).rating);
      errFold += (folded - r.rating) ** 2;
      errMean += (without.predict(targetId, r.movieId).rating - r.rating) ** 2;
    }
    expect(diff / theirRatings.length).toBeLessThan(0.25);
    // Far better on their ratings than the unknown-user fallback μ + b_i.
    expect(errFold).toBeLessThan(0.7 * errMean);
    const recs = without.recommendForFactors(vector, 5, theirRatings.map((r) => r.movieId));
    expect(recs).toHaveLength(Math.min(5, without.train.nMovies - theirRatings.length));
    for (const rec of recs) {
      expect(theirRatings.some((r) => r.movieId === rec.movieId)).toBe(false);
      expect(rec.score).toBeCloseTo(without.predictForFactors(vector, rec.movieId), 6);
    }
  });

  it('svdpp folds in with the implicit term of the rated movies', async () => {
    const model = await new SvdppModel({ factors: 4, epochs: 10 }).fit(train);
    const vector = model.foldInUser(theirRatings);
    let errFold = 0;
    let errFallback = 0;
    for (const r of theirRatings) {
      errFold += (model.predictForFactors(vector, r.movieId) - r.rating) ** 2;
      errFallback += (model.predict(targetId, r.movieId).rating - r.rating) ** 2;
    }
    expect(errFold).toBeLessThan(errFallback);
  });

  it('ignores unknown movies and refuses bad vectors', async () => {
    const model = await new SvdModel({ factors: 3, epochs: 2 }).fit(train);
    const v = model.foldInUser([{ movieId: 999999, rating: 5 }]);
    expect(Array.from(v)).toEqual([0, 0, 0, 0]);
    expect(() => model.predictForFactors(new Float32Array(2), 1)).toThrow(/expected a folded-in vector of 4 values/);
  });
});
