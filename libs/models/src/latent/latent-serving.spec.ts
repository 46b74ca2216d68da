import { buildRatingMatrix, generateSynthetic, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { gaussSolve } from '../../test/reference';
import { BaselineModel } from './baseline-model';
import type { LatentModel } from './latent-model';
import { SvdModel } from './svd-model';
import { SvdppModel } from './svdpp-model';

// The serving verbs of LatentModel (fitted, foldIn, predictFolded, explain) against plain
// reimplementations over the copied state: the ridge fold-in solved by Gaussian elimination.

const full = buildRatingMatrix(generateSynthetic({ ratings: 4000, users: 120, movies: 60, seed: 5 }).list, WHOLE_STARS_1_TO_5).matrix;
// The user with the most ratings is held out of training and comes back through fold-in.
let target = 0;
for (let u = 1; u < full.nUsers; u++) if (full.userCount(u) > full.userCount(target)) target = u;
const targetId = full.users.ids[target];
const train: RatingMatrix = full.select((p) => p < full.userPtr[target] || p >= full.userPtr[target + 1]);
const theirRatings = Array.from({ length: full.userCount(target) }, (_, j) => {
  const p = full.userPtr[target] + j;
  return { movieId: full.movies.ids[full.userMovies[p]], rating: full.userRatings[p] * 0.5 };
});
const unknownMovie = 999_999;
const unknownUser = 888_888;

/** Plain ridge fold-in over known movies: A = Σ x_j x_jᵀ + diag(λ…λ, λ_b), x_j = [q_j; 1], y_j = r_j − μ − b_j. */
function plainSystem(model: LatentModel, ratings: ReadonlyArray<{ movieId: number; rating: number }>, reg: number, regBias = reg) {
  const s = model.state();
  const k = model.factorCount;
  const known = ratings.filter((r) => model.train.movies.has(r.movieId));
  const X = known.map((r) => {
    const m = model.train.movies.indexOf(r.movieId);
    return [...Array.from(s.movieFactors.subarray(m * k, m * k + k)), 1];
  });
  const y = known.map((r) => r.rating - s.globalMean - s.movieBias[model.train.movies.indexOf(r.movieId)]);
  const A = Array.from({ length: k + 1 }, (_, a) => Array.from({ length: k + 1 }, (_, b) => X.reduce((sum, x) => sum + x[a] * x[b], 0) + (a === b ? (a === k ? regBias : reg) : 0)));
  return { s, k, known, X, y, A };
}

function plainFoldIn(model: LatentModel, ratings: ReadonlyArray<{ movieId: number; rating: number }>, reg: number): number[] {
  const { k, X, y, A } = plainSystem(model, ratings, reg);
  return gaussSolve(A, Array.from({ length: k + 1 }, (_, a) => X.reduce((sum, x, j) => sum + x[a] * y[j], 0)));
}

function qOf(model: LatentModel, movieId: number): number[] {
  const k = model.factorCount;
  const m = model.train.movies.indexOf(movieId);
  return Array.from(model.state().movieFactors.subarray(m * k, m * k + k));
}

const models: Array<[string, () => Promise<LatentModel>, (m: LatentModel) => number]> = [
  ['svd (sgd)', () => new SvdModel({ factors: 4, epochs: 8 }).fit(train), () => 1],
  ['svd (als)', () => new SvdModel({ solver: 'als', factors: 3, epochs: 4, reg: 2.5, regBias: 2 }).fit(train), () => 2.5],
  ['svdpp', () => new SvdppModel({ factors: 3, epochs: 4, foldInReg: 0.7 }).fit(train), () => 0.7],
  ['baseline', () => new BaselineModel({ regUser: 6 }).fit(train), () => 6],
];

describe.each(models)('LatentModel serving verbs: %s', (_name, fit, expectedReg) => {
  let model: LatentModel;
  beforeAll(async () => {
    model = await fit();
  });

  it('foldInReg is public and the model\'s own default λ of fold-in', () => {
    expect(model.foldInReg).toBe(expectedReg(model));
    expect(Array.from(model.foldIn(theirRatings).vector)).toEqual(Array.from(model.foldInUser(theirRatings, { reg: expectedReg(model) })));
  });

  it('fitted: the model\'s own arrays (no copy), equal to the copies of state()', () => {
    const a = model.fitted;
    const b = model.fitted;
    expect(a.movieFactors).toBe(b.movieFactors);
    expect(a.userFactors).toBe(b.userFactors);
    expect(a.movieBias).toBe(b.movieBias);
    // toArtifact writes the stored arrays themselves.
    expect(a.movieFactors).toBe(model.toArtifact().sections.movieFactors);
    const s = model.state();
    expect(s.movieFactors).not.toBe(a.movieFactors);
    expect(Array.from(a.movieFactors)).toEqual(Array.from(s.movieFactors));
    expect(Array.from(a.userBias)).toEqual(Array.from(s.userBias));
    expect(a.globalMean).toBe(s.globalMean);
    expect(a.k).toBe(model.factorCount);
  });

  it('predictFolded(null, …) is predict with μ + b_u + b_i as baseline; unknowns fall back with their reason', () => {
    const s = model.state();
    const userId = train.users.ids[3];
    const movieId = train.movies.ids[7];
    const u = train.users.indexOf(userId);
    const m = train.movies.indexOf(movieId);
    expect(model.predictFolded(null, userId, movieId)).toEqual({ ...model.predict(userId, movieId), baseline: s.globalMean + s.userBias[u] + s.movieBias[m], foldedIn: false });
    expect(model.predictFolded(null, unknownUser, movieId)).toMatchObject({ fallback: 'unknown-user', baseline: s.globalMean + s.movieBias[m], unclipped: s.globalMean + s.movieBias[m] });
    expect(model.predictFolded(null, userId, unknownMovie)).toMatchObject({ fallback: 'unknown-movie', baseline: s.globalMean + s.userBias[u], unclipped: s.globalMean + s.userBias[u] });
    expect(model.predictFolded(null, unknownUser, unknownMovie)).toMatchObject({ fallback: 'unknown-user-and-movie', baseline: s.globalMean, rating: s.globalMean });
  });

  it('predictFolded(foldIn(ratings), …): μ + b_u + b_i + p_u·q_i of the ridge fold-in solved by hand (clipped)', () => {
    const s = model.state();
    const k = model.factorCount;
    const folded = model.foldIn(theirRatings);
    // SVD++'s fold-in adds the implicit term to p_u (checked in fold-in.spec): take its vector as given.
    const v = model instanceof SvdppModel ? Array.from(folded.vector) : plainFoldIn(model, theirRatings, expectedReg(model));
    expect(folded.knownRatings).toBe(theirRatings.length);
    for (const movieId of [train.movies.ids[0], train.movies.ids[11], theirRatings[0].movieId]) {
      const m = train.movies.indexOf(movieId);
      const q = qOf(model, movieId);
      const baseline = s.globalMean + v[k] + s.movieBias[m];
      const expected = baseline + q.reduce((sum, qf, f) => sum + qf * v[f], 0);
      const p = model.predictFolded(folded, targetId, movieId);
      expect(p).toMatchObject({ userId: targetId, movieId, fallback: null, foldedIn: true });
      expect(p.unclipped).toBeCloseTo(expected, 4);
      expect(p.baseline).toBeCloseTo(baseline, 4);
      expect(p.rating).toBe(Math.min(5, Math.max(1, p.unclipped)));
    }
    const onlyBias = model.predictFolded(folded, targetId, unknownMovie);
    expect(onlyBias).toMatchObject({ fallback: 'unknown-movie', foldedIn: true });
    expect(onlyBias.unclipped).toBeCloseTo(s.globalMean + v[k], 4);
    expect(onlyBias.baseline).toBe(onlyBias.unclipped);
  });

  it('predictFolded clips to the scale and says unknown-user when no rating was of a known movie', () => {
    const s = model.state();
    const k = model.factorCount;
    const movieId = train.movies.ids[2];
    const m = train.movies.indexOf(movieId);
    const high = new Float32Array(k + 1);
    high[k] = 10;
    const clipped = model.predictFolded({ vector: high, knownRatings: 1 }, unknownUser, movieId);
    expect(clipped.rating).toBe(5);
    expect(clipped.unclipped).toBeCloseTo(s.globalMean + 10 + s.movieBias[m], 5);
    const nothingKnown = model.foldIn([{ movieId: unknownMovie, rating: 5 }]);
    expect(nothingKnown.knownRatings).toBe(0);
    expect(model.predictFolded(nothingKnown, unknownUser, movieId)).toMatchObject({ fallback: 'unknown-user', unclipped: s.globalMean + s.movieBias[m], foldedIn: true });
    expect(model.predictFolded(nothingKnown, unknownUser, unknownMovie)).toMatchObject({ fallback: 'unknown-user-and-movie', unclipped: s.globalMean });
    // A user known to the model is known whatever the folded-in ratings were.
    expect(model.predictFolded(nothingKnown, train.users.ids[0], movieId).fallback).toBeNull();
    expect(() => model.predictFolded({ vector: new Float32Array(k + 2), knownRatings: 1 }, 1, movieId)).toThrow(/folded-in vector/);
  });

  it('explain: c_j = ([q_i; 1]ᵀ W x_j)·y_j by hand, largest |c_j| first; they sum to b_u + p_u·q_i of the fold-in', () => {
    const reg = expectedReg(model);
    const { k, known, X, y, A } = plainSystem(model, [...theirRatings, { movieId: unknownMovie, rating: 1 }], reg);
    const movieId = train.movies.ids[5];
    const q = qOf(model, movieId);
    const z = gaussSolve(A, [...q, 1]);
    const norm = (x: number[]) => Math.sqrt(x.reduce((sum, v) => sum + v * v, 0));
    const expected = known
      .map((r, j) => {
        const cos = k === 0 ? null : q.reduce((sum, qf, f) => sum + qf * X[j][f], 0) / (norm(q) * norm(X[j].slice(0, k)));
        return { movieId: r.movieId, rating: r.rating, contribution: z.reduce((sum, zf, f) => sum + zf * X[j][f], 0) * y[j], factorSimilarity: cos };
      })
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.movieId - b.movieId);
    const items = model.explain([...theirRatings, { movieId: unknownMovie, rating: 1 }], movieId);
    expect(items.map((c) => c.movieId)).toEqual(expected.map((c) => c.movieId));
    items.forEach((c, j) => {
      expect(c.rating).toBe(expected[j].rating);
      expect(c.contribution).toBeCloseTo(expected[j].contribution, 6);
      if (k === 0) expect(c.factorSimilarity).toBeNull();
      else expect(c.factorSimilarity).toBeCloseTo(expected[j].factorSimilarity!, 5);
    });
    expect(model.explain(theirRatings, movieId, 3)).toEqual(items.slice(0, 3));
    // The split is exact for the fold-in of the same ratings (SVD++ leaves its implicit term out).
    if (!(model instanceof SvdppModel)) {
      const s = model.state();
      const p = model.predictFolded(model.foldIn(theirRatings), targetId, movieId);
      const total = items.reduce((sum, c) => sum + c.contribution, 0);
      expect(total).toBeCloseTo(p.unclipped - s.globalMean - s.movieBias[train.movies.indexOf(movieId)], 4);
    }
    expect(model.explain(theirRatings, unknownMovie)).toEqual([]);
    expect(model.explain([{ movieId: unknownMovie, rating: 4 }], movieId)).toEqual([]);
  });
});

it('explain on the baseline model by hand: b_u = Σ y_j / (n + λ), so c_j = y_j / (n + λ)', async () => {
  const model = await new BaselineModel({ regUser: 4 }).fit(train);
  const s = model.state();
  const ratings = theirRatings.slice(0, 5);
  const ys = ratings.map((r) => r.rating - s.globalMean - s.movieBias[train.movies.indexOf(r.movieId)]);
  const items = model.explain(ratings, train.movies.ids[0]);
  for (const c of items) {
    const j = ratings.findIndex((r) => r.movieId === c.movieId);
    expect(c.contribution).toBeCloseTo(ys[j] / (5 + 4), 10);
  }
  expect(items).toHaveLength(5);
  const bu = ys.reduce((a, b) => a + b, 0) / 9;
  expect(model.foldIn(ratings).vector[0]).toBeCloseTo(bu, 5);
});
