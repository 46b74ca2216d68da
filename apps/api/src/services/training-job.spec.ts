import { buildRatingMatrix, RatingListBuilder, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { smallDataset } from '../testing/harness';
import { matrixArraysOf } from '@recsys/data';
import { jobMatrix, movieTotalsOf, rebaseContent } from './training-job';

/** A matrix of (user, movie, stars) triples. */
function matrixOf(rows: Array<[number, number, number]>) {
  const list = new RatingListBuilder(rows.length, false);
  for (const [u, m, r] of rows) list.push(u, m, r * 2);
  return buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
}

describe('rebaseContent', () => {
  it('moves each user\'s and movie\'s rows to their index in the larger matrix and zeroes the ones it lacks (hand case)', () => {
    // from: users 10, 30; movies 1, 3. to: users 10, 20, 30; movies 1, 2, 3.
    const from = matrixOf([
      [10, 1, 4],
      [30, 3, 2],
    ]);
    const to = matrixOf([
      [10, 1, 4],
      [20, 2, 5],
      [30, 3, 2],
    ]);
    const content = {
      kind: 'svd',
      params: {},
      history: [],
      fingerprint: { users: 2, movies: 2, ratings: 2, crc32: '0' },
      scale: WHOLE_STARS_1_TO_5,
      meta: { globalMean: 3, factors: 2 },
      sections: {
        userBias: new Float64Array([0.5, -0.5]),
        movieBias: new Float64Array([0.25, -0.25]),
        userFactors: new Float32Array([1, 2, 3, 4]),
        movieFactors: new Float32Array([5, 6, 7, 8]),
      },
    };
    const out = rebaseContent(content, from, to);
    expect([...(out.sections.userBias as Float64Array)]).toEqual([0.5, 0, -0.5]);
    expect([...(out.sections.movieBias as Float64Array)]).toEqual([0.25, 0, -0.25]);
    expect([...(out.sections.userFactors as Float32Array)]).toEqual([1, 2, 0, 0, 3, 4]);
    expect([...(out.sections.movieFactors as Float32Array)]).toEqual([5, 6, 0, 0, 7, 8]);
    expect(out.fingerprint.ratings).toBe(3);
  });

  it('refuses a section it cannot place', () => {
    const a = matrixOf([[1, 1, 3]]);
    const b = matrixOf([
      [1, 1, 3],
      [2, 1, 3],
    ]);
    const content = { kind: 'x', params: {}, history: [], fingerprint: { users: 1, movies: 1, ratings: 1, crc32: '0' }, scale: WHOLE_STARS_1_TO_5, meta: {}, sections: { other: new Float32Array(1) } };
    expect(() => rebaseContent(content, a, b)).toThrow('section "other" is neither per user nor per movie');
  });
});

describe('movieTotalsOf', () => {
  it('counts and sums each movie\'s ratings as the whole rating list does (the plain reference)', () => {
    const train = smallDataset().matrix;
    const all = train.toList();
    const totals = movieTotalsOf(train);
    for (const m of [0, 7, train.nMovies - 1]) {
      let count = 0;
      let sum = 0;
      for (let j = 0; j < all.length; j++) {
        if (all.movies[j] === train.movies.ids[m]) {
          count++;
          sum += all.ratings[j] / 2;
        }
      }
      expect(totals.count[m]).toBe(count);
      expect(totals.sum[m]).toBeCloseTo(sum, 10);
    }
  });
});

describe('jobMatrix with API interactions (ranking kinds)', () => {
  it('adds each pair\'s interaction weights to its value: the data set\'s, or its latest API rating\'s, or 0 (hand case)', () => {
    // Data: user 1 rated movie 10 3 stars and movie 20 4 stars; user 2 rated movie 10 5 stars.
    const base = matrixOf([
      [1, 10, 3],
      [1, 20, 4],
      [2, 10, 5],
    ]);
    const extra = { users: Int32Array.of(1, 1), movies: Int32Array.of(20, 20), ratings: Uint8Array.of(2 * 2, 1 * 2) };
    // user 1: movie 10 +1 +0.5, movie 20 +2 (its latest API rating is 1 star); user 3 (new): movie 30 +2.5; user 2: movie 10 +200 (capped).
    const interactions = { users: Int32Array.of(1, 1, 1, 3, 2), movies: Int32Array.of(10, 20, 10, 30, 10), weights: Float32Array.of(1, 2, 0.5, 2.5, 200) };
    const m = jobMatrix({ base: matrixArraysOf(base), extra, interactions });
    const value = (u: number, movie: number) => m.rating(m.users.indexOf(u), m.movies.indexOf(movie));
    expect(value(1, 10)).toBe(4.5);
    expect(value(1, 20)).toBe(3);
    expect(value(3, 30)).toBe(2.5);
    expect(value(2, 10)).toBe(127.5);
    expect(m.nRatings).toBe(4);
    // Without interactions the API ratings alone: the latest wins.
    const ratingsOnly = jobMatrix({ base: matrixArraysOf(base), extra });
    expect(ratingsOnly.rating(ratingsOnly.users.indexOf(1), ratingsOnly.movies.indexOf(20))).toBe(1);
    expect(ratingsOnly.rating(ratingsOnly.users.indexOf(1), ratingsOnly.movies.indexOf(10))).toBe(3);
  });
});
