import { shareMatrixArrays } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, WHOLE_STARS_1_TO_5, IdIndex, matrixArraysOf, RatingMatrix } from './index';

function listOf(rows: Array<[number, number, number]>) {
  const b = new RatingListBuilder(2);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return b.finish();
}

describe('buildRatingMatrix', () => {
  it('builds by-user and by-movie layouts over sorted external ids', () => {
    const { matrix, duplicates } = buildRatingMatrix(
      listOf([
        [30, 7, 4],
        [10, 9, 5],
        [30, 2, 1],
        [20, 7, 3],
        [10, 2, 2],
      ]),
      WHOLE_STARS_1_TO_5,
    );
    expect(duplicates).toBe(0);
    expect([...matrix.users.ids]).toEqual([10, 20, 30]);
    expect([...matrix.movies.ids]).toEqual([2, 7, 9]);
    expect([...matrix.userPtr]).toEqual([0, 2, 3, 5]);
    expect([...matrix.userMovies]).toEqual([0, 2, 1, 0, 1]);
    expect([...matrix.userRatings]).toEqual([4, 10, 6, 2, 8]);
    expect([...matrix.moviePtr]).toEqual([0, 2, 4, 5]);
    expect([...matrix.movieUsers]).toEqual([0, 2, 1, 2, 0]);
    expect([...matrix.movieRatings]).toEqual([4, 2, 6, 8, 10]);
    expect(matrix.rating(2, 1)).toBe(4);
    expect(matrix.rating(1, 0)).toBeNaN();
    expect(matrix.globalMean()).toBeCloseTo(3, 12);
  });

  it('keeps the last of duplicate (user, movie) ratings and counts the others', () => {
    const { matrix, duplicates, duplicateExamples } = buildRatingMatrix(
      listOf([
        [1, 5, 2],
        [1, 5, 3],
        [2, 5, 1],
        [1, 5, 4],
      ]),
      WHOLE_STARS_1_TO_5,
    );
    expect(duplicates).toBe(2);
    expect(duplicateExamples[0]).toEqual({ user: 1, movie: 5 });
    expect(matrix.nRatings).toBe(2);
    expect(matrix.rating(matrix.users.indexOf(1), matrix.movies.indexOf(5))).toBe(4);
    expect([...matrix.movieRatings]).toEqual([8, 2]);
  });

  it('agrees with a plain map-based build on random data', () => {
    const rows: Array<[number, number, number]> = [];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let k = 0; k < 5000; k++) rows.push([rnd(300) * 7, rnd(80) + 1000, 1 + rnd(5)]);
    const { matrix } = buildRatingMatrix(listOf(rows), WHOLE_STARS_1_TO_5);
    const expected = new Map<string, number>();
    for (const [u, m, r] of rows) expected.set(`${u}:${m}`, r);
    expect(matrix.nRatings).toBe(expected.size);
    for (let u = 0; u < matrix.nUsers; u++) {
      for (let k = matrix.userPtr[u]; k < matrix.userPtr[u + 1]; k++) {
        const key = `${matrix.users.ids[u]}:${matrix.movies.ids[matrix.userMovies[k]]}`;
        expect(matrix.userRatings[k] / 2).toBe(expected.get(key));
        if (k > matrix.userPtr[u]) expect(matrix.userMovies[k]).toBeGreaterThan(matrix.userMovies[k - 1]);
      }
    }
    let viaColumns = 0;
    for (let m = 0; m < matrix.nMovies; m++) {
      for (let k = matrix.moviePtr[m]; k < matrix.moviePtr[m + 1]; k++) {
        const key = `${matrix.users.ids[matrix.movieUsers[k]]}:${matrix.movies.ids[m]}`;
        expect(matrix.movieRatings[k] / 2).toBe(expected.get(key));
        viaColumns++;
      }
    }
    expect(viaColumns).toBe(expected.size);
  });
});

describe('IdIndex', () => {
  it('maps sparse and dense ids both ways', () => {
    for (const values of [[5, 3, 3, 9], [2_000_000_000, 7, 7, 1_500_000_000]]) {
      const idx = IdIndex.fromValues(Int32Array.from(values));
      const sorted = [...new Set(values)].sort((a, b) => a - b);
      expect([...idx.ids]).toEqual(sorted);
      sorted.forEach((id, i) => expect(idx.indexOf(id)).toBe(i));
      expect(idx.indexOf(4)).toBe(-1);
      expect(idx.indexOf(-1)).toBe(-1);
    }
  });
});

describe('buildRatingMatrix over parts, in every input order', () => {
  type Row = [user: number, movie: number, code: number, day: number];

  /** Plain reference: the last rating (and day) of each (user, movie) pair, sorted by ids. */
  function reference(rows: readonly Row[]) {
    const last = new Map<string, Row>();
    for (const r of rows) last.set(`${r[0]}:${r[1]}`, r);
    const kept = [...last.values()];
    const byUser = [...kept].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const byMovie = [...kept].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    return { byUser, byMovie, duplicates: rows.length - kept.length };
  }

  /** The rows cut into parts at the given positions, each part a list with slack behind it. */
  function partsOf(rows: readonly Row[], cuts: number[], withDays: boolean) {
    const bounds = [0, ...cuts, rows.length];
    const parts = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const b = new RatingListBuilder(4, withDays);
      for (let k = bounds[i]; k < bounds[i + 1]; k++) b.push(rows[k][0], rows[k][1], rows[k][2], rows[k][3]);
      parts.push(b.view());
    }
    return parts;
  }

  let seed = 11;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);

  function randomRows(n: number, userIds: number[], movieIds: number[], withDays: boolean): Row[] {
    const rows: Row[] = [];
    for (let k = 0; k < n; k++) {
      rows.push([userIds[rnd(userIds.length)], movieIds[rnd(movieIds.length)], 2 * (1 + rnd(5)), withDays ? rnd(20000) : 0]);
    }
    return rows;
  }

  const dense = { users: Array.from({ length: 300 }, (_, i) => 5 + i * 7), movies: Array.from({ length: 60 }, (_, i) => 1 + i * 3) };
  // Ids far above 2^24 and 8 × the ratings: mapped through an IdIndex rather than a table by id.
  const sparse = { users: Array.from({ length: 200 }, (_, i) => 2_000_000_000 - i * 9_999_991), movies: [7, 1_999_999_999, 123_456_789, 50_000_000] };

  const orders: Array<[string, (rows: Row[]) => Row[]]> = [
    ['file order (random)', (rows) => rows],
    // Stable sorts keep the order of duplicates, so the last one read stays last.
    ['movie order', (rows) => [...rows].sort((a, b) => a[1] - b[1])],
    ['user order, rows unsorted', (rows) => [...rows].sort((a, b) => a[0] - b[0])],
  ];

  for (const [idsName, ids] of [['dense ids', dense], ['sparse ids', sparse]] as const) {
    for (const [orderName, order] of orders) {
      for (const withDays of [false, true]) {
        it(`matches a plain map-based build: ${idsName}, ${orderName}, ${withDays ? 'with' : 'without'} days, 1 or 3 parts`, () => {
          const rows = order(randomRows(3000, ids.users, ids.movies, withDays));
          const want = reference(rows);
          for (const cuts of [[], [1000, 1001], [rows.length >> 1]]) {
            const { matrix, duplicates, duplicateExamples } = buildRatingMatrix(partsOf(rows, cuts, withDays), WHOLE_STARS_1_TO_5);
            expect(duplicates).toBe(want.duplicates);
            expect(duplicateExamples.length).toBe(Math.min(5, want.duplicates));
            const gotByUser: Row[] = [];
            for (let u = 0; u < matrix.nUsers; u++) {
              for (let k = matrix.userPtr[u]; k < matrix.userPtr[u + 1]; k++) {
                gotByUser.push([matrix.users.ids[u], matrix.movies.ids[matrix.userMovies[k]], matrix.userRatings[k], matrix.userDays ? matrix.userDays[k] : 0]);
              }
            }
            expect(gotByUser).toEqual(want.byUser);
            expect(matrix.userDays === null).toBe(!withDays);
            const gotByMovie: Array<[number, number, number]> = [];
            for (let m = 0; m < matrix.nMovies; m++) {
              for (let k = matrix.moviePtr[m]; k < matrix.moviePtr[m + 1]; k++) {
                gotByMovie.push([matrix.users.ids[matrix.movieUsers[k]], matrix.movies.ids[m], matrix.movieRatings[k]]);
              }
            }
            expect(gotByMovie).toEqual(want.byMovie.map(([u, m, r]) => [u, m, r]));
          }
        });
      }
    }
  }

  it('keeps the later part’s rating of a pair repeated across parts, and reports it', () => {
    const parts = partsOf([[4, 9, 2, 0], [3, 9, 6, 0], [4, 9, 10, 0]], [2], false);
    const { matrix, duplicates, duplicateExamples } = buildRatingMatrix(parts, WHOLE_STARS_1_TO_5);
    expect(duplicates).toBe(1);
    expect(duplicateExamples).toEqual([{ user: 4, movie: 9 }]);
    expect(matrix.rating(matrix.users.indexOf(4), 0)).toBe(5);
    expect([...matrix.movieRatings]).toEqual([6, 10]);
  });

  it('builds an empty matrix from no ratings and refuses negative ids', () => {
    const empty = buildRatingMatrix([], WHOLE_STARS_1_TO_5).matrix;
    expect([empty.nUsers, empty.nMovies, empty.nRatings, empty.userPtr.length, empty.moviePtr.length]).toEqual([0, 0, 0, 1, 1]);
    expect(() => buildRatingMatrix(partsOf([[-1, 2, 2, 0]], [], false), WHOLE_STARS_1_TO_5)).toThrow(RangeError);
  });
});

describe('matrixArraysOf / RatingMatrix.fromArrays', () => {
  it('round-trip a matrix through its arrays (also in shared memory), without copying', () => {
    const matrix = buildRatingMatrix(listOf([[30, 7, 4], [10, 9, 5], [30, 2, 1], [20, 7, 3]]), WHOLE_STARS_1_TO_5).matrix;
    const arrays = matrixArraysOf(matrix);
    expect(arrays.userIds).toBe(matrix.users.ids);
    expect(arrays.userMovies).toBe(matrix.userMovies);
    expect(arrays.scale).toBe(matrix.scale);
    for (const a of [arrays, shareMatrixArrays(arrays)]) {
      const back = RatingMatrix.fromArrays(a);
      expect(back.userMovies).toBe(a.userMovies);
      expect(back.toList()).toEqual(matrix.toList());
      expect(back.rating(back.users.indexOf(30), back.movies.indexOf(2))).toBe(1);
      expect(back.userDays).toBeNull();
    }
  });

  it('refuses arrays without ids or scale', () => {
    const { userIds: _ids, ...withoutIds } = matrixArraysOf(RatingMatrix.empty());
    expect(() => RatingMatrix.fromArrays(withoutIds)).toThrow('RatingMatrix.fromArrays: the arrays carry no ids or no scale');
  });
});

describe('RatingMatrix.mostRatedMovie', () => {
  it('is the internal index of the movie with the most ratings, the lowest among ties, and -1 without movies', () => {
    // Movie ids 30, 10, 20 → internal 2, 0, 1; counts: 10 → 2, 20 → 2, 30 → 1.
    const b = new RatingListBuilder(8, false);
    for (const [u, m] of [[1, 30], [1, 10], [2, 10], [2, 20], [3, 20]]) b.push(u, m, 8, 0);
    const { matrix } = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5);
    expect(matrix.movies.ids[matrix.mostRatedMovie()]).toBe(10);
    const empty = buildRatingMatrix(new RatingListBuilder(1, false).finish(), WHOLE_STARS_1_TO_5).matrix;
    expect(empty.mostRatedMovie()).toBe(-1);
  });
});
