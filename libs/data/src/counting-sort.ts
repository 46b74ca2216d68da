// The counting sorts behind buildRatingMatrix: the by-user scatter, the per-row movie sort,
// duplicate removal and the by-movie transpose. Internal to the lib (not exported from index.ts).
import { RatingList } from './rating-matrix';

/**
 * Buckets of user keys in the first pass of `scatterByUser`: 2^8, so that its 2 or 3 write
 * streams per bucket stay within the cache and the TLB. Measured on 10 M ratings (whole build):
 * ~400 ms with 2^8 buckets, ~450 ms with 2^11.
 */
const BUCKET_BITS = 8;

/**
 * Stable scatter of every part into the by-user rows: rating k goes to position
 * `next[userKeys[k]]++` (`next` holds the row starts by user key and ends as the row ends).
 *
 * Written directly, each of 50,000+ users would be a write stream of its own and nearly every
 * write a cache miss (measured: ~350 ms for 10 M ratings). So it goes in two passes: the first
 * moves each rating (movie index and rating packed in one word) into the output range of its
 * bucket of 2^s consecutive user keys (at most 2^BUCKET_BITS buckets, hence few streams), the
 * second scatters each bucket within its range, which is small enough to stay in cache. Both
 * passes are stable, so input order survives within each row.
 *
 * @returns the first pass's scratch array of user keys (n entries), free for the caller to reuse
 */
export function scatterByUser(
  parts: readonly RatingList[],
  userKeys: readonly Int32Array[],
  movieKeys: readonly Int32Array[],
  movieTable: Int32Array,
  next: Uint32Array,
  outMovies: Int32Array,
  outRatings: Uint8Array,
  outDays: Uint16Array | null,
  withDays: boolean,
): Int32Array {
  const range = next.length;
  const n = outMovies.length;
  if (n === 0) return new Int32Array(0);
  const shift = Math.max(0, 32 - Math.clz32(Math.max(1, range - 1)) - BUCKET_BITS);
  // Bucket b holds the keys [b << shift, (b + 1) << shift); row starts ascend with the key (keys
  // without rows hold the start of the next row), so its output range starts at next[b << shift].
  const nBuckets = ((range - 1) >>> shift) + 1;
  const bucketNext = new Uint32Array(nBuckets);
  for (let b = 0; b < nBuckets; b++) bucketNext[b] = next[b << shift];
  const tmpKeys = new Int32Array(n);
  const tmpPacked = new Uint32Array(n);
  const tmpDays = withDays ? new Uint16Array(n) : null;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    bucketPart(userKeys[i], movieKeys[i], movieTable, p.ratings, p.days, p.length, bucketNext, shift, tmpKeys, tmpPacked, tmpDays);
  }
  if (tmpDays !== null && outDays !== null) {
    for (let j = 0; j < n; j++) {
      const p = next[tmpKeys[j]]++;
      const v = tmpPacked[j];
      outMovies[p] = v >>> 8;
      outRatings[p] = v & 255;
      outDays[p] = tmpDays[j];
    }
  } else {
    for (let j = 0; j < n; j++) {
      const p = next[tmpKeys[j]]++;
      const v = tmpPacked[j];
      outMovies[p] = v >>> 8;
      outRatings[p] = v & 255;
    }
  }
  return tmpKeys;
}

/** One part's ratings moved to position `bucketNext[key >>> shift]++`, with (movie index << 8 | rating) packed. */
function bucketPart(
  userKeys: Int32Array,
  movieKeys: Int32Array,
  movieTable: Int32Array,
  ratings: Uint8Array,
  days: Uint16Array | null,
  n: number,
  bucketNext: Uint32Array,
  shift: number,
  outKeys: Int32Array,
  outPacked: Uint32Array,
  outDays: Uint16Array | null,
): void {
  if (days !== null && outDays !== null) {
    for (let k = 0; k < n; k++) {
      const key = userKeys[k];
      const j = bucketNext[key >>> shift]++;
      outKeys[j] = key;
      outPacked[j] = (movieTable[movieKeys[k]] << 8) | ratings[k];
      outDays[j] = days[k];
    }
  } else {
    // Without days in this part the output's days stay 0.
    for (let k = 0; k < n; k++) {
      const key = userKeys[k];
      const j = bucketNext[key >>> shift]++;
      outKeys[j] = key;
      outPacked[j] = (movieTable[movieKeys[k]] << 8) | ratings[k];
    }
  }
}

/**
 * Sorts each row by movie, stably (equal movies keep their input order), when it is not sorted
 * already.
 */
export function sortRowsByMovie(movies: Int32Array, ratings: Uint8Array, days: Uint16Array | null, uPtr: Uint32Array, nU: number): void {
  let keys = new Float64Array(0);
  for (let u = 0; u < nU; u++) {
    const start = uPtr[u];
    const end = uPtr[u + 1];
    let sorted = true;
    for (let j = start + 1; j < end; j++) {
      if (movies[j] < movies[j - 1]) {
        sorted = false;
        break;
      }
    }
    if (sorted) continue;
    const len = end - start;
    if (keys.length < len) keys = new Float64Array(Math.max(len, 2 * keys.length));
    // key = movie · 2^26 + offset in the row: exact in a double, unique, and ordering by it is
    // the stable order by movie. The offset then says where each entry came from.
    for (let j = 0; j < len; j++) keys[j] = movies[start + j] * 67108864 + j;
    const view = keys.subarray(0, len);
    view.sort();
    const rowRatings = ratings.slice(start, end);
    const rowDays = days === null ? null : days.slice(start, end);
    for (let j = 0; j < len; j++) {
      const key = view[j];
      const from = key % 67108864;
      movies[start + j] = (key - from) / 67108864;
      ratings[start + j] = rowRatings[from];
      if (days !== null) days[start + j] = rowDays![from];
    }
  }
}

/**
 * Compacts the rows in place, dropping all but the last of equal adjacent movies in each row;
 * rewrites userPtr. Up to 5 dropped (row, movie) pairs go to the example lists.
 *
 * With `sum` (implicit feedback) the codes of equal adjacent movies are added up instead, a sum
 * above 255 (127.5) kept as 255 and counted once per pair in `capped[0]`, and the pair keeps
 * the latest of its days.
 */
export function dropDuplicates(
  movies: Int32Array,
  ratings: Uint8Array,
  days: Uint16Array | null,
  userPtr: Uint32Array,
  nU: number,
  exampleRows: number[],
  exampleMovies: number[],
  sum = false,
  capped: Float64Array = new Float64Array(1),
): number {
  let write = 0;
  let start = 0;
  let cappedRun = false;
  for (let u = 0; u < nU; u++) {
    const end = userPtr[u + 1];
    for (let j = start; j < end; j++) {
      if (j + 1 < end && movies[j + 1] === movies[j]) {
        if (exampleRows.length < 5) {
          exampleRows.push(u);
          exampleMovies.push(movies[j]);
        }
        if (sum) {
          const total = ratings[j] + ratings[j + 1];
          if (total > 255 && !cappedRun) capped[0]++;
          cappedRun ||= total > 255;
          ratings[j + 1] = total > 255 ? 255 : total;
          if (days !== null && days[j] > days[j + 1]) days[j + 1] = days[j];
        }
        continue;
      }
      cappedRun = false;
      if (write !== j) {
        movies[write] = movies[j];
        ratings[write] = ratings[j];
        if (days !== null) days[write] = days[j];
      }
      write++;
    }
    start = end;
    userPtr[u + 1] = write;
  }
  return write;
}

/**
 * By-movie (CSC) arrays from by-user (CSR) ones; users come out ascending within each movie.
 * `moviePtr` holds the column starts already.
 */
export function transpose(
  userPtr: Uint32Array,
  userMovies: Int32Array,
  userRatings: Uint8Array,
  nU: number,
  nM: number,
  moviePtr: Uint32Array,
  movieUsers: Int32Array,
  movieRatings: Uint8Array,
): void {
  transposeUsers(userPtr, userMovies, userRatings, 0, nU, moviePtr.slice(0, nM), movieUsers, movieRatings);
}

/**
 * The rows of users [uFrom, uTo) into the columns: rating j of user u goes to `next[movie]++`.
 * `next` holds, per movie, where this range's first rating of it goes (the column start for the
 * whole range; for a later range of a split transpose, the start plus the ratings of that movie
 * in the earlier ranges).
 */
export function transposeUsers(
  userPtr: Uint32Array,
  userMovies: Int32Array,
  userRatings: Uint8Array,
  uFrom: number,
  uTo: number,
  next: Uint32Array,
  movieUsers: Int32Array,
  movieRatings: Uint8Array,
): void {
  for (let u = uFrom; u < uTo; u++) {
    const end = userPtr[u + 1];
    for (let j = userPtr[u]; j < end; j++) {
      const p = next[userMovies[j]]++;
      movieUsers[p] = u;
      movieRatings[p] = userRatings[j];
    }
  }
}
