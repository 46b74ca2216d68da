import { newArray } from './transpose-threads';

/**
 * A copy of `a` in a new zeroed array of `capacity` elements (≥ a.length), for growing builders;
 * over a SharedArrayBuffer when `a` is.
 */
export function grownTo<T extends Int32Array | Uint32Array | Uint8Array | Uint16Array>(a: T, capacity: number): T {
  const ctor = a.constructor as { new (n: number): T; new (buffer: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };
  const b = newArray(ctor, capacity, a.buffer instanceof SharedArrayBuffer);
  b.set(a);
  return b;
}

/**
 * Ratings that arrive grouped by movie (Netflix Prize `MovieID:` blocks) held without a movie id
 * per row: a run r holds rows `runStarts[r] .. runStarts[r+1]-1` (the last run up to `length`),
 * all of movie `runMovies[r]`. Users stay external ids. 7 bytes a rating with dates (user 4,
 * rating 1, day 2) instead of the 11 of a RatingList.
 */
export interface MovieRunsList {
  readonly length: number;
  readonly users: Int32Array;
  /** rating × 2 */
  readonly ratings: Uint8Array;
  /** days since 1970-01-01, or null when the data has no dates */
  readonly days: Uint16Array | null;
  readonly runs: number;
  readonly runMovies: Int32Array;
  readonly runStarts: Uint32Array;
  /** Smallest and largest user id (2^31 - 1 and -1 when empty), kept as rows come (no pass over them later). */
  readonly minUser: number;
  readonly maxUser: number;
}

/** Row arrays a `MovieRunsBuilder` writes into (users, rating codes, days), all of one length. */
export interface RunRows {
  readonly users: Int32Array;
  readonly ratings: Uint8Array;
  readonly days: Uint16Array | null;
}

/**
 * Row arrays for consecutive builders over one buffer per field: builder k writes the views
 * [start_k, start_k + capacities[k]). Over SharedArrayBuffers when `shared`. Pages never written
 * are never resident, so only the rows parsed cost memory; `buildFromMovieRuns` then reuses each
 * buffer, already backed, as a whole array of the matrix (`joinedRows`) instead of new memory.
 */
export function sharedRunRows(capacities: readonly number[], hasDays: boolean, shared: boolean): RunRows[] {
  const total = capacities.reduce((a, b) => a + b, 0);
  const users = newArray(Int32Array, total, shared);
  const ratings = newArray(Uint8Array, total, shared);
  const days = hasDays ? newArray(Uint16Array, total, shared) : null;
  const out: RunRows[] = [];
  for (let k = 0, at = 0; k < capacities.length; at += capacities[k++]) {
    const end = at + capacities[k];
    out.push({ users: users.subarray(at, end), ratings: ratings.subarray(at, end), days: days === null ? null : days.subarray(at, end) });
  }
  return out;
}

/**
 * Growable MovieRunsList (a `RowSink` of the row parser): a row whose movie differs from the
 * previous row's opens a new run. Amortised O(1) push, typed arrays only.
 */
export class MovieRunsBuilder {
  private users: Int32Array;
  private ratings: Uint8Array;
  private days: Uint16Array | null;
  private runMovies = new Int32Array(1024);
  private runStarts = new Uint32Array(1024);
  private runs = 0;
  private lastMovie = -1;
  private n = 0;
  private minUser = 0x7fffffff;
  private maxUser = -1;

  /**
   * @param initialCapacity rows to allocate up front; pages never written are never resident,
   *   so a generous estimate costs address space only
   * @param shared hold the rows (users, ratings, days) in SharedArrayBuffers, so that
   *   `buildFromMovieRuns` can read them on several threads without a copy
   * @param rows arrays to write the rows into instead of new ones (`sharedRunRows`; their length
   *   is the capacity, and days are kept when `rows.days` is not null); a list that outgrows them
   *   moves to arrays of its own
   */
  constructor(initialCapacity = 1 << 16, readonly hasDays = false, shared = false, rows?: RunRows) {
    if (rows !== undefined) {
      this.users = rows.users;
      this.ratings = rows.ratings;
      this.days = rows.days;
      this.hasDays = rows.days !== null;
      return;
    }
    const cap = Math.max(16, initialCapacity);
    this.users = newArray(Int32Array, cap, shared);
    this.ratings = newArray(Uint8Array, cap, shared);
    this.days = hasDays ? newArray(Uint16Array, cap, shared) : null;
  }

  get length(): number {
    return this.n;
  }

  push(userId: number, movieId: number, ratingCode: number, day: number): void {
    if (this.n === this.users.length) this.grow();
    const k = this.n++;
    if (movieId !== this.lastMovie) this.openRun(movieId, k);
    this.users[k] = userId;
    if (userId > this.maxUser) this.maxUser = userId;
    if (userId < this.minUser) this.minUser = userId;
    this.ratings[k] = ratingCode;
    if (this.days !== null) this.days[k] = day;
  }

  private openRun(movieId: number, start: number): void {
    if (this.runs === this.runMovies.length) {
      this.runMovies = grownTo(this.runMovies, this.runs * 2);
      this.runStarts = grownTo(this.runStarts, this.runs * 2);
    }
    this.runMovies[this.runs] = movieId;
    this.runStarts[this.runs++] = start;
    this.lastMovie = movieId;
  }

  private grow(): void {
    const cap = Math.max(16, this.users.length * 2);
    this.users = grownTo(this.users, cap);
    this.ratings = grownTo(this.ratings, cap);
    if (this.days !== null) this.days = grownTo(this.days, cap);
  }

  /** The list as views of the builder's arrays (no copy); push no more afterwards. */
  view(): MovieRunsList {
    const n = this.n;
    return {
      length: n,
      users: this.users.subarray(0, n),
      ratings: this.ratings.subarray(0, n),
      days: this.days === null ? null : this.days.subarray(0, n),
      runs: this.runs,
      runMovies: this.runMovies.subarray(0, this.runs),
      runStarts: this.runStarts.subarray(0, this.runs),
      minUser: this.minUser,
      maxUser: this.maxUser,
    };
  }
}
