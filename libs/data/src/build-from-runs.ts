import { Worker } from 'node:worker_threads';
import { workerScript } from '@recsys/core';
import { BuildResult, buildRatingMatrix } from './build-matrix';
import { dropDuplicates } from './counting-sort';
import { IdIndex } from './id-index';
import { MovieRunsList } from './movie-runs';
import { RatingList, RatingMatrix } from './rating-matrix';
import { RatingScale } from './rating-scale';
import { releaseMemory } from './release-memory';
import { isShared, newArray, transposeOnThreads, userBounds } from './transpose-threads';

/** Below this many ratings the build is not worth a thread. */
export const PARALLEL_MIN_RATINGS = 1 << 20;

/** The rows of every part (external user ids, rating × 2, days or null), indexed by part. */
export interface PartRows {
  readonly users: Int32Array[];
  readonly ratings: Uint8Array[];
  readonly days: Array<Uint16Array | null>;
}

/**
 * The runs one thread moves into the rows, a contiguous stretch of all runs in movie order: run
 * i is the rows [from[i], to[i]) of part `part[i]`, all of movie index `movie[i]`.
 */
export interface RunShare {
  readonly part: Uint32Array;
  readonly from: Uint32Array;
  readonly to: Uint32Array;
  readonly movie: Int32Array;
}

/** The by-user (CSR) arrays the runs are moved into. */
export interface RowArrays {
  readonly userMovies: Int32Array;
  readonly userRatings: Uint8Array;
  readonly userDays: Uint16Array | null;
}

/**
 * An array of n elements for the matrix: a view of the first n of the buffer that every one of
 * `parts` views, when they all share one (the parse's rows, `sharedRunRows`, or a single part's
 * own arrays) and it holds n, else a new one (over a SharedArrayBuffer when `shared`). The parts
 * must no longer be read: the view is written over them. Its pages are mostly already backed
 * by the parse, where a new array's first touch costs seconds a gigabyte on a VM. Not zeroed.
 */
export function joinedRows<T extends Int32Array | Uint8Array>(ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; new (n: number): T; new (buffer: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number }, parts: readonly T[], n: number, shared: boolean): T {
  const buffer = parts.length > 0 ? parts[0].buffer : null;
  const reusable = buffer !== null && parts.every((p) => p.buffer === buffer) && buffer.byteLength >= n * ctor.BYTES_PER_ELEMENT && (!shared || buffer instanceof SharedArrayBuffer);
  return reusable ? new ctor(buffer, 0, n) : newArray(ctor, n, shared);
}

/** counts[user id] += the share's ratings of that user. */
export function countShareUsers(parts: PartRows, share: RunShare, counts: Int32Array): void {
  for (let i = 0; i < share.part.length; i++) {
    const users = parts.users[share.part[i]];
    const to = share.to[i];
    for (let k = share.from[i]; k < to; k++) counts[users[k]]++;
  }
}

/**
 * The share's ratings in movie order from column position `at` on, each packed as
 * user index · 256 + rating (`indexOf[user id]`; users below 2^23), users still in the order
 * read within each column.
 */
export function writeShareColumns(parts: PartRows, share: RunShare, indexOf: Int32Array, at: number, columnKeys: Int32Array): void {
  for (let i = 0; i < share.part.length; i++) {
    const p = share.part[i];
    const users = parts.users[p];
    const ratings = parts.ratings[p];
    const to = share.to[i];
    for (let k = share.from[i]; k < to; k++, at++) columnKeys[at] = (indexOf[users[k]] << 8) | ratings[k];
  }
}

/**
 * How the row scatter cuts users into buckets: bucket b is users [b · 2^shift, (b + 1) · 2^shift),
 * whose rows are one contiguous stretch. A rating is held meanwhile in one Int32 as
 * (user − bucket's first) · 2^(movieBits + 8) + movie · 256 + rating.
 */
export interface Buckets {
  readonly shift: number;
  readonly movieBits: number;
  readonly count: number;
}

/**
 * Buckets of at most 512 users (rows of ~100,000 ratings at 100M: ~700 KB, sorted in cache), or
 * fewer so that user, movie and rating fit 32 bits (nM < 2^24; with 2^24 movies a bucket is one user).
 */
export function bucketsFor(nU: number, nM: number): Buckets {
  const movieBits = nM <= 1 ? 0 : 32 - Math.clz32(nM - 1);
  const shift = Math.max(0, Math.min(9, 24 - movieBits));
  return { shift, movieBits, count: (nU + (1 << shift) - 1) >>> shift };
}

/**
 * First pass of the row scatter: move the share's ratings (column positions from `at` on, still
 * in the order read) to their user's bucket, at `next[bucket]++`: a few hundred write streams at
 * once instead of one random write per rating over the whole rows. `next[b]` starts where this
 * share's first rating of bucket b goes (the bucket's start plus the earlier shares' ratings in
 * it), so each bucket holds its ratings in movie order, equal movies in the order read.
 */
export function scatterShare(days: ReadonlyArray<Uint16Array | null>, share: RunShare, at: number, columnKeys: Int32Array, b: Buckets, next: Int32Array, rows: RowArrays): void {
  const { userMovies, userDays } = rows;
  const shift = b.shift;
  const mask = (1 << shift) - 1;
  const high = b.movieBits + 8;
  for (let i = 0; i < share.part.length; i++) {
    const d = days[share.part[i]];
    const m = share.movie[i] << 8;
    const from = share.from[i];
    const end = at + share.to[i] - from;
    if (userDays !== null && d !== null) {
      for (let k = from; at < end; at++, k++) {
        const key = columnKeys[at];
        const u = key >> 8;
        const to = next[u >> shift]++;
        userMovies[to] = ((u & mask) << high) | m | (key & 255);
        userDays[to] = d[k];
      }
    } else {
      for (; at < end; at++) {
        const key = columnKeys[at];
        const u = key >> 8;
        userMovies[next[u >> shift]++] = ((u & mask) << high) | m | (key & 255);
      }
    }
  }
}

/**
 * Second pass of the row scatter, for buckets [bFrom, bTo): a stable counting sort of each
 * bucket by user (through a buffer the size of the largest bucket, in cache), written back as
 * movie indices, ratings and days. Returns how many ratings repeat the movie before them in
 * their row (the duplicates `dropDuplicates` drops).
 */
export function sortBuckets(userPtr: Uint32Array, nU: number, b: Buckets, bFrom: number, bTo: number, rows: RowArrays): number {
  const { userMovies, userRatings, userDays } = rows;
  const high = b.movieBits + 8;
  const low = high >= 32 ? -1 : (1 << high) - 1;
  // (x >>> 32 is x: with 2^24 movies a bucket is one user and the mask is 0.)
  const mask = (1 << b.shift) - 1;
  let longest = 0;
  for (let k = bFrom; k < bTo; k++) longest = Math.max(longest, userPtr[Math.min(nU, (k + 1) << b.shift)] - userPtr[k << b.shift]);
  const keys = new Int32Array(longest);
  const days = userDays === null ? null : new Uint16Array(longest);
  const cursor = new Int32Array(1 << b.shift);
  let repeats = 0;
  for (let k = bFrom; k < bTo; k++) {
    const u0 = k << b.shift;
    const u1 = Math.min(nU, (k + 1) << b.shift);
    const r0 = userPtr[u0];
    const r1 = userPtr[u1];
    for (let u = u0; u < u1; u++) cursor[u - u0] = userPtr[u] - r0;
    if (days !== null && userDays !== null) {
      for (let j = r0; j < r1; j++) {
        const x = userMovies[j];
        const q = cursor[(x >>> high) & mask]++;
        keys[q] = x & low;
        days[q] = userDays[j];
      }
      userDays.set(days.subarray(0, r1 - r0), r0);
    } else {
      for (let j = r0; j < r1; j++) {
        const x = userMovies[j];
        keys[cursor[(x >>> high) & mask]++] = x & low;
      }
    }
    for (let u = u0; u < u1; u++) {
      const end = userPtr[u + 1];
      let prev = -1;
      for (let j = userPtr[u]; j < end; j++) {
        const y = keys[j - r0];
        const m = y >>> 8;
        userMovies[j] = m;
        userRatings[j] = y & 255;
        if (m === prev) repeats++;
        prev = m;
      }
    }
  }
  return repeats;
}

/**
 * Sort the columns of movies [mFrom, mTo) by user, in place, and unpack them: `columnKeys`
 * holds user index · 256 + rating (`writeShareColumns`), so a native sort of each column
 * (`Int32Array.prototype.sort`: a column is ~5,600 ratings on average, so it sorts in cache,
 * where a transpose writes to every column at once) orders it by user; the users stay in
 * `columnKeys` (then the column users) and the ratings go to `movieRatings`. A column holds no
 * user twice (the caller checks), so the order is the transpose's.
 */
export function sortColumns(moviePtr: Uint32Array, mFrom: number, mTo: number, columnKeys: Int32Array, movieRatings: Uint8Array): void {
  for (let m = mFrom; m < mTo; m++) {
    const s = moviePtr[m];
    const e = moviePtr[m + 1];
    columnKeys.subarray(s, e).sort();
    for (let j = s; j < e; j++) {
      const key = columnKeys[j];
      movieRatings[j] = key & 255;
      columnKeys[j] = key >> 8;
    }
  }
}

/** The steps a build thread is asked to do, in this order (see `build-from-runs-worker.ts`). */
export type BuildStep =
  | { readonly step: 'count'; readonly parts: PartRows; readonly share: RunShare; readonly counts: Int32Array }
  | { readonly step: 'columns'; readonly indexOf: Int32Array; readonly at: number; readonly columnKeys: Int32Array }
  | { readonly step: 'scatter'; readonly buckets: Buckets; readonly next: Int32Array; readonly rows: RowArrays }
  | { readonly step: 'unpack'; readonly userPtr: Uint32Array; readonly nU: number; readonly buckets: Buckets; readonly bFrom: number; readonly bTo: number }
  | { readonly step: 'sort'; readonly moviePtr: Uint32Array; readonly mFrom: number; readonly mTo: number; readonly movieRatings: Uint8Array };

/** A build thread's answer to a step. */
export type BuildReply = { readonly step: 'done'; readonly duplicates?: number } | { readonly step: 'failed'; readonly message: string };

/** A worker thread that does build steps one at a time. */
export class BuildThread {
  private readonly worker: Worker;
  private pending: { resolve: (r: BuildReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor() {
    const { filename, options } = workerScript(__dirname, 'build-from-runs-worker');
    this.worker = new Worker(filename, options);
    this.worker.on('message', (m: BuildReply) => this.settle(m.step === 'failed' ? new Error(`build thread: ${m.message}`) : null, m));
    this.worker.on('error', (e) => this.settle(e, null));
    this.worker.on('exit', (code) => this.settle(new Error(`build thread exited (code ${code}) before it was done`), null));
  }

  private settle(error: Error | null, reply: BuildReply | null): void {
    const p = this.pending;
    this.pending = null;
    if (error !== null) this.failure ??= error;
    if (p === null) return;
    if (error !== null) p.reject(error);
    else p.resolve(reply!);
  }

  /** Post a step; resolves with the thread's reply. */
  ask(step: BuildStep): Promise<BuildReply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<BuildReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(step);
    });
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * Build threads started ahead of `buildFromMovieRuns`, e.g. while an import parses: a worker
 * thread takes 0.1–0.5 s to start on the 2-core VM, during which a build started with none
 * would wait for it at its first step. The build takes what it needs; `stop` ends the rest
 * (call it once the build is done, or failed, or never ran).
 */
export class BuildThreadPool {
  private readonly threads: BuildThread[] = [];

  constructor(count: number) {
    for (let t = 0; t < count; t++) this.threads.push(new BuildThread());
  }

  /** Up to `count` started threads, now the caller's to stop. */
  take(count: number): BuildThread[] {
    return this.threads.splice(0, Math.max(0, count));
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.splice(0).map((t) => t.stop()));
  }
}

/**
 * Build a RatingMatrix from ratings grouped in movie runs (the parts of a Netflix Prize import,
 * in file order), with the same result as `buildRatingMatrix` on the same rows: duplicates of a
 * (user, movie) pair resolved to the last one read, rows by movie ascending, columns by user
 * ascending, on `threads` threads when the parts' rows are in SharedArrayBuffers (else on this
 * thread):
 *
 * 1. The runs are put in movie order (a stable counting sort of the runs, not of the ratings)
 *    and cut into `threads` shares of about equal ratings. Runs in movie order are the columns,
 *    users in the order read.
 * 2. Each thread counts its share's ratings per user id in a table of its own, indexed by the
 *    id itself (largest id below 2^24 or 8 × the ratings, as in `IdIndex`; sparser ids go
 *    through `buildRatingMatrix`). Prefix sums over the ids give each id's index (the i-th
 *    smallest id is index i), the row starts and, per share, where its first rating of each
 *    user goes.
 * 3. Each thread writes its share of the columns, (user index, rating) packed in one Int32;
 *    the parts' users and ratings are dropped.
 * 4. Each thread moves its share from the columns into the rows' buckets of 512 users
 *    (`scatterShare`), at slots of its own, in movie order.
 * 5. Each thread sorts a range of buckets by user in cache (`sortBuckets`): each row comes out
 *    ascending by movie, equal movies in the order read. A user who rated a movie twice (rare)
 *    is handled on this thread: the last rating is kept
 *    (`dropDuplicates`) and the columns are the transpose of the rows.
 * 6. Otherwise each thread sorts a range of columns by user and unpacks them (`sortColumns`), in cache.
 *
 * The parts are consumed: `parts` is emptied. When the parts' users (and ratings) are views of
 * one buffer (`sharedRunRows`, or a single part), that buffer becomes the rows' movies (and
 * ratings) after step 3 (`joinedRows`): its pages are backed by the parse already, where new
 * arrays cost a first touch of 5 bytes a rating (0.5 GB at 100M; seconds a GB on a VM). Peak
 * memory is 13 bytes a rating with dates: the parts (4 + 1 + 2) with the packed columns (4),
 * then the parts' buffers (now the rows' movies and ratings), the parts' days, the packed
 * columns and the rows' days (2); plus, when the parts were views of one buffer, the parse's
 * unused tail of each range but the last (the range's estimated capacity less its rows, about
 * 0.7 bytes a rating at 100M on 2 threads), which stays with the matrix. The matrix is 12.
 *
 * @param minRatings fewer ratings than this are built on this thread alone (tests lower it)
 * @param pool threads started ahead to use first (the caller stops those not taken)
 */
export async function buildFromMovieRuns(parts: MovieRunsList[], scale: RatingScale, threads = 1, minRatings = PARALLEL_MIN_RATINGS, pool?: BuildThreadPool): Promise<BuildResult> {
  let n = 0;
  let maxUser = -1;
  let maxMovie = -1;
  let negative = 0;
  let runs = 0;
  for (const p of parts) {
    n += p.length;
    runs += p.runs;
    if (p.length > 0) {
      negative |= p.minUser;
      if (p.maxUser > maxUser) maxUser = p.maxUser;
    }
    for (let r = 0; r < p.runs; r++) {
      const m = p.runMovies[r];
      negative |= m;
      if (m > maxMovie) maxMovie = m;
    }
  }
  if (negative < 0) throw new RangeError('buildFromMovieRuns: negative user or movie id');
  const withDays = parts.some((p) => p.days !== null);
  // (Row places are Int32: at most 2^31 - 1 ratings.)
  if (n > 0x7fffffff || !(maxUser < 16_777_216 || maxUser < 8 * n) || !(maxMovie < 16_777_216 || maxMovie < 8 * n)) {
    return buildRatingMatrix(parts.splice(0).map(expandRuns), scale);
  }
  const shared = threads > 1 && n >= minRatings && parts.every((p) => isShared(p.users) && isShared(p.ratings) && (p.days === null || isShared(p.days)));
  const nThreads = shared ? Math.max(1, Math.min(threads, n)) : 1;

  // 1. Movies: distinct ids ascending, then the runs in movie order (stable), cut into shares.
  const movieOf = new Int32Array(maxMovie + 1).fill(-1);
  const runCount = new Uint32Array(maxMovie + 2);
  for (const p of parts) for (let r = 0; r < p.runs; r++) runCount[p.runMovies[r] + 1]++;
  let nM = 0;
  for (let id = 0; id <= maxMovie; id++) if (runCount[id + 1] !== 0) movieOf[id] = nM++;
  if (nM >= 1 << 24) throw new RangeError(`buildFromMovieRuns: ${nM} movies; at most 16,777,215 are supported`);
  const movieIds = new Int32Array(nM);
  for (let id = 0; id <= maxMovie; id++) if (movieOf[id] >= 0) movieIds[movieOf[id]] = id;
  for (let id = 0; id <= maxMovie; id++) runCount[id + 1] += runCount[id];
  const all = { part: new Uint32Array(runs), from: new Uint32Array(runs), to: new Uint32Array(runs), movie: new Int32Array(runs) };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    for (let r = 0; r < p.runs; r++) {
      const at = runCount[p.runMovies[r]]++;
      all.part[at] = i;
      all.from[at] = p.runStarts[r];
      all.to[at] = r + 1 < p.runs ? p.runStarts[r + 1] : p.length;
      all.movie[at] = movieOf[p.runMovies[r]];
    }
  }
  const shares: RunShare[] = [];
  // Where each share's ratings start in the columns (runs in movie order are the columns, users as read).
  const shareStart: number[] = [];
  for (let t = 0, o = 0, done = 0; t < nThreads; t++) {
    const start = o;
    shareStart.push(done);
    const want = t + 1 === nThreads ? n : Math.floor((n * (t + 1)) / nThreads);
    while (o < runs && (done < want || t + 1 === nThreads)) done += all.to[o] - all.from[o++];
    shares.push({ part: all.part.subarray(start, o), from: all.from.subarray(start, o), to: all.to.subarray(start, o), movie: all.movie.subarray(start, o) });
  }
  const rowsOf: PartRows = { users: parts.map((p) => p.users), ratings: parts.map((p) => p.ratings), days: parts.map((p) => p.days) };
  // From here on the parts' arrays are held only by `rowsOf` (and the threads), to be dropped after step 3.
  parts.length = 0;

  const helpers: BuildThread[] = pool?.take(nThreads - 1) ?? [];
  while (helpers.length < nThreads - 1) helpers.push(new BuildThread());
  const onAll = async (step: (t: number) => BuildStep, here: () => void): Promise<BuildReply[]> => {
    const asked = helpers.map((h, i) => h.ask(step(i + 1)));
    // Awaited below; a thread failing while this one works must not count as unhandled.
    for (const a of asked) a.catch(() => undefined);
    here();
    return Promise.all(asked);
  };
  try {
    // 2. Users: counts by id per share, then each id's index and row start, and each share's first slots.
    let counts: Int32Array[] = [];
    for (let t = 0; t < nThreads; t++) counts.push(newArray(Int32Array, maxUser + 1, shared));
    await onAll((t) => ({ step: 'count', parts: rowsOf, share: shares[t], counts: counts[t] }), () => countShareUsers(rowsOf, shares[0], counts[0]));
    const indexOf = newArray(Int32Array, maxUser + 1, shared);
    let nU = 0;
    for (let id = 0; id <= maxUser; id++) {
      let c = 0;
      for (let t = 0; t < nThreads; t++) c += counts[t][id];
      indexOf[id] = c === 0 ? -1 : nU++;
    }
    if (nU >= 1 << 23) throw new RangeError(`buildFromMovieRuns: ${nU} users; at most 8,388,607 are supported`);
    const userIds = new Int32Array(nU);
    const userPtr = new Uint32Array(nU + 1);
    const buckets = bucketsFor(nU, nM);
    // Each share's ratings per bucket, then where its first one of each bucket goes.
    const next: Int32Array[] = [];
    for (let t = 0; t < nThreads; t++) next.push(new Int32Array(buckets.count));
    for (let id = 0, at = 0; id <= maxUser; id++) {
      const u = indexOf[id];
      if (u < 0) continue;
      userIds[u] = id;
      userPtr[u] = at;
      const k = u >>> buckets.shift;
      for (let t = 0; t < nThreads; t++) {
        const c = counts[t][id];
        next[t][k] += c;
        at += c;
      }
    }
    for (let k = 0; k < buckets.count; k++) {
      let at = userPtr[k << buckets.shift];
      for (let t = 0; t < nThreads; t++) {
        const c = next[t][k];
        next[t][k] = at;
        at += c;
      }
    }
    userPtr[nU] = n;
    counts = [];

    // 3. The columns, users in the order read; then the parts' users and ratings go.
    const columnKeys = newArray(Int32Array, n, shared);
    await onAll((t) => ({ step: 'columns', indexOf, at: shareStart[t], columnKeys }), () => writeShareColumns(rowsOf, shares[0], indexOf, 0, columnKeys));
    const days = rowsOf.days.slice();
    // The parts' users and ratings are not read again: their buffers become the rows' movies and ratings.
    const userMovies = joinedRows(Int32Array, rowsOf.users.splice(0), n, shared);
    const userRatings = joinedRows(Uint8Array, rowsOf.ratings.splice(0), n, shared);
    releaseMemory();

    // 4. The rows, from the columns; then the parts' days go.
    const rows: RowArrays = { userMovies, userRatings, userDays: withDays ? newArray(Uint16Array, n, shared) : null };
    await onAll((t) => ({ step: 'scatter', buckets, next: next[t], rows }), () => scatterShare(days, shares[0], 0, columnKeys, buckets, next[0], rows));
    days.length = 0;
    rowsOf.days.length = 0;
    next.length = 0;
    releaseMemory();

    // 5. Each bucket sorted by user into the rows; a user who rated a movie twice (rare) is handled here.
    const bucketPtr = new Uint32Array(buckets.count + 1);
    for (let k = 0; k <= buckets.count; k++) bucketPtr[k] = userPtr[Math.min(nU, k << buckets.shift)];
    const bounds = userBounds(bucketPtr, buckets.count, nThreads);
    let repeats = 0;
    const here = (): number => (repeats += sortBuckets(userPtr, nU, buckets, bounds[0], bounds[1], rows));
    for (const r of await onAll((t) => ({ step: 'unpack', userPtr, nU, buckets, bFrom: bounds[t], bTo: bounds[t + 1] }), here)) {
      if (r.step === 'done') repeats += r.duplicates!;
    }
    const movieRatings = newArray(Uint8Array, n, shared);
    if (repeats > 0) {
      await Promise.all(helpers.map((h) => h.stop()));
      helpers.length = 0;
      return await withoutRepeats(userIds, movieIds, scale, userPtr, rows, nM, columnKeys, movieRatings, shared ? nThreads : 1);
    }

    // 6. Each column sorted by user, on movie ranges of about equal ratings.
    const moviePtr = new Uint32Array(nM + 1);
    for (let o = 0; o < runs; o++) moviePtr[all.movie[o] + 1] += all.to[o] - all.from[o];
    for (let m = 0; m < nM; m++) moviePtr[m + 1] += moviePtr[m];
    const movieBounds = userBounds(moviePtr, nM, nThreads);
    await onAll((t) => ({ step: 'sort', moviePtr, mFrom: movieBounds[t], mTo: movieBounds[t + 1], movieRatings }), () => sortColumns(moviePtr, movieBounds[0], movieBounds[1], columnKeys, movieRatings));
    const movieUsers = columnKeys;

    const matrix = new RatingMatrix(IdIndex.fromSorted(userIds), IdIndex.fromSorted(movieIds), scale, userPtr, rows.userMovies, rows.userRatings, rows.userDays, moviePtr, movieUsers, movieRatings);
    return { matrix, duplicates: 0, duplicateExamples: [], capped: 0 };
  } finally {
    await Promise.all(helpers.map((h) => h.stop()));
  }
}

/**
 * The matrix when some user rated a movie twice or more: the rows keep the last of each
 * repeated movie (`dropDuplicates`), and the columns are their transpose (written over the
 * column arrays, which are then trimmed).
 */
async function withoutRepeats(
  userIds: Int32Array,
  movieIds: Int32Array,
  scale: RatingScale,
  userPtr: Uint32Array,
  rows: RowArrays,
  nM: number,
  movieUsers: Int32Array,
  movieRatings: Uint8Array,
  threads: number,
): Promise<BuildResult> {
  const nU = userIds.length;
  const n = userPtr[nU];
  const shared = isShared(movieUsers);
  const duplicateRows: number[] = [];
  const duplicateMovies: number[] = [];
  const nr = dropDuplicates(rows.userMovies, rows.userRatings, rows.userDays, userPtr, nU, duplicateRows, duplicateMovies);
  // Shared arrays stay views of their buffers (a copy would not be shared).
  const trim = <T extends Int32Array | Uint8Array | Uint16Array>(a: T): T => (shared ? a.subarray(0, nr) : a.slice(0, nr)) as T;
  const userMovies = trim(rows.userMovies);
  const userRatings = trim(rows.userRatings);
  const userDays = rows.userDays === null ? null : trim(rows.userDays);
  const columnUsers = trim(movieUsers);
  const columnRatings = trim(movieRatings);
  const moviePtr = new Uint32Array(nM + 1);
  for (let j = 0; j < nr; j++) moviePtr[userMovies[j] + 1]++;
  for (let m = 0; m < nM; m++) moviePtr[m + 1] += moviePtr[m];
  await transposeOnThreads({ userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers: columnUsers, movieRatings: columnRatings }, threads);
  const matrix = new RatingMatrix(IdIndex.fromSorted(userIds), IdIndex.fromSorted(movieIds), scale, userPtr, userMovies, userRatings, userDays, moviePtr, columnUsers, columnRatings);
  const duplicateExamples = duplicateRows.map((u, e) => ({ user: userIds[u], movie: movieIds[duplicateMovies[e]] }));
  return { matrix, duplicates: n - nr, duplicateExamples, capped: 0 };
}

/** A part as a RatingList (a movie id per row), for ids too sparse for the tables above. */
function expandRuns(p: MovieRunsList): RatingList {
  const movies = new Int32Array(p.length);
  for (let r = 0; r < p.runs; r++) movies.fill(p.runMovies[r], p.runStarts[r], r + 1 < p.runs ? p.runStarts[r + 1] : p.length);
  return { length: p.length, users: p.users, movies, ratings: p.ratings, days: p.days };
}
