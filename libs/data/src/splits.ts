import { Random } from '@recsys/core';
import { RatingPairs } from './dataset';
import { buildRatingMatrix } from './build-matrix';
import { RatingList, RatingMatrix } from './rating-matrix';

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
  const { testFraction } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`holdoutSplit: testFraction must lie strictly between 0 and 1, got ${testFraction}`);
  }
  const seed = seedOf(options);
  const n = matrix.nRatings;
  const nTest = Math.round(testFraction * n);
  const positions = new Uint32Array(n);
  for (let k = 0; k < n; k++) positions[k] = k;
  // Partial Fisher–Yates: after step i, positions[0..i] is a uniform random i+1-subset in random order.
  const rng = new Random(seed);
  const mask = new Uint8Array(n);
  for (let i = 0; i < nTest; i++) {
    const j = i + rng.int(n - i);
    const t = positions[i];
    positions[i] = positions[j];
    positions[j] = t;
    mask[positions[i]] = 1;
  }
  return splitByMask(`holdout ${testFraction} (seed ${seed})`, matrix, mask);
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
  const rng = new Random(seed);
  const ptr = matrix.userPtr;
  let maxCount = 0;
  for (let u = 0; u < matrix.nUsers; u++) maxCount = Math.max(maxCount, ptr[u + 1] - ptr[u]);
  const local = new Uint32Array(maxCount);
  const keys = byDate ? new Float64Array(maxCount) : null;
  const mask = new Uint8Array(matrix.nRatings);
  const need = k + minTrain;

  for (let u = 0; u < matrix.nUsers; u++) {
    const start = ptr[u];
    const count = ptr[u + 1] - start;
    if (count < need) continue;
    if (keys === null) {
      // Partial Fisher–Yates over the user's offsets: the first k are a uniform k-subset.
      for (let i = 0; i < count; i++) local[i] = i;
      for (let i = 0; i < k; i++) {
        const j = i + rng.int(count - i);
        const t = local[i];
        local[i] = local[j];
        local[j] = t;
        mask[start + local[i]] = 1;
      }
    } else {
      // Key = day · 2^32 + rank in a random order of the user's ratings: distinct keys (< 2^48,
      // exact in a double), ordered by day with random tie-breaks. The k largest are tested.
      for (let i = 0; i < count; i++) local[i] = i;
      const order = rng.shuffle(local.subarray(0, count));
      for (let rank = 0; rank < count; rank++) keys[rank] = days![start + order[rank]] * 4294967296 + rank;
      const sorted = keys.subarray(0, count).sort();
      for (let i = count - k; i < count; i++) {
        const rank = sorted[i] % 4294967296;
        mask[start + order[rank]] = 1;
      }
    }
  }
  const how = byDate ? 'latest' : 'random';
  return splitByMask(`leave-${k}-out ${how} (minTrain ${minTrain}, seed ${seed})`, matrix, mask);
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
