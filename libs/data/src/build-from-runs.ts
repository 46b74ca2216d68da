import { BuildResult, buildRatingMatrix } from './build-matrix';
import { dropDuplicates, transpose } from './counting-sort';
import { IdIndex } from './id-index';
import { MovieRunsList } from './movie-runs';
import { RatingList, RatingMatrix } from './rating-matrix';
import { RatingScale } from './rating-scale';
import { releaseMemory } from './release-memory';

/**
 * Build a RatingMatrix from ratings grouped in movie runs (the parts of a Netflix Prize import,
 * in file order), with the same result as `buildRatingMatrix` on the same rows: duplicates of a
 * (user, movie) pair resolved to the last one read, rows by movie ascending, columns by user
 * ascending.
 *
 * The parts are consumed: `parts` is emptied once their ratings are in the by-user rows, so
 * that their memory is free again before the by-movie columns are allocated. Peak memory is
 * the parts (4 + 1 + 2 bytes a rating with dates) plus the by-user rows (the same 7): 14 bytes a
 * rating, against 28 for a RatingList through `buildRatingMatrix`.
 *
 * 1. Users are counted in a table indexed by the id itself (largest id below 2^24 or 8 × the
 *    ratings, as in `IdIndex`; sparser ids go through `buildRatingMatrix`): the prefix sums give
 *    the row starts, and the i-th smallest id is internal index i.
 * 2. Runs are ordered by movie (a stable counting sort of the runs, not of the ratings), so that
 *    scattering them run by run writes every row in ascending movie order, equal movies in the
 *    order read; each rating is written once, straight to its place.
 * 3. Each row keeps the last of each run of equal movies (`dropDuplicates`); the columns are
 *    the counting-sort transpose of the rows.
 */
export function buildFromMovieRuns(parts: MovieRunsList[], scale: RatingScale): BuildResult {
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
  if (!(maxUser < 16_777_216 || maxUser < 8 * n) || !(maxMovie < 16_777_216 || maxMovie < 8 * n)) {
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

  // Scatter each run into the rows: rating k of user u goes to next[u]++.
  const next = userPtr.slice(0, nU);
  const rowMovies = new Int32Array(n);
  const rowRatings = new Uint8Array(n);
  const rowDays = withDays ? new Uint16Array(n) : null;
  for (let o = 0; o < runs; o++) {
    const p = parts[orderPart[o]];
    const r = orderRun[o];
    const m = movieOf[p.runMovies[r]];
    const from = p.runStarts[r];
    const to = r + 1 < p.runs ? p.runStarts[r + 1] : p.length;
    scatterRun(p.users, p.ratings, p.days, from, to, m, userOf, next, rowMovies, rowRatings, rowDays);
  }
  // The parts are all in the rows now: free them before the columns are allocated.
  parts.length = 0;
  releaseMemory();

  // 3. Deduplicate inside each row (keep the last of equal movies), then the columns.
  const users = IdIndex.fromSorted(userIds);
  const movies = IdIndex.fromSorted(movieIds);
  const duplicateRows: number[] = [];
  const duplicateMovies: number[] = [];
  const nr = dropDuplicates(rowMovies, rowRatings, rowDays, userPtr, nU, duplicateRows, duplicateMovies);
  const duplicateExamples = duplicateRows.map((u, e) => ({ user: userIds[u], movie: movieIds[duplicateMovies[e]] }));
  const userMovies = nr === n ? rowMovies : rowMovies.slice(0, nr);
  const userRatings = nr === n ? rowRatings : rowRatings.slice(0, nr);
  const userDays = rowDays === null || nr === n ? rowDays : rowDays.slice(0, nr);

  const moviePtr = new Uint32Array(nM + 1);
  for (let j = 0; j < nr; j++) moviePtr[userMovies[j] + 1]++;
  for (let m = 0; m < nM; m++) moviePtr[m + 1] += moviePtr[m];
  const movieUsers = new Int32Array(nr);
  const movieRatings = new Uint8Array(nr);
  transpose(userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers, movieRatings);

  const matrix = new RatingMatrix(users, movies, scale, userPtr, userMovies, userRatings, userDays, moviePtr, movieUsers, movieRatings);
  return { matrix, duplicates: n - nr, duplicateExamples };
}

/** The ratings [from, to) of one run (all of movie index m) written to their rows. */
function scatterRun(
  users: Int32Array,
  ratings: Uint8Array,
  days: Uint16Array | null,
  from: number,
  to: number,
  m: number,
  userOf: Int32Array,
  next: Uint32Array,
  rowMovies: Int32Array,
  rowRatings: Uint8Array,
  rowDays: Uint16Array | null,
): void {
  if (days !== null && rowDays !== null) {
    for (let k = from; k < to; k++) {
      const j = next[userOf[users[k]]]++;
      rowMovies[j] = m;
      rowRatings[j] = ratings[k];
      rowDays[j] = days[k];
    }
  } else {
    // Without days in this part the rows' days stay 0.
    for (let k = from; k < to; k++) {
      const j = next[userOf[users[k]]]++;
      rowMovies[j] = m;
      rowRatings[j] = ratings[k];
    }
  }
}

/** A part as a RatingList (a movie id per row), for ids too sparse for the tables above. */
function expandRuns(p: MovieRunsList): RatingList {
  const movies = new Int32Array(p.length);
  for (let r = 0; r < p.runs; r++) movies.fill(p.runMovies[r], p.runStarts[r], r + 1 < p.runs ? p.runStarts[r + 1] : p.length);
  return { length: p.length, users: p.users, movies, ratings: p.ratings, days: p.days };
}
