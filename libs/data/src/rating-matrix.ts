import type { MatrixArrays } from '@recsys/core';
// buildRatingMatrix (build-matrix.ts) and this class use each other only inside functions, so the
// import cycle between the two modules is harmless at load time.
import { buildRatingMatrix } from './build-matrix';
import { IdIndex } from './id-index';
import { grownTo } from './movie-runs';
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
export class RatingMatrix implements MatrixArrays {
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

  /**
   * Mean of all ratings (NaN for an empty matrix); with `exclude` (1 byte per by-user position,
   * 1 = left out) the mean of the others, equal to that of a matrix without the ones left out.
   */
  globalMean(exclude?: Uint8Array): number {
    const r = this.userRatings;
    let sum = 0;
    if (exclude) {
      // The mean of the ratings kept, summed in the same order as a copy without the others would sum them.
      let n = 0;
      for (let k = 0; k < r.length; k++) {
        if (exclude[k] === 0) {
          sum += r[k];
          n++;
        }
      }
      return n === 0 ? NaN : (sum * 0.5) / n;
    }
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

  /** Internal index of the movie with the most ratings (the lowest index among ties), or -1 without movies. */
  mostRatedMovie(): number {
    let best = -1;
    let most = -1;
    for (let m = 0; m < this.nMovies; m++) {
      const count = this.moviePtr[m + 1] - this.moviePtr[m];
      if (count > most) {
        most = count;
        best = m;
      }
    }
    return best;
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

  /**
   * The matrix over `arrays` (used as they are, no copy), which must carry the ids and the
   * scale, with `userDays` when the ratings have dates.
   * @throws RangeError without ids or scale; Error when the ids are not ascending or the lengths disagree.
   */
  static fromArrays(arrays: MatrixArrays, userDays: Uint16Array | null = null): RatingMatrix {
    const { userIds, movieIds, scale } = arrays;
    if (!userIds || !movieIds || !scale) throw new RangeError('RatingMatrix.fromArrays: the arrays carry no ids or no scale');
    return new RatingMatrix(
      IdIndex.fromSorted(userIds),
      IdIndex.fromSorted(movieIds),
      scale,
      arrays.userPtr,
      arrays.userMovies,
      arrays.userRatings,
      userDays,
      arrays.moviePtr,
      arrays.movieUsers,
      arrays.movieRatings,
    );
  }
}

/**
 * All of `matrix` but the dates as {@link MatrixArrays} (views, no copy), ids and scale included:
 * the shape in which ratings go to worker threads (after `shareMatrixArrays`) and into files.
 */
export function matrixArraysOf(matrix: RatingMatrix): MatrixArrays {
  return {
    nUsers: matrix.nUsers,
    nMovies: matrix.nMovies,
    userPtr: matrix.userPtr,
    userMovies: matrix.userMovies,
    userRatings: matrix.userRatings,
    moviePtr: matrix.moviePtr,
    movieUsers: matrix.movieUsers,
    movieRatings: matrix.movieRatings,
    userIds: matrix.users.ids,
    movieIds: matrix.movies.ids,
    scale: matrix.scale,
  };
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
    this.users = grownTo(this.users, cap);
    this.movies = grownTo(this.movies, cap);
    this.ratings = grownTo(this.ratings, cap);
    if (this.days !== null) this.days = grownTo(this.days, cap);
  }

  /**
   * The list as views of the first `length` entries of the builder's arrays, without copying:
   * for a list that is consumed at once (e.g. by `buildRatingMatrix`). Push no more afterwards.
   * Unused capacity costs address space only: pages of a large typed array that were never
   * written are not resident.
   */
  view(): RatingList {
    const n = this.n;
    return {
      length: n,
      users: this.users.subarray(0, n),
      movies: this.movies.subarray(0, n),
      ratings: this.ratings.subarray(0, n),
      days: this.days === null ? null : this.days.subarray(0, n),
    };
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
