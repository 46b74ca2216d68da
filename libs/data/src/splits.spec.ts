import { Random } from '@recsys/core';
import {
  buildRatingMatrix,
  holdoutSplit,
  kFoldSplits,
  leaveKOutSplit,
  probeSplit,
  RatingList,
  RatingListBuilder,
  RatingMatrix,
  RatingPairs,
  Split,
  WHOLE_STARS_1_TO_5,
} from './index';

/** A random matrix: ~n ratings (duplicates dropped) over `users` × `movies`, with days. */
function randomMatrix(n: number, users: number, movies: number, seed: number): RatingMatrix {
  const rng = new Random(seed);
  const b = new RatingListBuilder(n, true);
  for (let k = 0; k < n; k++) b.push(100 + rng.int(users) * 3, 7 + rng.int(movies) * 5, 2 * (1 + rng.int(5)), 10_000 + rng.int(50));
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/** "user,movie,rating,day" strings of a list, sorted: a multiset that is easy to compare. */
function keysOf(list: RatingList): string[] {
  const out: string[] = [];
  for (let k = 0; k < list.length; k++) {
    out.push(`${list.users[k]},${list.movies[k]},${list.ratings[k]},${list.days ? list.days[k] : '-'}`);
  }
  return out.sort();
}

/** train ∪ test = all ratings as multisets, and no test (user, movie) pair is in train. */
function expectPartition(all: RatingMatrix, split: Split): void {
  expect(split.train.nRatings + split.test.length).toBe(all.nRatings);
  expect([...keysOf(split.train.toList()), ...keysOf(split.test)].sort()).toEqual(keysOf(all.toList()));
  const train = split.train;
  for (let k = 0; k < split.test.length; k++) {
    const u = train.users.indexOf(split.test.users[k]);
    const m = train.movies.indexOf(split.test.movies[k]);
    if (u >= 0 && m >= 0) expect(train.rating(u, m)).toBeNaN();
  }
}

/** Ratings per external user id in a list. */
function countsByUser(list: RatingList): Map<number, number> {
  const counts = new Map<number, number>();
  for (let k = 0; k < list.length; k++) counts.set(list.users[k], (counts.get(list.users[k]) ?? 0) + 1);
  return counts;
}

const matrix = randomMatrix(4000, 150, 80, 3);

describe('holdoutSplit', () => {
  it('puts exactly round(fraction × n) ratings in test and the rest in train', () => {
    const split = holdoutSplit(matrix, { testFraction: 0.2 });
    expect(split.test.length).toBe(Math.round(0.2 * matrix.nRatings));
    expect(split.train.scale).toBe(matrix.scale);
    expectPartition(matrix, split);
  });

  it('rounds half up on a tiny matrix: 7 ratings × 0.5 → 4 in test', () => {
    const tiny = randomMatrix(7, 1000, 1000, 1);
    expect(tiny.nRatings).toBe(7);
    const split = holdoutSplit(tiny, { testFraction: 0.5 });
    expect(split.test.length).toBe(4);
    expectPartition(tiny, split);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = holdoutSplit(matrix, { testFraction: 0.1, seed: 5 });
    const b = holdoutSplit(matrix, { testFraction: 0.1, seed: 5 });
    const c = holdoutSplit(matrix, { testFraction: 0.1, seed: 6 });
    expect(keysOf(b.test)).toEqual(keysOf(a.test));
    expect(keysOf(c.test)).not.toEqual(keysOf(a.test));
    // Default seed is 42.
    expect(keysOf(holdoutSplit(matrix, { testFraction: 0.1 }).test)).toEqual(keysOf(holdoutSplit(matrix, { testFraction: 0.1, seed: 42 }).test));
  });

  it('picks test ratings roughly uniformly (each rating ~ testFraction of the time over many seeds)', () => {
    const small = randomMatrix(40, 8, 8, 9);
    const hits = new Map<string, number>();
    const seeds = 400;
    for (let s = 0; s < seeds; s++) for (const key of keysOf(holdoutSplit(small, { testFraction: 0.25, seed: s }).test)) hits.set(key, (hits.get(key) ?? 0) + 1);
    const p = Math.round(0.25 * small.nRatings) / small.nRatings;
    // Binomial(400, p): standard deviation ≤ 10, so 5 sd is 50.
    for (const key of keysOf(small.toList())) expect(Math.abs((hits.get(key) ?? 0) - seeds * p)).toBeLessThan(50);
  });

  it('refuses a test fraction outside (0, 1)', () => {
    for (const f of [0, 1, -0.1, 1.5, NaN]) {
      expect(() => holdoutSplit(matrix, { testFraction: f })).toThrow(`holdoutSplit: testFraction must lie strictly between 0 and 1, got ${f}`);
    }
  });
});

describe('kFoldSplits', () => {
  it('tests every rating exactly once across folds of nearly equal size', () => {
    const folds = 5;
    const gen = kFoldSplits(matrix, { folds, seed: 11 });
    const tested: string[] = [];
    const sizes: number[] = [];
    let count = 0;
    for (const split of gen) {
      expectPartition(matrix, split);
      tested.push(...keysOf(split.test));
      sizes.push(split.test.length);
      count++;
    }
    expect(count).toBe(folds);
    expect(tested.sort()).toEqual(keysOf(matrix.toList()));
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(matrix.nRatings);
  });

  it('builds folds lazily, one per next()', () => {
    const gen = kFoldSplits(matrix, { folds: 3 });
    const first = gen.next();
    expect(first.done).toBe(false);
    expect(first.value.name).toMatch(/^fold 1\/3/);
    expect(gen.next().value.name).toMatch(/^fold 2\/3/);
    expect(gen.next().value.name).toMatch(/^fold 3\/3/);
    expect(gen.next().done).toBe(true);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const first = (seed: number) => keysOf(kFoldSplits(matrix, { folds: 4, seed }).next().value.test);
    expect(first(1)).toEqual(first(1));
    expect(first(1)).not.toEqual(first(2));
  });

  it('allows as many folds as ratings (leave-one-out)', () => {
    const tiny = randomMatrix(6, 1000, 1000, 2);
    const splits = [...kFoldSplits(tiny, { folds: tiny.nRatings })];
    expect(splits.map((s) => s.test.length)).toEqual(new Array(tiny.nRatings).fill(1));
  });

  it('refuses bad fold counts when called, not at the first next()', () => {
    expect(() => kFoldSplits(matrix, { folds: 1 })).toThrow('kFoldSplits: folds must be an integer of at least 2, got 1');
    expect(() => kFoldSplits(matrix, { folds: 2.5 })).toThrow('kFoldSplits: folds must be an integer of at least 2, got 2.5');
    expect(() => kFoldSplits(matrix, { folds: matrix.nRatings + 1 })).toThrow(
      `kFoldSplits: folds (${matrix.nRatings + 1}) must not exceed the number of ratings (${matrix.nRatings})`,
    );
  });
});

describe('leaveKOutSplit', () => {
  it('moves k ratings of every user with more than k ratings to test (default minTrain 1)', () => {
    const k = 3;
    const split = leaveKOutSplit(matrix, { k });
    expectPartition(matrix, split);
    const tested = countsByUser(split.test);
    let expectedTest = 0;
    for (let u = 0; u < matrix.nUsers; u++) {
      const n = matrix.userCount(u);
      const want = n > k ? k : 0;
      expectedTest += want;
      expect([matrix.users.ids[u], tested.get(matrix.users.ids[u]) ?? 0]).toEqual([matrix.users.ids[u], want]);
    }
    expect(split.test.length).toBe(expectedTest);
  });

  it('respects minTrain: users need k + minTrain ratings', () => {
    // Users with 1..6 ratings (user u rates movies 1..u).
    const b = new RatingListBuilder(32, false);
    for (let u = 1; u <= 6; u++) for (let m = 1; m <= u; m++) b.push(u, m, 6);
    const m = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
    const split = leaveKOutSplit(m, { k: 2, minTrain: 3 });
    expect(Object.fromEntries(countsByUser(split.test))).toEqual({ 5: 2, 6: 2 });
    const zero = leaveKOutSplit(m, { k: 2, minTrain: 0 });
    expect(Object.fromEntries(countsByUser(zero.test))).toEqual({ 2: 2, 3: 2, 4: 2, 5: 2, 6: 2 });
    expectPartition(m, zero);
  });

  it('byDate tests each user\u2019s latest k ratings', () => {
    const k = 2;
    const split = leaveKOutSplit(matrix, { k, byDate: true, seed: 8 });
    expectPartition(matrix, split);
    // Plain check: per user, the test days are the k largest of the user's days.
    const testDays = new Map<number, number[]>();
    for (let i = 0; i < split.test.length; i++) {
      const u = split.test.users[i];
      testDays.set(u, [...(testDays.get(u) ?? []), split.test.days![i]]);
    }
    for (let u = 0; u < matrix.nUsers; u++) {
      const days = Array.from(matrix.userDays!.subarray(matrix.userPtr[u], matrix.userPtr[u + 1])).sort((a, b) => b - a);
      const id = matrix.users.ids[u];
      const got = (testDays.get(id) ?? []).sort((a, b) => b - a);
      expect([id, got]).toEqual([id, days.length > k ? days.slice(0, k) : []]);
    }
  });

  it('byDate on a hand-made user picks the two latest dates', () => {
    const b = new RatingListBuilder(8, true);
    const rows: Array<[number, number]> = [
      [10, 500],
      [11, 900],
      [12, 100],
      [13, 700],
      [14, 300],
    ];
    for (const [movie, day] of rows) b.push(1, movie, 8, day);
    const m = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
    const split = leaveKOutSplit(m, { k: 2, byDate: true });
    expect(Array.from(split.test.movies).sort()).toEqual([11, 13]);
    expect(Array.from(split.train.movies.ids)).toEqual([10, 12, 14]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const test = (seed: number) => keysOf(leaveKOutSplit(matrix, { k: 2, seed }).test);
    expect(test(3)).toEqual(test(3));
    expect(test(3)).not.toEqual(test(4));
  });

  it('refuses bad options', () => {
    expect(() => leaveKOutSplit(matrix, { k: 0 })).toThrow('leaveKOutSplit: k must be an integer of at least 1, got 0');
    expect(() => leaveKOutSplit(matrix, { k: 1.5 })).toThrow('leaveKOutSplit: k must be an integer of at least 1, got 1.5');
    expect(() => leaveKOutSplit(matrix, { k: 1, minTrain: -1 })).toThrow('leaveKOutSplit: minTrain must be an integer of at least 0, got -1');
    const noDays = matrix;
    const stripped = new RatingMatrix(
      noDays.users,
      noDays.movies,
      noDays.scale,
      noDays.userPtr,
      noDays.userMovies,
      noDays.userRatings,
      null,
      noDays.moviePtr,
      noDays.movieUsers,
      noDays.movieRatings,
    );
    expect(() => leaveKOutSplit(stripped, { k: 1, byDate: true })).toThrow('leaveKOutSplit: byDate needs rating dates, and this matrix has none');
  });
});

describe('probeSplit', () => {
  // Users 1, 2, 3; movies 10, 20, 30.
  //   user 1: 10→5, 20→3     user 2: 10→4, 30→2     user 3: 20→1, 30→4
  function handMatrix(): RatingMatrix {
    const b = new RatingListBuilder(8, false);
    const rows: Array<[number, number, number]> = [
      [1, 10, 5],
      [1, 20, 3],
      [2, 10, 4],
      [2, 30, 2],
      [3, 20, 1],
      [3, 30, 4],
    ];
    for (const [u, m, r] of rows) b.push(u, m, r * 2);
    return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
  }

  function pairs(rows: Array<[number, number]>): RatingPairs {
    return {
      length: rows.length,
      users: Int32Array.from(rows.map((r) => r[0])),
      movies: Int32Array.from(rows.map((r) => r[1])),
      days: null,
    };
  }

  it('moves the listed pairs that exist to test and counts the missing ones', () => {
    const m = handMatrix();
    // (1, 30): user and movie known but not rated; (9, 10): unknown user; (2, 99): unknown movie.
    const split = probeSplit(m, pairs([[2, 30], [1, 30], [3, 20], [9, 10], [2, 99]]));
    expect(split.missing).toBe(3);
    expect(split.name).toBe('probe');
    expect(keysOf(split.test)).toEqual(['2,30,4,-', '3,20,2,-']);
    expect(keysOf(split.train.toList())).toEqual(['1,10,10,-', '1,20,6,-', '2,10,8,-', '3,30,8,-']);
    expectPartition(m, split);
  });

  it('moves a pair listed twice once', () => {
    const split = probeSplit(handMatrix(), pairs([[1, 10], [1, 10]]));
    expect(split.missing).toBe(0);
    expect(keysOf(split.test)).toEqual(['1,10,10,-']);
    expect(split.train.nRatings).toBe(5);
  });

  it('an empty probe leaves everything in train', () => {
    const m = handMatrix();
    const split = probeSplit(m, pairs([]));
    expect(split.test.length).toBe(0);
    expect(split.missing).toBe(0);
    expectPartition(m, split);
  });
});
