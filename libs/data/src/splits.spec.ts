import { Random } from '@recsys/core';
import { randomRatingDraws } from '@recsys/testing';
import {
  buildRatingMatrix,
  holdoutMask,
  holdoutSlice,
  holdoutSplit,
  kFoldSplits,
  leaveKOutSplit,
  leaveLastSplit,
  perUserHoldoutSplit,
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
  const ratings = randomRatingDraws({ seed, count: n, users, movies, userId: (u) => 100 + u * 3, movieId: (m) => 7 + m * 5, days: { first: 10_000, span: 50 } });
  return buildRatingMatrix(ratings, WHOLE_STARS_1_TO_5).matrix;
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

/** The held-out by-user positions, plainly: a full array of positions, partially Fisher–Yates-shuffled. */
function referenceHeldOut(n: number, fraction: number, seed: number): Set<number> {
  const positions = Array.from({ length: n }, (_, k) => k);
  const rng = new Random(seed);
  const nTest = Math.round(fraction * n);
  for (let i = 0; i < nTest; i++) {
    const j = i + rng.int(n - i);
    [positions[i], positions[j]] = [positions[j], positions[i]];
  }
  return new Set(positions.slice(0, nTest));
}

/** For each movie index, its (user index, rating code) pairs read from the by-user rows: the transpose, plainly. */
function columnsFromRows(m: RatingMatrix): string[] {
  const cols: string[][] = Array.from({ length: m.nMovies }, () => []);
  for (let u = 0; u < m.nUsers; u++) for (let k = m.userPtr[u]; k < m.userPtr[u + 1]; k++) cols[m.userMovies[k]].push(`${u}:${m.userRatings[k]}`);
  return cols.map((c) => c.join(' '));
}

function columns(m: RatingMatrix): string[] {
  const out: string[] = [];
  for (let j = 0; j < m.nMovies; j++) {
    const c: string[] = [];
    for (let k = m.moviePtr[j]; k < m.moviePtr[j + 1]; k++) c.push(`${m.movieUsers[k]}:${m.movieRatings[k]}`);
    out.push(c.join(' '));
  }
  return out;
}

describe('holdoutMask', () => {
  it.each([
    [0.02, 42],
    [0.05, 7],
    [0.2, 42],
    [0.5, 3],
  ])('holds out the positions of a plain partial Fisher–Yates (fraction %p, seed %p)', (fraction, seed) => {
    const mask = holdoutMask(matrix, { testFraction: fraction, seed });
    const expected = referenceHeldOut(matrix.nRatings, fraction, seed);
    const got = new Set<number>();
    mask.forEach((v, k) => v === 1 && got.add(k));
    expect(got.size).toBe(Math.round(fraction * matrix.nRatings));
    expect(got).toEqual(expected);
  });
});

describe('holdoutSlice', () => {
  // Many users with one or two ratings: a 30 % slice takes every rating of some of them.
  const sparse = randomMatrix(500, 300, 40, 11);
  const options = { testFraction: 0.3, seed: 9 };

  it('holds out the same ratings as holdoutSplit and keeps every user and movie at its index', () => {
    const slice = holdoutSlice(sparse, options);
    const split = holdoutSplit(sparse, options);
    expect(keysOf(slice.test)).toEqual(keysOf(split.test));
    expect(keysOf(slice.train.toList())).toEqual(keysOf(split.train.toList()));
    expect(slice.train.users).toBe(sparse.users);
    expect(slice.train.movies).toBe(sparse.movies);
    expect(slice.train.nUsers).toBe(sparse.nUsers);
    // The case it is for: some users lost every rating (holdoutSplit drops them, holdoutSlice keeps an empty row).
    expect(split.train.nUsers).toBeLessThan(sparse.nUsers);
    let empty = 0;
    for (let u = 0; u < sparse.nUsers; u++) if (slice.train.userCount(u) === 0) empty++;
    expect(empty).toBe(sparse.nUsers - split.train.nUsers);
  });

  it('trains on exactly the ratings not held out, by user and by movie', () => {
    const { train } = holdoutSlice(sparse, options);
    const held = referenceHeldOut(sparse.nRatings, options.testFraction, options.seed);
    const expected: string[] = [];
    for (let u = 0; u < sparse.nUsers; u++) {
      for (let k = sparse.userPtr[u]; k < sparse.userPtr[u + 1]; k++) if (!held.has(k)) expected.push(`${u},${sparse.userMovies[k]},${sparse.userRatings[k]},${sparse.userDays![k]}`);
    }
    const got: string[] = [];
    for (let u = 0; u < train.nUsers; u++) for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) got.push(`${u},${train.userMovies[k]},${train.userRatings[k]},${train.userDays![k]}`);
    expect(got).toEqual(expected);
    expect(columns(train)).toEqual(columnsFromRows(train));
  });

  it('consume compacts into the source buffers and gives the same matrix as a copy; days: false drops the dates', () => {
    const copy = holdoutSlice(sparse, options);
    const noDays = holdoutSlice(sparse, { ...options, days: false });
    expect(noDays.train.userDays).toBeNull();
    const source = randomMatrix(500, 300, 40, 11);
    const consumed = holdoutSlice(source, { ...options, consume: true });
    expect(consumed.train.userMovies.buffer).toBe(source.userMovies.buffer);
    expect(consumed.train.movieUsers.buffer).toBe(source.movieUsers.buffer);
    for (const key of ['userPtr', 'userMovies', 'userRatings', 'userDays', 'moviePtr', 'movieUsers', 'movieRatings'] as const) {
      expect(Array.from(consumed.train[key]!)).toEqual(Array.from(copy.train[key]!));
    }
    expect(keysOf(consumed.test)).toEqual(keysOf(copy.test));
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

describe('perUserHoldoutSplit', () => {
  it('holds out min(c − 1, max(1, round(f · c))) of each user\u2019s c ratings, none of a one-rating user', () => {
    const split = perUserHoldoutSplit(matrix, { testFraction: 0.2, seed: 3 });
    expectPartition(matrix, split);
    const tested = countsByUser(split.test);
    for (let u = 0; u < matrix.nUsers; u++) {
      const c = matrix.userCount(u);
      const want = c < 2 ? 0 : Math.min(c - 1, Math.max(1, Math.round(0.2 * c)));
      expect([matrix.users.ids[u], tested.get(matrix.users.ids[u]) ?? 0]).toEqual([matrix.users.ids[u], want]);
    }
  });

  it('on hand-made users with 1, 2, 3, 10 and 11 ratings at f = 0.2 holds out 0, 1, 1, 2 and 2', () => {
    const b = new RatingListBuilder(32, false);
    for (const [u, c] of [[1, 1], [2, 2], [3, 3], [4, 10], [5, 11]]) for (let m = 1; m <= c; m++) b.push(u, m, 6);
    const m = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
    const split = perUserHoldoutSplit(m, { testFraction: 0.2 });
    expect(Object.fromEntries(countsByUser(split.test))).toEqual({ 2: 1, 3: 1, 4: 2, 5: 2 });
    // A large fraction still leaves every user one training rating.
    const most = perUserHoldoutSplit(m, { testFraction: 0.99 });
    expect(Object.fromEntries(countsByUser(most.test))).toEqual({ 2: 1, 3: 2, 4: 9, 5: 10 });
    expect(Object.fromEntries(countsByUser(most.train.toList()))).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 });
  });

  it('picks each of a user\u2019s ratings about equally often over seeds', () => {
    const b = new RatingListBuilder(8, false);
    for (let m = 1; m <= 4; m++) b.push(1, m, 6);
    const m = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
    const counts = [0, 0, 0, 0, 0];
    const seeds = 800;
    for (let seed = 0; seed < seeds; seed++) counts[perUserHoldoutSplit(m, { testFraction: 0.25, seed }).test.movies[0]]++;
    // One of 4 held out: each movie 200 times in expectation (sd ≈ 12).
    for (let movie = 1; movie <= 4; movie++) expect(Math.abs(counts[movie] - seeds / 4)).toBeLessThan(60);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const test = (seed: number) => keysOf(perUserHoldoutSplit(matrix, { testFraction: 0.1, seed }).test);
    expect(test(3)).toEqual(test(3));
    expect(test(3)).not.toEqual(test(4));
  });

  it('refuses a fraction outside (0, 1) and data where no user has two ratings', () => {
    for (const f of [0, 1, -0.1, 1.5, NaN, 1e9]) {
      expect(() => perUserHoldoutSplit(matrix, { testFraction: f })).toThrow(`perUserHoldoutSplit: testFraction must lie strictly between 0 and 1, got ${f}`);
    }
    const b = new RatingListBuilder(4, false);
    b.push(1, 1, 6);
    b.push(2, 1, 6);
    const single = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
    expect(() => perUserHoldoutSplit(single, { testFraction: 0.5 })).toThrow('perUserHoldoutSplit: no user has 2 ratings (of 2 ratings, 2 users): nothing to hold out');
  });
});

describe('leaveLastSplit', () => {
  /** A list in the given row order: [user, movie, stars, day]. */
  function rowsList(rows: Array<[number, number, number, number]>): RatingList {
    const b = new RatingListBuilder(rows.length, true);
    for (const [u, m, stars, day] of rows) b.push(u, m, stars * 2, day);
    return b.finish();
  }
  const FILE: Array<[number, number, number, number]> = [
    [1, 10, 4, 5],
    [3, 20, 5, 2],
    [1, 11, 3, 7],
    [2, 10, 5, 1],
    [1, 12, 5, 7],
    [3, 21, 1, 2],
    [1, 13, 2, 3],
    [3, 22, 4, 1],
  ];

  it('holds out each user\u2019s last n by date, a tie on the day going to the later row of the file', () => {
    // User 1: days 5, 7, 7, 3 → by (day, row): 13, 10, 11, 12. User 3: days 2, 2, 1 → 22, 20, 21.
    const two = leaveLastSplit(rowsList(FILE), WHOLE_STARS_1_TO_5, { n: 2 });
    expect(Array.from(two.test.users)).toEqual([1, 1, 3, 3]);
    expect(Array.from(two.test.movies)).toEqual([11, 12, 20, 21]);
    expect(Array.from(two.test.days!)).toEqual([7, 7, 2, 2]);
    expect(Array.from(two.test.ratings)).toEqual([6, 10, 10, 2]);
    // User 2's one row stays in train.
    expect(keysOf(two.train.toList())).toEqual(['1,10,8,5', '1,13,4,3', '2,10,10,1', '3,22,8,1']);
    const one = leaveLastSplit(rowsList(FILE), WHOLE_STARS_1_TO_5, { n: 1 });
    expect(Array.from(one.test.movies)).toEqual([12, 21]);
    // The same rows in another file order change which tie is last.
    const swapped = [...FILE];
    [swapped[2], swapped[4]] = [swapped[4], swapped[2]];
    expect(Array.from(leaveLastSplit(rowsList(swapped), WHOLE_STARS_1_TO_5, { n: 1 }).test.movies)).toEqual([11, 21]);
  });

  it('holds out a repeated movie (clicks) with all its rows, timed by its latest row', () => {
    // User 1 clicks 10 (day 1), 11 (day 2), 10 again (day 3), 12 (day 2, after 11 in the file).
    const clicks = rowsList([
      [1, 10, 1, 1],
      [1, 11, 1, 2],
      [1, 10, 1, 3],
      [1, 12, 1, 2],
      [2, 10, 1, 1],
      [2, 10, 1, 2],
    ]);
    const one = leaveLastSplit(clicks, WHOLE_STARS_1_TO_5, { n: 1 });
    // Movie 10's latest click (day 3) is the last: both of its rows go to test; user 2 has one movie.
    expect(Array.from(one.test.movies)).toEqual([10, 10]);
    expect(Array.from(one.test.days!)).toEqual([1, 3]);
    expect(Array.from(one.train.movies.ids)).toEqual([10, 11, 12]);
    expect(one.train.rating(one.train.users.indexOf(1), one.train.movies.indexOf(10))).toBeNaN();
    // The next two by time: 12 (day 2, the later row) then 10.
    expect(Array.from(leaveLastSplit(clicks, WHOLE_STARS_1_TO_5, { n: 2 }).test.movies)).toEqual([12, 10, 10]);
    expect(() => leaveLastSplit(clicks, WHOLE_STARS_1_TO_5, { n: 3 })).toThrow('leaveLastSplit: no user has more than 3 movies (the most is 3)');
  });

  it('matches a plain sort by (day, row) per user on a shuffled random list with many ties', () => {
    const base = matrix.toList();
    const order = new Random(9).shuffle(Uint32Array.from({ length: base.length }, (_, i) => i));
    const b = new RatingListBuilder(base.length, true);
    for (const j of order) b.push(base.users[j], base.movies[j], base.ratings[j], base.days![j]);
    const list = b.finish();
    const n = 3;
    const split = leaveLastSplit(list, WHOLE_STARS_1_TO_5, { n });
    const byUser = new Map<number, number[]>();
    for (let j = 0; j < list.length; j++) byUser.set(list.users[j], [...(byUser.get(list.users[j]) ?? []), j]);
    const expected: string[] = [];
    for (const rows of byUser.values()) {
      if (rows.length <= n) continue;
      const sorted = [...rows].sort((a, b2) => list.days![a] - list.days![b2] || a - b2);
      for (const j of sorted.slice(-n)) expected.push(`${list.users[j]},${list.movies[j]},${list.ratings[j]},${list.days![j]}`);
    }
    expect(keysOf(split.test)).toEqual(expected.sort());
    expectPartition(matrix, split);
  });

  it('refuses data without dates, n below 1 or not an integer, and an n no user exceeds', () => {
    const noDays: RatingList = { ...rowsList(FILE), days: null };
    expect(() => leaveLastSplit(noDays, WHOLE_STARS_1_TO_5, { n: 1 })).toThrow('leaveLastSplit: the data has no timestamps');
    expect(() => leaveLastSplit(rowsList(FILE), WHOLE_STARS_1_TO_5, { n: 0 })).toThrow('leaveLastSplit: n must be an integer of at least 1, got 0');
    expect(() => leaveLastSplit(rowsList(FILE), WHOLE_STARS_1_TO_5, { n: 1.5 })).toThrow('leaveLastSplit: n must be an integer of at least 1, got 1.5');
    expect(() => leaveLastSplit(rowsList(FILE), WHOLE_STARS_1_TO_5, { n: 4 })).toThrow('leaveLastSplit: no user has more than 4 movies (the most is 4): nothing to hold out');
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
