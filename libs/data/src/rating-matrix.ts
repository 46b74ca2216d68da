import { IdIndex } from './id-index';
import { RatingScale, WHOLE_STARS_1_TO_5 } from './rating-scale';

/**
 * All ratings of a data set in two compressed sparse layouts over dense internal indices.
 *
 * - by user (CSR): the ratings of user u are positions `userPtr[u] .. userPtr[u+1]-1` of
 *   `userMovies` (movie indices, ascending) and `userRatings` (rating × 2), plus `userDays`
 *   (days since 1970-01-01) when the data had dates.
 * - by movie (CSC): the ratings of movie m are positions `moviePtr[m] .. moviePtr[m+1]-1` of
 *   `movieUsers` (user indices, ascending) and `movieRatings` (rating × 2).
 *
 * Resident size: 4 + 1 (+ 2 with dates) bytes per rating by user, 4 + 1 by movie, so 10 (12)
 * bytes per rating plus the small pointer and id arrays. There is at most one rating per
 * (user, movie) pair.
 */
export class RatingMatrix {
  readonly nUsers: number;
  readonly nMovies: number;
  readonly nRatings: number;

  constructor(
    /** External user ids ↔ internal user indices. */
    readonly users: IdIndex,
    /** External movie ids ↔ internal movie indices. */
    readonly movies: IdIndex,
    readonly scale: RatingScale,
    readonly userPtr: Uint32Array,
    readonly userMovies: Int32Array,
    readonly userRatings: Uint8Array,
    readonly userDays: Uint16Array | null,
    readonly moviePtr: Uint32Array,
    readonly movieUsers: Int32Array,
    readonly movieRatings: Uint8Array,
  ) {
    this.nUsers = users.size;
    this.nMovies = movies.size;
    this.nRatings = userMovies.length;
    if (userPtr.length !== this.nUsers + 1 || moviePtr.length !== this.nMovies + 1) {
      throw new Error('RatingMatrix: pointer arrays do not match the id indices');
    }
    if (
      userRatings.length !== this.nRatings ||
      movieUsers.length !== this.nRatings ||
      movieRatings.length !== this.nRatings ||
      (userDays !== null && userDays.length !== this.nRatings) ||
      userPtr[this.nUsers] !== this.nRatings ||
      moviePtr[this.nMovies] !== this.nRatings
    ) {
      throw new Error('RatingMatrix: array lengths disagree');
    }
  }

  /** Mean of all ratings (NaN for an empty matrix). */
  globalMean(): number {
    const r = this.userRatings;
    let sum = 0;
    for (let k = 0; k < r.length; k++) sum += r[k];
    return r.length === 0 ? NaN : (sum * 0.5) / r.length;
  }

  /** Number of ratings of internal user u. */
  userCount(u: number): number {
    return this.userPtr[u + 1] - this.userPtr[u];
  }

  /** Number of ratings of internal movie m. */
  movieCount(m: number): number {
    return this.moviePtr[m + 1] - this.moviePtr[m];
  }

  /**
   * Rating (in stars) of internal user u for internal movie m, or NaN when u did not rate m.
   * Binary search in the user's row: O(log ratings of u).
   */
  rating(u: number, m: number): number {
    const movies = this.userMovies;
    let lo = this.userPtr[u];
    let hi = this.userPtr[u + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = movies[mid];
      if (v < m) lo = mid + 1;
      else if (v > m) hi = mid - 1;
      else return this.userRatings[mid] * 0.5;
    }
    return NaN;
  }

  /** Density: ratings / (users × movies). */
  density(): number {
    return this.nUsers === 0 || this.nMovies === 0 ? 0 : this.nRatings / (this.nUsers * this.nMovies);
  }

  /** Bytes held by the rating arrays, pointers and id indices. */
  get byteLength(): number {
    return (
      this.userPtr.byteLength +
      this.userMovies.byteLength +
      this.userRatings.byteLength +
      (this.userDays ? this.userDays.byteLength : 0) +
      this.moviePtr.byteLength +
      this.movieUsers.byteLength +
      this.movieRatings.byteLength +
      this.users.byteLength +
      this.movies.byteLength
    );
  }

  /** The ratings in user order as a list of external ids (for splits, writers, tests). */
  toList(keep?: (position: number) => boolean): RatingList {
    const out = new RatingListBuilder(keep ? 1024 : this.nRatings, this.userDays !== null);
    for (let u = 0; u < this.nUsers; u++) {
      const userId = this.users.ids[u];
      for (let k = this.userPtr[u]; k < this.userPtr[u + 1]; k++) {
        if (keep && !keep(k)) continue;
        out.push(userId, this.movies.ids[this.userMovies[k]], this.userRatings[k], this.userDays ? this.userDays[k] : 0);
      }
    }
    return out.finish();
  }

  /** A matrix of the ratings at the by-user positions `keep` accepts (ids are re-derived). */
  select(keep: (position: number) => boolean): RatingMatrix {
    return buildRatingMatrix(this.toList(keep), this.scale).matrix;
  }

  static empty(scale: RatingScale = WHOLE_STARS_1_TO_5): RatingMatrix {
    return buildRatingMatrix(new RatingListBuilder(0, false).finish(), scale).matrix;
  }
}

/**
 * Ratings as parallel arrays of external ids, in no particular order (a COO list). Test sets of
 * splits are RatingLists: their users and movies may be unknown to the training matrix.
 */
export interface RatingList {
  readonly length: number;
  readonly users: Int32Array;
  readonly movies: Int32Array;
  /** rating × 2 */
  readonly ratings: Uint8Array;
  /** days since 1970-01-01, or null when the data has no dates */
  readonly days: Uint16Array | null;
}

/** Growable RatingList: amortised O(1) push, typed arrays only (no object per rating). */
export class RatingListBuilder {
  private users: Int32Array;
  private movies: Int32Array;
  private ratings: Uint8Array;
  private days: Uint16Array | null;
  private n = 0;

  constructor(initialCapacity = 1 << 16, withDays = false) {
    const cap = Math.max(16, initialCapacity);
    this.users = new Int32Array(cap);
    this.movies = new Int32Array(cap);
    this.ratings = new Uint8Array(cap);
    this.days = withDays ? new Uint16Array(cap) : null;
  }

  get length(): number {
    return this.n;
  }

  get hasDays(): boolean {
    return this.days !== null;
  }

  /** Start recording dates (earlier ratings get day 0). */
  enableDays(): void {
    if (this.days === null) this.days = new Uint16Array(this.users.length);
  }

  /** Append a rating; `ratingCode` is rating × 2, `day` days since 1970-01-01 (ignored without dates). */
  push(userId: number, movieId: number, ratingCode: number, day = 0): void {
    if (this.n === this.users.length) this.grow();
    const k = this.n++;
    this.users[k] = userId;
    this.movies[k] = movieId;
    this.ratings[k] = ratingCode;
    if (this.days !== null) this.days[k] = day;
  }

  private grow(): void {
    const cap = this.users.length * 2;
    const users = new Int32Array(cap);
    users.set(this.users);
    this.users = users;
    const movies = new Int32Array(cap);
    movies.set(this.movies);
    this.movies = movies;
    const ratings = new Uint8Array(cap);
    ratings.set(this.ratings);
    this.ratings = ratings;
    if (this.days !== null) {
      const days = new Uint16Array(cap);
      days.set(this.days);
      this.days = days;
    }
  }

  /** The list, trimmed to its length (copies only when there is slack). */
  finish(): RatingList {
    const n = this.n;
    const trim = <T extends Int32Array | Uint8Array | Uint16Array>(a: T): T =>
      (a.length === n ? a : a.slice(0, n)) as T;
    return {
      length: n,
      users: trim(this.users),
      movies: trim(this.movies),
      ratings: trim(this.ratings),
      days: this.days === null ? null : trim(this.days),
    };
  }
}

export interface BuildResult {
  matrix: RatingMatrix;
  /** Number of ratings dropped because a later rating of the same (user, movie) replaced them. */
  duplicates: number;
  /** Up to 5 examples of duplicated pairs, as external ids. */
  duplicateExamples: Array<{ user: number; movie: number }>;
}

/**
 * Build a RatingMatrix from a RatingList in O(n) time by radix sort, moving the data itself so
 * that every pass reads sequentially and writes into at most 2,048 streams (cache-friendly):
 *
 * 1. LSD radix sort by external user id (11 bits a pass; 2 passes for Netflix's ids < 2^22),
 *    stable, carrying (movie index, rating) packed in one Uint32 and the day. Internal user
 *    indices are the ranks of the distinct sorted ids, so no id lookup is needed for users.
 * 2. Each user's row is put in ascending movie order by a stable sort when it is not already
 *    (Netflix and MovieLens 20M+ files arrive sorted, so this is usually one check per row).
 * 3. Equal (user, movie) pairs are then adjacent in input order: the last one read wins.
 * 4. The by-movie layout is a counting-sort transpose of the rows (users ascending per movie).
 */
export function buildRatingMatrix(list: RatingList, scale: RatingScale): BuildResult {
  const n = list.length;
  const movies = IdIndex.fromValues(list.movies, n);
  const nM = movies.size;
  if (nM >= 1 << 24) throw new RangeError(`buildRatingMatrix: ${nM} movies; at most 16,777,215 are supported`);

  // Packed payload: movie index in the high 24 bits, rating code in the low 8.
  const packedIn = new Uint32Array(n);
  packMovieRatings(movies.mapAll(list.movies, n), list.ratings, n, packedIn);
  const { keys, packed, days } = radixSortByUser(list.users.subarray(0, n), packedIn, list.days === null ? null : list.days.subarray(0, n));

  // Distinct users and row starts, from the sorted ids in one sequential pass.
  const distinct = countDistinctSorted(keys, n);
  const userIds = new Int32Array(distinct);
  const uPtr = new Uint32Array(distinct + 1);
  rowStarts(keys, n, userIds, uPtr);
  const users = IdIndex.fromSorted(userIds);
  const nU = distinct;

  sortRowsByMovie(packed, days, uPtr, nU);

  // Deduplicate inside each row: keep the last of each run of equal movies.
  const userPtr = new Uint32Array(nU + 1);
  const duplicateRows: number[] = [];
  const duplicateMovies: number[] = [];
  const nr = dropDuplicates(packed, days, uPtr, userPtr, nU, duplicateRows, duplicateMovies);
  const duplicates = n - nr;
  const duplicateExamples = duplicateRows.map((u, e) => ({ user: userIds[u], movie: movies.ids[duplicateMovies[e]] }));

  const userMovies = new Int32Array(nr);
  const userRatings = new Uint8Array(nr);
  unpackMovieRatings(packed, nr, userMovies, userRatings);
  const userDays = days === null ? null : nr === n ? days : days.slice(0, nr);

  const moviePtr = new Uint32Array(nM + 1);
  const movieUsers = new Int32Array(nr);
  const movieRatings = new Uint8Array(nr);
  transpose(userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers, movieRatings);

  const matrix = new RatingMatrix(
    users,
    movies,
    scale,
    userPtr,
    userMovies,
    userRatings,
    userDays,
    moviePtr,
    movieUsers,
    movieRatings,
  );
  return { matrix, duplicates, duplicateExamples };
}

function packMovieRatings(mIdx: Int32Array, ratings: Uint8Array, n: number, out: Uint32Array): void {
  for (let k = 0; k < n; k++) out[k] = ((mIdx[k] << 8) | ratings[k]) >>> 0;
}

function unpackMovieRatings(packed: Uint32Array, n: number, movies: Int32Array, ratings: Uint8Array): void {
  for (let k = 0; k < n; k++) {
    const v = packed[k];
    movies[k] = v >>> 8;
    ratings[k] = v & 255;
  }
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;

/** Stable LSD radix sort of (user id, packed, day) by user id. Returns new arrays. */
function radixSortByUser(
  userIdsIn: Int32Array,
  packedIn: Uint32Array,
  daysIn: Uint16Array | null,
): { keys: Int32Array; packed: Uint32Array; days: Uint16Array | null } {
  const n = userIdsIn.length;
  let maxId = 0;
  for (let k = 0; k < n; k++) if (userIdsIn[k] > maxId) maxId = userIdsIn[k];
  const bits = Math.max(1, 32 - Math.clz32(maxId));
  const passes = Math.ceil(bits / RADIX_BITS);
  let keys: Int32Array = userIdsIn;
  let packed: Uint32Array = packedIn;
  let days: Uint16Array | null = daysIn;
  let keysOut: Int32Array = new Int32Array(n);
  let packedOut: Uint32Array = new Uint32Array(n);
  let daysOut: Uint16Array | null = days === null ? null : new Uint16Array(n);
  const next = new Uint32Array(RADIX);
  for (let pass = 0; pass < passes; pass++) {
    const shift = pass * RADIX_BITS;
    radixPass(keys, packed, days, keysOut, packedOut, daysOut, shift, next, n);
    // The first pass reads the caller's arrays; afterwards the two buffers alternate.
    const k2 = keys === userIdsIn ? new Int32Array(n) : keys;
    const p2 = packed === packedIn ? new Uint32Array(n) : packed;
    const d2 = days === null ? null : days === daysIn ? new Uint16Array(n) : days;
    keys = keysOut;
    packed = packedOut;
    days = daysOut;
    keysOut = k2;
    packedOut = p2;
    daysOut = d2;
  }
  if (keys === userIdsIn) {
    // No pass ran (n = 0): still hand back copies the caller may own.
    return { keys: keys.slice(), packed: packed.slice(), days: days === null ? null : days.slice() };
  }
  return { keys, packed, days };
}

function radixPass(
  keys: Int32Array,
  packed: Uint32Array,
  days: Uint16Array | null,
  keysOut: Int32Array,
  packedOut: Uint32Array,
  daysOut: Uint16Array | null,
  shift: number,
  next: Uint32Array,
  n: number,
): void {
  next.fill(0);
  const mask = RADIX - 1;
  for (let k = 0; k < n; k++) next[(keys[k] >>> shift) & mask]++;
  let sum = 0;
  for (let b = 0; b < RADIX; b++) {
    const c = next[b];
    next[b] = sum;
    sum += c;
  }
  if (days !== null && daysOut !== null) {
    for (let k = 0; k < n; k++) {
      const key = keys[k];
      const j = next[(key >>> shift) & mask]++;
      keysOut[j] = key;
      packedOut[j] = packed[k];
      daysOut[j] = days[k];
    }
  } else {
    for (let k = 0; k < n; k++) {
      const key = keys[k];
      const j = next[(key >>> shift) & mask]++;
      keysOut[j] = key;
      packedOut[j] = packed[k];
    }
  }
}

function countDistinctSorted(keys: Int32Array, n: number): number {
  let d = 0;
  for (let k = 0; k < n; k++) if (k === 0 || keys[k] !== keys[k - 1]) d++;
  return d;
}

function rowStarts(keys: Int32Array, n: number, userIds: Int32Array, uPtr: Uint32Array): void {
  let u = -1;
  for (let k = 0; k < n; k++) {
    if (k === 0 || keys[k] !== keys[k - 1]) {
      u++;
      userIds[u] = keys[k];
      uPtr[u] = k;
    }
  }
  uPtr[u + 1] = n;
}

/**
 * Sorts each row by movie, stably (equal movies keep their input order), when it is not sorted
 * already. The movie sits in the high 24 bits of `packed`, so comparing packed >>> 8 suffices.
 */
function sortRowsByMovie(packed: Uint32Array, days: Uint16Array | null, uPtr: Uint32Array, nU: number): void {
  let keys = new Float64Array(0);
  for (let u = 0; u < nU; u++) {
    const start = uPtr[u];
    const end = uPtr[u + 1];
    let sorted = true;
    for (let j = start + 1; j < end; j++) {
      if (packed[j] >>> 8 < packed[j - 1] >>> 8) {
        sorted = false;
        break;
      }
    }
    if (sorted) continue;
    const len = end - start;
    if (keys.length < len) keys = new Float64Array(Math.max(len, 2 * keys.length));
    // key = movie · 2^26 + offset in the row: exact in a double, unique, and ordering by it is
    // the stable order by movie. The offset then says where each entry came from.
    for (let j = 0; j < len; j++) keys[j] = (packed[start + j] >>> 8) * 67108864 + j;
    const view = keys.subarray(0, len);
    view.sort();
    const rowPacked = packed.slice(start, end);
    const rowDays = days === null ? null : days.slice(start, end);
    for (let j = 0; j < len; j++) {
      const from = view[j] % 67108864;
      packed[start + j] = rowPacked[from];
      if (days !== null) days[start + j] = rowDays![from];
    }
  }
}

/**
 * Compacts the rows in place, dropping all but the last of equal adjacent movies in each row;
 * fills userPtr. Up to 5 dropped (row, movie) pairs go to the example lists.
 */
function dropDuplicates(
  packed: Uint32Array,
  days: Uint16Array | null,
  uPtr: Uint32Array,
  userPtr: Uint32Array,
  nU: number,
  exampleRows: number[],
  exampleMovies: number[],
): number {
  let write = 0;
  for (let u = 0; u < nU; u++) {
    const end = uPtr[u + 1];
    for (let j = uPtr[u]; j < end; j++) {
      if (j + 1 < end && packed[j + 1] >>> 8 === packed[j] >>> 8) {
        if (exampleRows.length < 5) {
          exampleRows.push(u);
          exampleMovies.push(packed[j] >>> 8);
        }
        continue;
      }
      if (write !== j) {
        packed[write] = packed[j];
        if (days !== null) days[write] = days[j];
      }
      write++;
    }
    userPtr[u + 1] = write;
  }
  return write;
}

/** By-movie (CSC) arrays from by-user (CSR) ones; users come out ascending within each movie. */
function transpose(
  userPtr: Uint32Array,
  userMovies: Int32Array,
  userRatings: Uint8Array,
  nU: number,
  nM: number,
  moviePtr: Uint32Array,
  movieUsers: Int32Array,
  movieRatings: Uint8Array,
): void {
  const nr = userMovies.length;
  for (let j = 0; j < nr; j++) moviePtr[userMovies[j] + 1]++;
  for (let m = 0; m < nM; m++) moviePtr[m + 1] += moviePtr[m];
  const next = moviePtr.slice(0, nM);
  for (let u = 0; u < nU; u++) {
    const end = userPtr[u + 1];
    for (let j = userPtr[u]; j < end; j++) {
      const p = next[userMovies[j]]++;
      movieUsers[p] = u;
      movieRatings[p] = userRatings[j];
    }
  }
}
