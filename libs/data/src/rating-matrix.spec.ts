import { buildRatingMatrix, RatingListBuilder, WHOLE_STARS_1_TO_5, IdIndex } from './index';

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
