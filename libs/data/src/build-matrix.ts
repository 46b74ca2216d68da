import { IdIndex } from './id-index';
import { RatingList, RatingMatrix } from './rating-matrix';
import { RatingScale } from './rating-scale';
import { dropDuplicates, scatterByUser, sortRowsByMovie, transpose } from './counting-sort';

export interface BuildResult {
  matrix: RatingMatrix;
  /**
   * Number of ratings dropped because a later rating of the same (user, movie) replaced them (for
   * implicit feedback: rows added into an earlier row of the same pair).
   */
  duplicates: number;
  /** Implicit feedback: pairs whose summed weight exceeded 127.5 and was stored as 127.5. */
  capped: number;
  /** Up to 5 examples of duplicated pairs, as external ids. */
  duplicateExamples: Array<{ user: number; movie: number }>;
}

/**
 * Build a RatingMatrix from a RatingList in O(n + largest id) time by counting sorts. `list` may
 * also be consecutive parts of one list (e.g. the halves two threads parsed): they are read in
 * order, as if concatenated, without copying them together first.
 *
 * 1. One pass finds the largest ids and whether the ratings already come in movie order (Netflix
 *    files do) or in user order (MovieLens ratings.csv).
 * 2. Movie and user ids are counted in tables indexed by the id itself (when the largest id is
 *    below 2^24 or 8 × the ratings, as in `IdIndex`; otherwise ids are first mapped through an
 *    IdIndex). The prefix sums of the user counts give the row starts, and internal index i is the
 *    i-th smallest id, so no sort of ids is needed.
 * 3. When the input is in neither order, a stable counting sort by movie puts it in movie order.
 * 4. A stable scatter by user writes the by-user rows; in movie-ordered input each row comes out
 *    in ascending movie order, and user-ordered input has its rows sorted where they are not.
 * 5. Equal (user, movie) pairs are then adjacent in input order: the last one read wins; for
 *    implicit feedback (`scale.implicit`) their weights are summed instead (capped at 127.5).
 * 6. The by-movie layout is a counting-sort transpose of the rows (users ascending per movie).
 *
 * Measured on 10 M Netflix-like ratings (50,000 users, 1,786 movies, movie-ordered) on one core:
 * ~0.40 s, against ~0.61 s for the former two-pass LSD radix sort by user id (11 bits a pass)
 * with a per-row movie sort.
 */
export function buildRatingMatrix(list: RatingList | readonly RatingList[], scale: RatingScale): BuildResult {
  const parts: readonly RatingList[] = isPartList(list) ? list : [list];
  let n = 0;
  for (const p of parts) n += p.length;
  const withDays = parts.some((p) => p.days !== null);
  const { maxUser, maxMovie, movieOrdered, userOrdered } = scanIds(parts);

  // Movie keys: the ids themselves with an id → index table, or indices with an identity table.
  const movieSide = keyed(parts, (p) => p.movies, maxMovie, n, true);
  const nM = movieSide.ids.length;
  if (nM >= 1 << 24) throw new RangeError(`buildRatingMatrix: ${nM} movies; at most 16,777,215 are supported`);
  const movies = IdIndex.fromSorted(movieSide.ids);
  const userSide = keyed(parts, (p) => p.users, maxUser, n, false);
  const nU = userSide.ids.length;
  const users = IdIndex.fromSorted(userSide.ids);

  // Row starts by user key; `next` becomes the write position of each user key (keys without
  // rows get the start of the next row, so that `next` ascends).
  const userPtr = new Uint32Array(nU + 1);
  const next = userSide.counts;
  for (let key = 0, u = 0, run = 0; key < next.length; key++) {
    const c = next[key];
    next[key] = run;
    if (c === 0) continue;
    userPtr[u++] = run;
    run += c;
  }
  userPtr[nU] = n;

  const rowMovies = new Int32Array(n);
  const rowRatings = new Uint8Array(n);
  const rowDays = withDays ? new Uint16Array(n) : null;
  let spare: Int32Array;
  if (movieOrdered || userOrdered) {
    spare = scatterByUser(parts, userSide.keys, movieSide.keys, movieSide.table, next, rowMovies, rowRatings, rowDays, withDays);
    // User-ordered input keeps each row in file order, which need not be movie order.
    if (!movieOrdered) sortRowsByMovie(rowMovies, rowRatings, rowDays, userPtr, nU);
  } else {
    const g = groupByMovie(parts, userSide.keys, movieSide, nM, n, withDays);
    const grouped: RatingList = { length: n, users: g.userKeys, movies: g.movies, ratings: g.ratings, days: g.days };
    spare = scatterByUser([grouped], [g.userKeys], [g.movies], identity(nM), next, rowMovies, rowRatings, rowDays, withDays);
  }

  // Deduplicate inside each row: keep the last of each run of equal movies.
  const duplicateRows: number[] = [];
  const duplicateMovies: number[] = [];
  const capped = new Float64Array(1);
  const nr = dropDuplicates(rowMovies, rowRatings, rowDays, userPtr, nU, duplicateRows, duplicateMovies, scale.implicit === true, capped);
  const duplicates = n - nr;
  const duplicateExamples = duplicateRows.map((u, e) => ({ user: users.ids[u], movie: movies.ids[duplicateMovies[e]] }));
  const userMovies = nr === n ? rowMovies : rowMovies.slice(0, nr);
  const userRatings = nr === n ? rowRatings : rowRatings.slice(0, nr);
  const userDays = rowDays === null || nr === n ? rowDays : rowDays.slice(0, nr);

  const moviePtr = new Uint32Array(nM + 1);
  if (nr === n) moviePtr.set(movieSide.countsByIndex, 1);
  else for (let j = 0; j < nr; j++) moviePtr[userMovies[j] + 1]++;
  for (let m = 0; m < nM; m++) moviePtr[m + 1] += moviePtr[m];
  // The first pass's scratch array of user keys is free again and has the right type and size.
  const movieUsers = nr === n ? spare : new Int32Array(nr);
  const movieRatings = new Uint8Array(nr);
  transpose(userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers, movieRatings);

  const matrix = new RatingMatrix(users, movies, scale, userPtr, userMovies, userRatings, userDays, moviePtr, movieUsers, movieRatings);
  return { matrix, duplicates, duplicateExamples, capped: capped[0] };
}

function isPartList(list: RatingList | readonly RatingList[]): list is readonly RatingList[] {
  return Array.isArray(list);
}

/** Largest ids, and whether movie ids (user ids) never decrease over the concatenated parts. */
function scanIds(parts: readonly RatingList[]): { maxUser: number; maxMovie: number; movieOrdered: boolean; userOrdered: boolean } {
  let maxUser = -1;
  let maxMovie = -1;
  let movieDescents = 0;
  let userDescents = 0;
  let prevUser = 0;
  let prevMovie = 0;
  let negative = 0;
  for (const p of parts) {
    const users = p.users;
    const movies = p.movies;
    const n = p.length;
    for (let k = 0; k < n; k++) {
      const u = users[k];
      const m = movies[k];
      negative |= u | m;
      if (u > maxUser) maxUser = u;
      if (m > maxMovie) maxMovie = m;
      if (m < prevMovie) movieDescents++;
      if (u < prevUser) userDescents++;
      prevUser = u;
      prevMovie = m;
    }
  }
  if (negative < 0) throw new RangeError('buildRatingMatrix: negative user or movie id');
  return { maxUser, maxMovie, movieOrdered: movieDescents === 0, userOrdered: userDescents === 0 };
}

/**
 * One side (users or movies) of the ratings as keys for counting: `keys[i]` holds, for part i,
 * the ids themselves when a table over every id up to the largest is affordable (the same rule as
 * IdIndex: largest id below 2^24 or below 8 × the ratings), else the internal indices from an
 * IdIndex. `table` maps a key to the internal index, `counts` counts ratings per key.
 */
interface KeyedSide {
  ids: Int32Array;
  keys: Int32Array[];
  table: Int32Array;
  counts: Uint32Array;
  countsByIndex: Uint32Array;
}

function keyed(parts: readonly RatingList[], field: (p: RatingList) => Int32Array, maxId: number, n: number, withTable: boolean): KeyedSide {
  let keys: Int32Array[];
  let range: number;
  let sparse: IdIndex | null = null;
  if (maxId < 16_777_216 || maxId < 8 * n) {
    keys = parts.map((p) => field(p).subarray(0, p.length));
    range = maxId + 1;
  } else {
    const all = new Int32Array(n);
    let at = 0;
    for (const p of parts) {
      all.set(field(p).subarray(0, p.length), at);
      at += p.length;
    }
    sparse = IdIndex.fromValues(all, n);
    keys = parts.map((p) => sparse!.mapAll(field(p), p.length));
    range = sparse.size;
  }
  const counts = new Uint32Array(range);
  for (const k of keys) countKeys(k, counts);
  let distinct = 0;
  for (let key = 0; key < range; key++) if (counts[key] !== 0) distinct++;
  const ids = new Int32Array(distinct);
  const table = new Int32Array(withTable ? range : 0);
  const countsByIndex = new Uint32Array(distinct);
  for (let key = 0, i = 0; key < range; key++) {
    if (counts[key] === 0) continue;
    ids[i] = sparse === null ? key : sparse.ids[key];
    if (withTable) table[key] = i;
    countsByIndex[i++] = counts[key];
  }
  return { ids, keys, table, counts, countsByIndex };
}

function countKeys(keys: Int32Array, counts: Uint32Array): void {
  for (let k = 0; k < keys.length; k++) counts[keys[k]]++;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Stable counting sort of all parts by movie index: user keys, movie indices, ratings, days. */
function groupByMovie(
  parts: readonly RatingList[],
  userKeys: Int32Array[],
  movieSide: KeyedSide,
  nM: number,
  n: number,
  withDays: boolean,
): { userKeys: Int32Array; movies: Int32Array; ratings: Uint8Array; days: Uint16Array | null } {
  const next = new Uint32Array(nM);
  for (let m = 1; m < nM; m++) next[m] = next[m - 1] + movieSide.countsByIndex[m - 1];
  const outUsers = new Int32Array(n);
  const outMovies = new Int32Array(n);
  const outRatings = new Uint8Array(n);
  const outDays = withDays ? new Uint16Array(n) : null;
  const table = movieSide.table;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const uk = userKeys[i];
    const mk = movieSide.keys[i];
    const ratings = p.ratings;
    const days = p.days;
    for (let k = 0; k < p.length; k++) {
      const m = table[mk[k]];
      const j = next[m]++;
      outUsers[j] = uk[k];
      outMovies[j] = m;
      outRatings[j] = ratings[k];
      if (days !== null) outDays![j] = days[k];
    }
  }
  return { userKeys: outUsers, movies: outMovies, ratings: outRatings, days: outDays };
}
