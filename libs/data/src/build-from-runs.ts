import { BuildResult, buildRatingMatrix } from './build-matrix';
import { dropDuplicates } from './counting-sort';
import { IdIndex } from './id-index';
import { MovieRunsList } from './movie-runs';
import { RatingList, RatingMatrix } from './rating-matrix';
import { RatingScale } from './rating-scale';
import { discard, releaseMemory } from './release-memory';
import { newArray, transposeOnThreads } from './transpose-threads';

/**
 * Build a RatingMatrix from ratings grouped in movie runs (the parts of a Netflix Prize import,
 * in file order), with the same result as `buildRatingMatrix` on the same rows: duplicates of a
 * (user, movie) pair resolved to the last one read, rows by movie ascending, columns by user
 * ascending.
 *
 * The parts are consumed: `parts` is emptied, and each of their arrays is freed as soon as it
 * has been moved into the rows. Peak memory is 12 bytes a rating with dates (the resident
 * matrix), against 28 for a RatingList through `buildRatingMatrix`: the parts (4 + 1 + 2 bytes)
 * plus the largest row array (4), then the rows (7) plus the columns (5).
 *
 * 1. Users are counted in a table indexed by the id itself (largest id below 2^24 or 8 × the
 *    ratings, as in `IdIndex`; sparser ids go through `buildRatingMatrix`): the prefix sums give
 *    the row starts, and the i-th smallest id is internal index i.
 * 2. Runs are ordered by movie (a stable counting sort of the runs, not of the ratings); taken
 *    in that order, each rating's user id is replaced by its place in the rows
 *    (`next[user]++`), so every row comes out in ascending movie order, equal movies in the
 *    order read. Days, ratings and movies then move to their places one array at a time.
 * 3. Each row keeps the last of each run of equal movies (`dropDuplicates`); the columns are
 *    the counting-sort transpose of the rows.
 */
export async function buildFromMovieRuns(parts: MovieRunsList[], scale: RatingScale, threads = 1): Promise<BuildResult> {
  let n = 0;
  let maxUser = -1;
  let maxMovie = -1;
  let negative = 0;
  let runs = 0;
  for (const p of parts) {
    n += p.length;
    runs += p.runs;
    const users = p.users;
    for (let k = 0; k < p.length; k++) {
      const u = users[k];
      negative |= u;
      if (u > maxUser) maxUser = u;
    }
    for (let r = 0; r < p.runs; r++) {
      const m = p.runMovies[r];
      negative |= m;
      if (m > maxMovie) maxMovie = m;
    }
  }
  if (negative < 0) throw new RangeError('buildFromMovieRuns: negative user or movie id');
  const withDays = parts.some((p) => p.days !== null);
  // (Places in the rows are held in the Int32 user arrays: at most 2^31 - 1 ratings.)
  if (n > 0x7fffffff || !(maxUser < 16_777_216 || maxUser < 8 * n) || !(maxMovie < 16_777_216 || maxMovie < 8 * n)) {
    return buildRatingMatrix(parts.splice(0).map(expandRuns), scale);
  }

  // 1. Users: counts by id, then row starts by index; `userOf` maps an id to its index.
  const userOf = new Int32Array(maxUser + 1);
  for (const p of parts) {
    const users = p.users;
    for (let k = 0; k < p.length; k++) userOf[users[k]]++;
  }
  let nU = 0;
  for (let id = 0; id <= maxUser; id++) if (userOf[id] !== 0) nU++;
  const userIds = new Int32Array(nU);
  const userPtr = new Uint32Array(nU + 1);
  for (let id = 0, u = 0, run = 0; id <= maxUser; id++) {
    const c = userOf[id];
    if (c === 0) continue;
    userIds[u] = id;
    userPtr[u] = run;
    userOf[id] = u++;
    run += c;
  }
  userPtr[nU] = n;

  // 2. Movies: distinct ids ascending, then the runs in movie order (stable).
  const movieOf = new Int32Array(maxMovie + 1).fill(-1);
  const runCount = new Uint32Array(maxMovie + 2);
  for (const p of parts) for (let r = 0; r < p.runs; r++) runCount[p.runMovies[r] + 1]++;
  let nM = 0;
  for (let id = 0; id <= maxMovie; id++) if (runCount[id + 1] !== 0) movieOf[id] = nM++;
  if (nM >= 1 << 24) throw new RangeError(`buildFromMovieRuns: ${nM} movies; at most 16,777,215 are supported`);
  const movieIds = new Int32Array(nM);
  for (let id = 0; id <= maxMovie; id++) if (movieOf[id] >= 0) movieIds[movieOf[id]] = id;
  for (let id = 0; id <= maxMovie; id++) runCount[id + 1] += runCount[id];
  // Runs as (part, run) in movie order.
  const orderPart = new Uint32Array(runs);
  const orderRun = new Uint32Array(runs);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    for (let r = 0; r < p.runs; r++) {
      const at = runCount[p.runMovies[r]]++;
      orderPart[at] = i;
      orderRun[at] = r;
    }
  }

  // Each rating's place in the rows, in place of its user id: rating k of user u goes to
  // next[u]++. Runs in movie order make every row ascending by movie, equal movies as read.
  const next = userPtr.slice(0, nU);
  const users = parts.map((p) => p.users);
  let ratings: Array<Uint8Array | null> = parts.map((p) => p.ratings);
  let days: Array<Uint16Array | null> = parts.map((p) => p.days);
  const lengths = parts.map((p) => p.length);
  const runMovies = parts.map((p) => p.runMovies);
  const runStarts = parts.map((p) => p.runStarts);
  const runsOf = parts.map((p) => p.runs);
  // From here on the parts' arrays are held only here, so that each can be freed once moved.
  parts.length = 0;
  for (let o = 0; o < runs; o++) {
    const i = orderPart[o];
    const r = orderRun[o];
    const to = r + 1 < runsOf[i] ? runStarts[i][r + 1] : lengths[i];
    placeRun(users[i], runStarts[i][r], to, userOf, next);
  }
  // One array at a time into the rows, each source freed before the next row array exists: the
  // peak is the parts (7 bytes a rating) plus the largest row array (4), not plus all three (7).
  const rowDays = withDays ? new Uint16Array(n) : null;
  if (rowDays !== null) for (let i = 0; i < users.length; i++) if (days[i] !== null) scatter16(users[i], days[i]!, lengths[i], rowDays);
  discard(days);
  days = [];
  releaseMemory();
  // Shared when the columns are written on several threads (`transposeOnThreads`).
  const shared = threads > 1;
  const rowRatings = newArray(Uint8Array, n, shared);
  for (let i = 0; i < users.length; i++) scatter8(users[i], ratings[i]!, lengths[i], rowRatings);
  discard(ratings);
  ratings = [];
  releaseMemory();
  const rowMovies = newArray(Int32Array, n, shared);
  for (let o = 0; o < runs; o++) {
    const i = orderPart[o];
    const r = orderRun[o];
    const to = r + 1 < runsOf[i] ? runStarts[i][r + 1] : lengths[i];
    fillRun(users[i], runStarts[i][r], to, movieOf[runMovies[i][r]], rowMovies);
  }
  discard(users);
  users.length = 0;
  releaseMemory();

  // 3. Deduplicate inside each row (keep the last of equal movies), then the columns.
  const userIndex = IdIndex.fromSorted(userIds);
  const movieIndex = IdIndex.fromSorted(movieIds);
  const duplicateRows: number[] = [];
  const duplicateMovies: number[] = [];
  const nr = dropDuplicates(rowMovies, rowRatings, rowDays, userPtr, nU, duplicateRows, duplicateMovies);
  const duplicateExamples = duplicateRows.map((u, e) => ({ user: userIds[u], movie: movieIds[duplicateMovies[e]] }));
  // Shared rows stay views of their buffers (a copy would not be shared).
  const trim = <T extends Int32Array | Uint8Array | Uint16Array>(a: T): T => (nr === n ? a : ((shared ? a.subarray(0, nr) : a.slice(0, nr)) as T));
  const userMovies = trim(rowMovies);
  const userRatings = trim(rowRatings);
  const userDays = rowDays === null ? null : trim(rowDays);

  const moviePtr = new Uint32Array(nM + 1);
  for (let j = 0; j < nr; j++) moviePtr[userMovies[j] + 1]++;
  for (let m = 0; m < nM; m++) moviePtr[m + 1] += moviePtr[m];
  const movieUsers = newArray(Int32Array, nr, shared);
  const movieRatings = newArray(Uint8Array, nr, shared);
  await transposeOnThreads({ userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers, movieRatings }, threads);

  const matrix = new RatingMatrix(userIndex, movieIndex, scale, userPtr, userMovies, userRatings, userDays, moviePtr, movieUsers, movieRatings);
  return { matrix, duplicates: n - nr, duplicateExamples };
}

/** Replace the user ids [from, to) by their places in the rows (`next[index of the user]++`). */
function placeRun(users: Int32Array, from: number, to: number, userOf: Int32Array, next: Uint32Array): void {
  for (let k = from; k < to; k++) users[k] = next[userOf[users[k]]]++;
}

/** out[place[k]] = values[k] for the first n. */
function scatter16(place: Int32Array, values: Uint16Array, n: number, out: Uint16Array): void {
  for (let k = 0; k < n; k++) out[place[k]] = values[k];
}

/** out[place[k]] = values[k] for the first n. */
function scatter8(place: Int32Array, values: Uint8Array, n: number, out: Uint8Array): void {
  for (let k = 0; k < n; k++) out[place[k]] = values[k];
}

/** out[place[k]] = m for k in [from, to). */
function fillRun(place: Int32Array, from: number, to: number, m: number, out: Int32Array): void {
  for (let k = from; k < to; k++) out[place[k]] = m;
}

/** A part as a RatingList (a movie id per row), for ids too sparse for the tables above. */
function expandRuns(p: MovieRunsList): RatingList {
  const movies = new Int32Array(p.length);
  for (let r = 0; r < p.runs; r++) movies.fill(p.runMovies[r], p.runStarts[r], r + 1 < p.runs ? p.runStarts[r + 1] : p.length);
  return { length: p.length, users: p.users, movies, ratings: p.ratings, days: p.days };
}
