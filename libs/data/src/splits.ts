import { Random } from '@recsys/core';
import { RatingPairs } from './dataset';
import { buildRatingMatrix } from './build-matrix';
import { releaseMemory } from './release-memory';
import { IdIndex } from './id-index';
import { RatingList, RatingListBuilder, RatingMatrix } from './rating-matrix';
import { RatingScale } from './rating-scale';

/**
 * A train/test split. `train` holds the training ratings as a matrix (its ids are re-derived, so
 * a user or movie whose every rating went to test is absent from it); `test` holds the held-out
 * ratings as external ids, in user order. Every rating of the source matrix is in exactly one of
 * the two.
 */
export interface Split {
  readonly name: string;
  readonly train: RatingMatrix;
  readonly test: RatingList;
}

export interface SplitOptions {
  /** Seed of the `Random` stream that picks the test ratings. Default 42. */
  seed?: number;
}

const DEFAULT_SEED = 42;

/** Train and test from a mask over by-user positions: mask[k] = 1 puts rating k in test. */
function splitByMask(name: string, matrix: RatingMatrix, testMask: Uint8Array): Split {
  const train = buildRatingMatrix(
    matrix.toList((k) => testMask[k] === 0),
    matrix.scale,
  ).matrix;
  const test = matrix.toList((k) => testMask[k] === 1);
  return { name, train, test };
}

function seedOf(options: SplitOptions): number {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isFinite(seed)) throw new RangeError(`split: seed must be a finite number, got ${seed}`);
  return seed;
}

/**
 * Random holdout: exactly `round(testFraction × nRatings)` ratings go to test, the first that
 * many positions of a seeded Fisher–Yates shuffle of all rating positions; the rest train.
 * `testFraction` must lie in (0, 1). Default seed 42.
 */
export function holdoutSplit(matrix: RatingMatrix, options: SplitOptions & { testFraction: number }): Split {
  const mask = holdoutMask(matrix, options);
  return splitByMask(`holdout ${options.testFraction} (seed ${seedOf(options)})`, matrix, mask);
}

/**
 * The held-out positions of {@link holdoutSplit} as a mask over by-user positions (mask[k] = 1:
 * rating k is held out): the first round(testFraction × n) positions of a seeded partial
 * Fisher–Yates shuffle of 0..n−1. A small slice (under 1/16 of the ratings) keeps only the
 * displaced entries of the shuffle in a Map (about 50 bytes per held-out rating instead of 4 bytes
 * per rating); the draws and so the mask are the same either way.
 */
export function holdoutMask(matrix: RatingMatrix, options: SplitOptions & { testFraction: number }): Uint8Array {
  const { testFraction } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`holdoutSplit: testFraction must lie strictly between 0 and 1, got ${testFraction}`);
  }
  const seed = seedOf(options);
  const n = matrix.nRatings;
  const nTest = Math.round(testFraction * n);
  const rng = new Random(seed);
  const mask = new Uint8Array(n);
  if (nTest * 16 < n) {
    // positions[j] = displaced.get(j) ?? j; position i is never read again after step i.
    const displaced = new Map<number, number>();
    for (let i = 0; i < nTest; i++) {
      const j = i + rng.int(n - i);
      const atI = displaced.get(i) ?? i;
      const atJ = displaced.get(j) ?? j;
      displaced.set(j, atI);
      displaced.delete(i);
      mask[atJ] = 1;
    }
    return mask;
  }
  const positions = new Uint32Array(n);
  for (let k = 0; k < n; k++) positions[k] = k;
  // Partial Fisher–Yates: after step i, positions[0..i] is a uniform random i+1-subset in random order.
  for (let i = 0; i < nTest; i++) {
    const j = i + rng.int(n - i);
    const t = positions[i];
    positions[i] = positions[j];
    positions[j] = t;
    mask[positions[i]] = 1;
  }
  return mask;
}

/**
 * The guard's held-out slice: the held-out ratings of {@link holdoutSplit} (same seed, same
 * ratings), but a training matrix that keeps every user and movie of `matrix` at the same index
 * (a user or movie whose every rating is held out keeps an empty row), so a model fitted on it is
 * indexed like `matrix` and serves over it as it is. `test` lists the held-out ratings in user
 * order. With `consume: true` the training matrix is compacted in place into `matrix`'s own
 * buffers (no second copy of the ratings; `matrix` must not be used afterwards); otherwise it is a
 * new matrix. `days: false` leaves the dates out (10 instead of 12 bytes per rating in a copy).
 */
export function holdoutSlice(
  matrix: RatingMatrix,
  options: SplitOptions & { testFraction: number; consume?: boolean; days?: boolean },
): { train: RatingMatrix; test: RatingList } {
  const slice = sliceByMask(matrix, holdoutMask(matrix, options), options.consume === true, options.days ?? true);
  // The masks (1 byte per rating each) are garbage now: return them before the caller allocates its trainer.
  releaseMemory();
  return slice;
}

function sliceByMask(matrix: RatingMatrix, mask: Uint8Array, consume: boolean, days: boolean): { train: RatingMatrix; test: RatingList } {
  const test = matrix.toList((k) => mask[k] === 1);
  return { train: withoutMasked(matrix, mask, days, consume), test };
}

/** For each by-movie position, whether the same rating is masked: users ascending visit each column in order. */
function movieMaskOf(matrix: RatingMatrix, mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(matrix.nRatings);
  const next = matrix.moviePtr.slice(0, matrix.nMovies);
  const { userPtr, userMovies } = matrix;
  for (let u = 0; u < matrix.nUsers; u++) {
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
      const at = next[userMovies[k]]++;
      if (mask[k] === 1) out[at] = 1;
    }
  }
  return out;
}

/** New row pointers of `ptr` once the masked positions are gone. */
function prunedPointers(ptr: Uint32Array, mask: Uint8Array): Uint32Array {
  const out = new Uint32Array(ptr.length);
  let kept = 0;
  for (let r = 0; r + 1 < ptr.length; r++) {
    for (let k = ptr[r]; k < ptr[r + 1]; k++) kept += 1 - mask[k];
    out[r + 1] = kept;
  }
  return out;
}

/** Keeps the unmasked entries of `from` (in order) in `to`, which may be `from` itself: the write never passes the read. */
function keepUnmasked<T extends Int32Array | Uint8Array | Uint16Array>(from: T, to: T, mask: Uint8Array): void {
  let w = 0;
  for (let k = 0; k < from.length; k++) {
    if (mask[k] === 0) to[w++] = from[k];
  }
}

/**
 * `matrix` without the masked ratings, same ids and indices: in new arrays, or with `inPlace`
 * compacted into `matrix`'s own buffers (views of them; `matrix` must not be used afterwards).
 */
function withoutMasked(matrix: RatingMatrix, mask: Uint8Array, days: boolean, inPlace: boolean): RatingMatrix {
  const movieMask = movieMaskOf(matrix, mask);
  const userPtr = prunedPointers(matrix.userPtr, mask);
  const moviePtr = prunedPointers(matrix.moviePtr, movieMask);
  const n = userPtr[matrix.nUsers];
  const keep = <T extends Int32Array | Uint8Array | Uint16Array>(a: T, m: Uint8Array, Ctor: new (n: number) => T): T => {
    const to = inPlace ? a : new Ctor(n);
    keepUnmasked(a, to, m);
    return inPlace ? (a.subarray(0, n) as T) : to;
  };
  const userDays = days && matrix.userDays ? keep(matrix.userDays, mask, Uint16Array) : null;
  return new RatingMatrix(
    matrix.users,
    matrix.movies,
    matrix.scale,
    userPtr,
    keep(matrix.userMovies, mask, Int32Array),
    keep(matrix.userRatings, mask, Uint8Array),
    userDays,
    moviePtr,
    keep(matrix.movieUsers, movieMask, Int32Array),
    keep(matrix.movieRatings, movieMask, Uint8Array),
  );
}

/**
 * k-fold cross-validation: a seeded permutation of all rating positions is cut into `folds`
 * parts of nearly equal size (part f is permutation entries floor(f·n/k) .. floor((f+1)·n/k)-1,
 * so sizes differ by at most one); fold f tests on part f and trains on the others. Every
 * rating is tested exactly once across the folds. Folds are built lazily, one at a time, so only
 * one fold's training matrix need be alive. `folds` must be an integer in [2, nRatings].
 * Default seed 42. Options are checked when this is called, not at the first `next()`.
 */
export function kFoldSplits(matrix: RatingMatrix, options: SplitOptions & { folds: number }): Generator<Split> {
  const { folds } = options;
  const n = matrix.nRatings;
  if (!Number.isInteger(folds) || folds < 2) {
    throw new RangeError(`kFoldSplits: folds must be an integer of at least 2, got ${folds}`);
  }
  if (folds > n) {
    throw new RangeError(`kFoldSplits: folds (${folds}) must not exceed the number of ratings (${n})`);
  }
  const seed = seedOf(options);
  return generateFolds(matrix, folds, seed);
}

function* generateFolds(matrix: RatingMatrix, folds: number, seed: number): Generator<Split> {
  const n = matrix.nRatings;
  const permutation = new Uint32Array(n);
  for (let k = 0; k < n; k++) permutation[k] = k;
  new Random(seed).shuffle(permutation);
  const mask = new Uint8Array(n);
  for (let f = 0; f < folds; f++) {
    mask.fill(0);
    const from = Math.floor((f * n) / folds);
    const to = Math.floor(((f + 1) * n) / folds);
    for (let j = from; j < to; j++) mask[permutation[j]] = 1;
    yield splitByMask(`fold ${f + 1}/${folds} (seed ${seed})`, matrix, mask);
  }
}

/**
 * Per-user leave-k-out: every user with at least `k + minTrain` ratings puts `k` of them in
 * test and keeps the rest (at least `minTrain`) in train; users with fewer ratings keep all of
 * theirs in train. The k are chosen uniformly at random (seeded), or with `byDate: true` they
 * are the user's k latest by date (ties on a day broken at random); `byDate` needs a matrix with
 * days. Defaults: minTrain 1 (so users with more than k ratings are split), byDate false,
 * seed 42. `k` must be an integer ≥ 1, `minTrain` an integer ≥ 0.
 */
export function leaveKOutSplit(
  matrix: RatingMatrix,
  options: SplitOptions & { k: number; byDate?: boolean; minTrain?: number },
): Split {
  const { k } = options;
  const minTrain = options.minTrain ?? 1;
  const byDate = options.byDate ?? false;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`leaveKOutSplit: k must be an integer of at least 1, got ${k}`);
  if (!Number.isInteger(minTrain) || minTrain < 0) {
    throw new RangeError(`leaveKOutSplit: minTrain must be an integer of at least 0, got ${minTrain}`);
  }
  const days = matrix.userDays;
  if (byDate && days === null) {
    throw new RangeError('leaveKOutSplit: byDate needs rating dates, and this matrix has none');
  }
  const seed = seedOf(options);
  const need = k + minTrain;
  const heldOut = (count: number): number => (count < need ? 0 : k);
  const mask = perUserMask(matrix, seed, heldOut, byDate ? days : null);
  const how = byDate ? 'latest' : 'random';
  return splitByMask(`leave-${k}-out ${how} (minTrain ${minTrain}, seed ${seed})`, matrix, mask);
}

/** The most ratings any user has: the size of per-user scratch arrays. */
function maxUserCount(matrix: RatingMatrix): number {
  const ptr = matrix.userPtr;
  let most = 0;
  for (let u = 0; u < matrix.nUsers; u++) most = Math.max(most, ptr[u + 1] - ptr[u]);
  return most;
}

/**
 * A test mask over by-user positions holding out `heldOut(count)` ratings of each user (count =
 * the user's ratings), users in index order, one `Random(seed)` stream. Without `days` they are
 * chosen uniformly at random (a partial Fisher–Yates over the user's offsets); with `days` they
 * are the user's latest, ties on a day broken at random: key = day · 2^32 + rank in a random
 * order of the user's ratings, distinct (< 2^48, exact in a double), the largest keys held out.
 */
function perUserMask(matrix: RatingMatrix, seed: number, heldOut: (count: number) => number, days: Uint16Array | null): Uint8Array {
  const rng = new Random(seed);
  const ptr = matrix.userPtr;
  const most = maxUserCount(matrix);
  const local = new Uint32Array(most);
  const keys = days === null ? null : new Float64Array(most);
  const mask = new Uint8Array(matrix.nRatings);
  for (let u = 0; u < matrix.nUsers; u++) {
    const start = ptr[u];
    const count = ptr[u + 1] - start;
    const h = heldOut(count);
    if (h === 0) continue;
    for (let i = 0; i < count; i++) local[i] = i;
    if (keys === null) {
      for (let i = 0; i < h; i++) {
        const j = i + rng.int(count - i);
        const t = local[i];
        local[i] = local[j];
        local[j] = t;
        mask[start + local[i]] = 1;
      }
    } else {
      const order = rng.shuffle(local.subarray(0, count));
      for (let rank = 0; rank < count; rank++) keys[rank] = days![start + order[rank]] * 4294967296 + rank;
      const sorted = keys.subarray(0, count).sort();
      for (let i = count - h; i < count; i++) mask[start + order[sorted[i] % 4294967296]] = 1;
    }
  }
  return mask;
}

/**
 * Per-user holdout: each user with c ≥ 2 ratings holds out h = min(c − 1, max(1, round(testFraction
 * · c))) of them, chosen uniformly at random (seeded), so every such user has at least one test
 * and at least one training rating; a user with one rating keeps it in train. Unlike
 * {@link holdoutSplit}, light users are tested in proportion, not left to chance. `testFraction`
 * must lie strictly between 0 and 1; default seed 42. Throws when no user has 2 ratings (nothing
 * could be held out).
 */
export function perUserHoldoutSplit(matrix: RatingMatrix, options: SplitOptions & { testFraction: number }): Split {
  const { testFraction } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`perUserHoldoutSplit: testFraction must lie strictly between 0 and 1, got ${testFraction}`);
  }
  const seed = seedOf(options);
  if (maxUserCount(matrix) < 2) throw new RangeError(`perUserHoldoutSplit: no user has 2 ratings (of ${matrix.nRatings} ratings, ${matrix.nUsers} users): nothing to hold out`);
  const heldOut = (c: number): number => (c < 2 ? 0 : Math.min(c - 1, Math.max(1, Math.round(testFraction * c))));
  return splitByMask(`per-user holdout ${testFraction} (seed ${seed})`, matrix, perUserMask(matrix, seed, heldOut, null));
}

/**
 * Time-ordered leave-last-n-out over a list of ratings or interactions in file order: every user
 * with more than `n` distinct movies holds out their last `n` movies by date — a movie's time is
 * that of its latest row, ties on the same day broken by the order of the rows in `list` (the
 * later row is the later interaction) — with every row of those movies (repeated clicks of a
 * held-out item all go to test, so a held-out movie is never in train); users with n movies or
 * fewer keep them all in train, and each tested user keeps at least one. Dates are what the
 * loaders keep (days since 1970-01-01; MovieLens' and the interactions format's Unix seconds
 * become days), so within a day the file order decides. `train` is built from the kept rows with
 * `scale` (repeats resolved as on import); `test` lists the held-out rows user by user, movies in
 * time order. For a RatingMatrix pass `matrix.toList()`: its order within a user is by movie.
 * Throws when `list` has no dates, `n` is not an integer ≥ 1, or no user has more than `n` movies.
 */
export function leaveLastSplit(list: RatingList, scale: RatingScale, options: { n: number }): Split {
  const { n } = options;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`leaveLastSplit: n must be an integer of at least 1, got ${n}`);
  const days = list.days;
  if (days === null) throw new RangeError('leaveLastSplit: the data has no timestamps (leave-last needs a date or timestamp per rating)');
  const rows = list.length;
  // Group the rows by user with a stable counting sort: within a user, rows stay in file order.
  const users = IdIndex.fromValues(list.users, rows);
  const userOf = users.mapAll(list.users, rows);
  const ptr = new Uint32Array(users.size + 1);
  for (let j = 0; j < rows; j++) ptr[userOf[j] + 1]++;
  let most = 0;
  for (let u = 0; u < users.size; u++) {
    most = Math.max(most, ptr[u + 1]);
    ptr[u + 1] += ptr[u];
  }
  const next = ptr.slice(0, users.size);
  const byUser = new Uint32Array(rows);
  for (let j = 0; j < rows; j++) byUser[next[userOf[j]]++] = j;
  const movies = list.movies;
  // Per user: the rows ordered by movie (then file order), one run per (user, movie) pair; a pair's
  // key is its latest row's day · 2^32 + row (distinct, by day then file order, exact: < 2^48).
  const local = new Uint32Array(most);
  const pairKey = new Float64Array(most);
  const runStart = new Uint32Array(most);
  const runEnd = new Uint32Array(most);
  const pairOrder = new Uint32Array(most);
  const test = new Uint8Array(rows);
  // The held-out rows, user by user, pairs in time order, a pair's rows in file order.
  const held = new Uint32Array(rows);
  let nHeld = 0;
  let mostPairs = 0;
  for (let u = 0; u < users.size; u++) {
    const count = ptr[u + 1] - ptr[u];
    const own = local.subarray(0, count);
    own.set(byUser.subarray(ptr[u], ptr[u + 1]));
    own.sort((a, b) => movies[a] - movies[b] || a - b);
    let pairs = 0;
    for (let i = 0; i < count; ) {
      let latest = -1;
      let e = i;
      for (; e < count && movies[own[e]] === movies[own[i]]; e++) latest = Math.max(latest, days[own[e]] * 4294967296 + own[e]);
      pairKey[pairs] = latest;
      runStart[pairs] = i;
      runEnd[pairs] = e;
      pairs++;
      i = e;
    }
    mostPairs = Math.max(mostPairs, pairs);
    if (pairs <= n) continue;
    const order = pairOrder.subarray(0, pairs);
    for (let p = 0; p < pairs; p++) order[p] = p;
    order.sort((a, b) => pairKey[a] - pairKey[b]);
    for (let q = pairs - n; q < pairs; q++) {
      for (let r = runStart[order[q]]; r < runEnd[order[q]]; r++) {
        test[own[r]] = 1;
        held[nHeld++] = own[r];
      }
    }
  }
  if (nHeld === 0) throw new RangeError(`leaveLastSplit: no user has more than ${n} movies (the most is ${mostPairs}): nothing to hold out`);
  const trainList = new RatingListBuilder(rows - nHeld, true);
  for (let p = 0; p < rows; p++) {
    const j = byUser[p];
    if (test[j] === 0) trainList.push(list.users[j], list.movies[j], list.ratings[j], days[j]);
  }
  const testList = new RatingListBuilder(nHeld, true);
  for (let i = 0; i < nHeld; i++) {
    const j = held[i];
    testList.push(list.users[j], list.movies[j], list.ratings[j], days[j]);
  }
  return { name: `leave-last-${n} by date`, train: buildRatingMatrix(trainList.view(), scale).matrix, test: testList.finish() };
}

/**
 * The Netflix probe split: each listed (user, movie) pair that has a rating in the matrix moves
 * to test (a pair listed twice still moves once), every other rating trains. Pairs whose user,
 * movie or rating the matrix lacks are counted in `missing`.
 */
export function probeSplit(matrix: RatingMatrix, probe: RatingPairs): Split & { missing: number } {
  const mask = new Uint8Array(matrix.nRatings);
  const ptr = matrix.userPtr;
  const rowMovies = matrix.userMovies;
  let missing = 0;
  for (let p = 0; p < probe.length; p++) {
    const u = matrix.users.indexOf(probe.users[p]);
    const m = matrix.movies.indexOf(probe.movies[p]);
    if (u < 0 || m < 0) {
      missing++;
      continue;
    }
    // Binary search for movie m in user u's row (movies ascending).
    let lo = ptr[u];
    let hi = ptr[u + 1] - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = rowMovies[mid];
      if (v < m) lo = mid + 1;
      else if (v > m) hi = mid - 1;
      else {
        found = mid;
        break;
      }
    }
    if (found < 0) missing++;
    else mask[found] = 1;
  }
  return { ...splitByMask('probe', matrix, mask), missing };
}
