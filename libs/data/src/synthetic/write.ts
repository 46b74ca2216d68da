import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Random } from '@recsys/core';
import { MovieCatalog } from '../catalog';
import { IdIndex } from '../id-index';
import { RatingList } from '../rating-matrix';

/** What the writers need: the ratings and the catalog (a `SyntheticData` fits, so does a loaded data set's list). */
export interface WritableRatings {
  readonly list: RatingList;
  readonly catalog: MovieCatalog;
}

/** Result of a writer: the files written (absolute or as joined with `dir`) and their total size. */
export interface WrittenFiles {
  files: string[];
  bytes: number;
}

const CHUNK = 4 << 20;
const COMMA = 44;
const NEWLINE = 10;
const COLON = 58;

/**
 * Appends bytes to a file through one reused 4 MiB buffer: numbers are written digit by digit and
 * the buffer is flushed when nearly full, so no line is ever a JS string.
 */
class BufferedFile {
  readonly buf = Buffer.allocUnsafe(CHUNK + 4096);
  pos = 0;
  bytes = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  static async create(path: string): Promise<BufferedFile> {
    return new BufferedFile(await open(path, 'w'), path);
  }

  /** True when the buffer should be flushed before writing more (call between lines). */
  get full(): boolean {
    return this.pos >= CHUNK;
  }

  async flush(): Promise<void> {
    let off = 0;
    while (off < this.pos) {
      const { bytesWritten } = await this.handle.write(this.buf, off, this.pos - off);
      off += bytesWritten;
    }
    this.bytes += this.pos;
    this.pos = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** A non-negative integer below 2^31 in decimal. */
  uint(v: number): void {
    this.pos = putUint(this.buf, this.pos, v);
  }

  /** A rating code (stars × 2) as stars: `4` or `3.5`. */
  rating(code: number): void {
    this.pos = putRating(this.buf, this.pos, code);
  }

  /** Bytes already encoded (e.g. a date from a table). */
  bytesFrom(src: Uint8Array, start: number, length: number): void {
    for (let i = 0; i < length; i++) this.buf[this.pos++] = src[start + i];
  }

  /** A short string (a title): must fit in the 4 KiB slack, which titles do. */
  text(s: string, encoding: 'utf8' | 'latin1'): void {
    if (Buffer.byteLength(s, encoding) > 4000) throw new RangeError(`text too long to write: ${s.slice(0, 40)}…`);
    this.pos += this.buf.write(s, this.pos, encoding);
  }
}

/** Create `path`, let `body` fill it, always close it; records the path in `files` and returns its size. */
async function withFile(path: string, files: string[], body: (out: BufferedFile) => Promise<void>): Promise<number> {
  const out = await BufferedFile.create(path);
  try {
    await body(out);
  } finally {
    await out.close();
  }
  files.push(path);
  return out.bytes;
}

/** The ratings of a list regrouped by movie: movie m's are positions ptr[m] … ptr[m+1]−1 of users/ratings/days. */
interface ByMovie {
  movies: IdIndex;
  ptr: Uint32Array;
  users: Int32Array;
  ratings: Uint8Array;
  days: Uint16Array | null;
  /** Movie index of each list position. */
  index: Int32Array;
}

/**
 * Regroup `list` by movie (movies ascending, list order within a movie) by a stable counting sort
 * that scatters the columns: sequential reads and one sequential write stream per movie, which
 * stays cache-friendly at 100M ratings (gathering through a permutation would miss the cache on
 * every row).
 */
function groupByMovie(list: RatingList, withDays: boolean): ByMovie {
  const n = list.length;
  const movies = IdIndex.fromValues(list.movies, n);
  const nM = movies.size;
  const index = new Int32Array(n);
  const ptr = new Uint32Array(nM + 1);
  for (let k = 0; k < n; k++) {
    const m = movies.indexOf(list.movies[k]);
    index[k] = m;
    ptr[m + 1]++;
  }
  for (let m = 0; m < nM; m++) ptr[m + 1] += ptr[m];
  const users = new Int32Array(n);
  const ratings = new Uint8Array(n);
  const days = withDays && list.days !== null ? new Uint16Array(n) : null;
  const next = ptr.slice(0, nM);
  const srcUsers = list.users;
  const srcRatings = list.ratings;
  const srcDays = list.days;
  for (let k = 0; k < n; k++) {
    const j = next[index[k]]++;
    users[j] = srcUsers[k];
    ratings[j] = srcRatings[k];
    if (days !== null) days[j] = srcDays![k];
  }
  return { movies, ptr, users, ratings, days, index };
}

/** Quote a CSV field when it holds a quote, comma or line break (quotes doubled), as the Kaggle files do. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Write v (a non-negative integer below 2^31) in decimal at buf[pos…]; returns the new position. */
function putUint(buf: Buffer, pos: number, v: number): number {
  const digits =
    v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
  let p = pos + digits;
  while (v >= 10) {
    const q = (v / 10) | 0;
    buf[--p] = 48 + v - q * 10;
    v = q;
  }
  buf[--p] = 48 + v;
  return pos + digits;
}

/** Write a rating code (stars × 2) as stars, `4` or `3.5`, at buf[pos…]; returns the new position. */
function putRating(buf: Buffer, pos: number, code: number): number {
  pos = putUint(buf, pos, code >>> 1);
  if (code & 1) {
    buf[pos++] = 46; // '.'
    buf[pos++] = 53; // '5'
  }
  return pos;
}

/** Kaggle rating rows of movies m … (grouped as in `g`) from position j until the buffer is full; returns [m, j] to resume. */
function kaggleRows(out: BufferedFile, g: ByMovie, m: number, j: number, ratingFirst: boolean): [number, number] {
  const buf = out.buf;
  let pos = out.pos;
  const { ptr, users, ratings } = g;
  const ids = g.movies.ids;
  const nM = ids.length;
  for (; m < nM; m++) {
    const movieId = ids[m];
    const end = ptr[m + 1];
    for (; j < end; j++) {
      if (pos >= CHUNK) {
        out.pos = pos;
        return [m, j];
      }
      pos = putUint(buf, pos, users[j]);
      buf[pos++] = COMMA;
      if (ratingFirst) {
        pos = putRating(buf, pos, ratings[j]);
        buf[pos++] = COMMA;
        pos = putUint(buf, pos, movieId);
      } else {
        pos = putUint(buf, pos, movieId);
        buf[pos++] = COMMA;
        pos = putRating(buf, pos, ratings[j]);
      }
      buf[pos++] = NEWLINE;
    }
  }
  out.pos = pos;
  return [m, j];
}

/**
 * Write the Netflix Kaggle layout ("Netflix Movie Rating Dataset") into `dir` (created if needed):
 *
 * - `Netflix_Dataset_Rating.csv`: header `User_ID,Rating,Movie_ID` (or `User_ID,Movie_ID,Rating` with
 *   `columnOrder: 'user,movie,rating'`), one row per rating, rows grouped by movie in ascending
 *   movie id like the Kaggle file (list order within a movie). Ratings in stars (`4`, or `3.5` for
 *   half stars). No dates (the Kaggle file has none).
 * - `Netflix_Dataset_Movie.csv`: `Movie_ID,Year,Name` for every catalog movie in ascending id; year
 *   `NULL` when unknown; names quoted with `""` escapes when they hold `"` or `,`; UTF-8.
 *
 * Lines end with `\n`. Streams through a 4 MiB buffer.
 */
export async function writeNetflixKaggle(
  dir: string,
  data: WritableRatings,
  options: { columnOrder?: 'user,rating,movie' | 'user,movie,rating' } = {},
): Promise<WrittenFiles> {
  const columnOrder = options.columnOrder ?? 'user,rating,movie';
  if (columnOrder !== 'user,rating,movie' && columnOrder !== 'user,movie,rating') {
    throw new RangeError(`writeNetflixKaggle: columnOrder must be 'user,rating,movie' or 'user,movie,rating', got '${columnOrder}'`);
  }
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  const list = data.list;
  const grouped = groupByMovie(list, false);
  const ratingFirst = columnOrder === 'user,rating,movie';

  bytes += await withFile(join(dir, 'Netflix_Dataset_Rating.csv'), files, async (out) => {
    out.text(ratingFirst ? 'User_ID,Rating,Movie_ID\n' : 'User_ID,Movie_ID,Rating\n', 'utf8');
    // Fill the buffer synchronously (an optimisable loop), flush, repeat.
    let m = 0;
    let j = 0;
    while (m < grouped.movies.size) {
      [m, j] = kaggleRows(out, grouped, m, j, ratingFirst);
      await out.flush();
    }
  });

  bytes += await withFile(join(dir, 'Netflix_Dataset_Movie.csv'), files, async (out) => {
    out.text('Movie_ID,Year,Name\n', 'utf8');
    for (const movie of data.catalog.list()) {
      out.text(`${movie.id},${movie.year === null ? 'NULL' : movie.year},${csvField(movie.title)}\n`, 'utf8');
      if (out.full) await out.flush();
    }
  });
  return { files, bytes };
}

/** Options of {@link writeNetflixPrize}. */
export interface NetflixPrizeWriteOptions {
  /** `combined`: `combined_data_1..4.txt` (movies in 4 consecutive ranges); `per-movie`: `training_set/mv_0000001.txt …`. Default `combined`. */
  layout?: 'combined' | 'per-movie';
  /** Share of the ratings listed in `probe.txt` (they stay in the training files); default 0.014 (1,408,395 / 100,480,507). */
  probeFraction?: number;
  /** Number of `qualifying.txt` pairs (not in the training files) as a share of the ratings; default 0.028 (2,817,131 / 100,480,507). */
  qualifyingFraction?: number;
  /** Seed of the probe and qualifying samples; default 42. */
  seed?: number;
}

/** Result of {@link writeNetflixPrize}: files, bytes, and the numbers of probe and qualifying pairs written. */
export interface NetflixPrizeWritten extends WrittenFiles {
  probe: number;
  qualifying: number;
}

/** `YYYY-MM-DD` of a day count since 1970-01-01 (proleptic Gregorian; Hinnant's civil_from_days). */
export function isoDate(day: number): string {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** The 10 ASCII bytes of `YYYY-MM-DD` for every day 0 … 65535 (the Uint16 day range), built once. */
let dateBytes: Uint8Array | null = null;
function dateTable(): Uint8Array {
  if (dateBytes === null) {
    const table = new Uint8Array(65536 * 10);
    for (let day = 0; day < 65536; day++) table.set(Buffer.from(isoDate(day), 'latin1'), day * 10);
    dateBytes = table;
  }
  return dateBytes;
}

/** Prize rating lines `CustomerID,Rating,YYYY-MM-DD` for grouped positions j … end−1 until the buffer is full; returns the next j. */
function prizeRows(out: BufferedFile, g: ByMovie, j: number, end: number, dates: Uint8Array): number {
  const buf = out.buf;
  let pos = out.pos;
  const users = g.users;
  const ratings = g.ratings;
  const days = g.days!;
  for (; j < end && pos < CHUNK; j++) {
    pos = putUint(buf, pos, users[j]);
    buf[pos++] = COMMA;
    pos = putRating(buf, pos, ratings[j]);
    buf[pos++] = COMMA;
    const d = days[j] * 10;
    for (let i = 0; i < 10; i++) buf[pos++] = dates[d + i];
    buf[pos++] = NEWLINE;
  }
  out.pos = pos;
  return j;
}

/**
 * Write the original Netflix Prize layout into `dir` (created if needed):
 *
 * - training data: `combined_data_1.txt … combined_data_4.txt` (the rated movies split into 4
 *   consecutive ranges of equal size; fewer files when there are fewer than 4 movies) or
 *   `training_set/mv_0000001.txt …` (one file per rated movie, id zero-padded to 7 digits); each
 *   movie is a line `MovieID:` followed by lines `CustomerID,Rating,YYYY-MM-DD`.
 * - `movie_titles.csv`: `MovieID,YearOfRelease,Title` for every catalog movie, with NO quoting (the
 *   title is everything after the second comma), `NULL` years, ISO-8859-1 encoded (a title with a
 *   character beyond U+00FF is an error).
 * - `probe.txt`: `MovieID:` then `CustomerID` lines: a seeded uniform sample of
 *   round(probeFraction · n) ratings that ARE in the training files, as in the prize.
 * - `qualifying.txt`: `MovieID:` then `CustomerID,YYYY-MM-DD` lines: round(qualifyingFraction · n)
 *   distinct new (user, movie) pairs NOT in the training files, users and movies drawn in proportion
 *   to their numbers of ratings; the date is the user's last rating day (the prize's qualifying
 *   ratings were each user's most recent). Fewer are written only when the matrix is nearly full.
 *
 * The ratings must have days (the layout has a date on every line) and whole or half stars.
 * Lines end with `\n`; movies ascending in every file.
 */
export async function writeNetflixPrize(
  dir: string,
  data: WritableRatings,
  options: NetflixPrizeWriteOptions = {},
): Promise<NetflixPrizeWritten> {
  const layout = options.layout ?? 'combined';
  const probeFraction = options.probeFraction ?? 0.014;
  const qualifyingFraction = options.qualifyingFraction ?? 0.028;
  const list = data.list;
  const days = list.days;
  if (days === null) throw new Error('writeNetflixPrize: the ratings have no days, and every Netflix Prize rating line has a date');
  if (layout !== 'combined' && layout !== 'per-movie') throw new RangeError(`writeNetflixPrize: layout must be 'combined' or 'per-movie', got '${layout}'`);
  if (!(probeFraction >= 0 && probeFraction <= 1)) throw new RangeError(`writeNetflixPrize: probeFraction must be in [0, 1], got ${probeFraction}`);
  if (!(qualifyingFraction >= 0 && qualifyingFraction <= 1)) {
    throw new RangeError(`writeNetflixPrize: qualifyingFraction must be in [0, 1], got ${qualifyingFraction}`);
  }
  // Check titles before writing anything.
  const catalogMovies = data.catalog.list();
  for (const movie of catalogMovies) {
    for (let i = 0; i < movie.title.length; i++) {
      if (movie.title.charCodeAt(i) > 0xff || movie.title.charCodeAt(i) === 10 || movie.title.charCodeAt(i) === 13) {
        throw new Error(`writeNetflixPrize: title of movie ${movie.id} ("${movie.title}") has a character ISO-8859-1 lines cannot hold`);
      }
    }
  }

  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  const n = list.length;
  const grouped = groupByMovie(list, true);
  const { movies, ptr, index: movieIndex } = grouped;
  const nM = movies.size;
  const dates = dateTable();
  const rng = new Random(options.seed ?? 42);

  const writeMovies = async (out: BufferedFile, from: number, to: number): Promise<void> => {
    for (let m = from; m < to; m++) {
      out.uint(movies.ids[m]);
      out.byte(COLON);
      out.byte(NEWLINE);
      for (let j = ptr[m]; j < ptr[m + 1]; ) {
        j = prizeRows(out, grouped, j, ptr[m + 1], dates);
        if (out.full) await out.flush();
      }
    }
  };
  if (layout === 'combined') {
    const parts = Math.min(4, nM);
    for (let p = 0; p < parts; p++) {
      const from = Math.floor((p * nM) / parts);
      const to = Math.floor(((p + 1) * nM) / parts);
      bytes += await withFile(join(dir, `combined_data_${p + 1}.txt`), files, (out) => writeMovies(out, from, to));
    }
  } else {
    const folder = join(dir, 'training_set');
    await mkdir(folder, { recursive: true });
    for (let m = 0; m < nM; m++) {
      const name = `mv_${String(movies.ids[m]).padStart(7, '0')}.txt`;
      bytes += await withFile(join(folder, name), files, (out) => writeMovies(out, m, m + 1));
    }
  }

  bytes += await withFile(join(dir, 'movie_titles.csv'), files, async (out) => {
    for (const movie of catalogMovies) {
      out.text(`${movie.id},${movie.year === null ? 'NULL' : movie.year},${movie.title}\n`, 'latin1');
      if (out.full) await out.flush();
    }
  });

  // Probe: selection sampling (Knuth's algorithm S) over the by-movie order: exactly `probeCount`, uniform.
  const probeCount = Math.round(probeFraction * n);
  bytes += await withFile(join(dir, 'probe.txt'), files, async (out) => {
    let needed = probeCount;
    for (let m = 0; m < nM && needed > 0; m++) {
      let headerDone = false;
      for (let j = ptr[m]; j < ptr[m + 1]; j++) {
        if (rng.next() * (n - j) >= needed) continue;
        needed--;
        if (!headerDone) {
          out.uint(movies.ids[m]);
          out.byte(COLON);
          out.byte(NEWLINE);
          headerDone = true;
        }
        out.uint(grouped.users[j]);
        out.byte(NEWLINE);
        if (out.full) await out.flush();
      }
    }
  });

  const qualifying = sampleUnratedPairs(list, movies, movieIndex, Math.round(qualifyingFraction * n), rng);
  bytes += await withFile(join(dir, 'qualifying.txt'), files, async (out) => {
    let current = -1;
    for (let j = 0; j < qualifying.length; j++) {
      const m = qualifying.movies[j];
      if (m !== current) {
        out.uint(movies.ids[m]);
        out.byte(COLON);
        out.byte(NEWLINE);
        current = m;
      }
      out.uint(qualifying.userIds[j]);
      out.byte(COMMA);
      out.bytesFrom(dates, qualifying.days[j] * 10, 10);
      out.byte(NEWLINE);
      if (out.full) await out.flush();
    }
  });

  return { files, bytes, probe: probeCount, qualifying: qualifying.length };
}

/**
 * `count` distinct (user, movie) pairs absent from `list`, sorted by movie then user: users and
 * movies each drawn from a uniformly random rating (so in proportion to their activity), checked
 * against the users' sorted movie rows by binary search. Gives up after 50 rounds without progress
 * (a nearly full matrix) and returns fewer.
 */
function sampleUnratedPairs(
  list: RatingList,
  movies: IdIndex,
  movieIndex: Int32Array,
  count: number,
  rng: Random,
): { length: number; movies: Int32Array; userIds: Int32Array; days: Uint16Array } {
  const n = list.length;
  const users = IdIndex.fromValues(list.users, n);
  const nU = users.size;
  const nM = movies.size;
  const userIndex = new Int32Array(n);
  const uPtr = new Uint32Array(nU + 1);
  const lastDay = new Uint16Array(nU);
  for (let k = 0; k < n; k++) {
    const u = users.indexOf(list.users[k]);
    userIndex[k] = u;
    uPtr[u + 1]++;
    if (list.days !== null && list.days[k] > lastDay[u]) lastDay[u] = list.days[k];
  }
  for (let u = 0; u < nU; u++) uPtr[u + 1] += uPtr[u];
  const rows = new Int32Array(n);
  {
    const next = uPtr.slice(0, nU);
    for (let k = 0; k < n; k++) rows[next[userIndex[k]]++] = movieIndex[k];
    for (let u = 0; u < nU; u++) rows.subarray(uPtr[u], uPtr[u + 1]).sort();
  }
  const rated = (u: number, m: number): boolean => {
    let lo = uPtr[u];
    let hi = uPtr[u + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = rows[mid];
      if (v < m) lo = mid + 1;
      else if (v > m) hi = mid - 1;
      else return true;
    }
    return false;
  };
  // Keys m · nU + u (< 2^53) sorted, so the output is grouped by movie.
  let keys = new Float64Array(0);
  const free = nU * nM - n;
  const target = Math.min(count, free);
  for (let stalled = 0; keys.length < target && stalled < 50 && n > 0; ) {
    const want = target - keys.length;
    const batch = new Float64Array(Math.ceil(want * 1.1) + 16);
    let b = 0;
    for (let t = 0; t < batch.length * 20 && b < batch.length; t++) {
      const u = userIndex[rng.int(n)];
      const m = movieIndex[rng.int(n)];
      if (!rated(u, m)) batch[b++] = m * nU + u;
    }
    const merged = new Float64Array(keys.length + b);
    merged.set(keys);
    merged.set(batch.subarray(0, b), keys.length);
    merged.sort();
    let w = 0;
    for (let i = 0; i < merged.length; i++) if (i === 0 || merged[i] !== merged[i - 1]) merged[w++] = merged[i];
    const grew = w > keys.length;
    if (w > target) {
      // Keep a uniform sample of `target` of the w distinct keys (selection sampling keeps them sorted).
      let needed = target;
      let kept = 0;
      for (let i = 0; i < w && needed > 0; i++) {
        if (rng.next() * (w - i) < needed) {
          merged[kept++] = merged[i];
          needed--;
        }
      }
      w = kept;
    }
    keys = merged.slice(0, w);
    stalled = grew ? 0 : stalled + 1;
  }
  const length = keys.length;
  const outMovies = new Int32Array(length);
  const outUsers = new Int32Array(length);
  const outDays = new Uint16Array(length);
  for (let j = 0; j < length; j++) {
    const key = keys[j];
    const m = Math.floor(key / nU);
    const u = key - m * nU;
    outMovies[j] = m;
    outUsers[j] = users.ids[u];
    outDays[j] = lastDay[u];
  }
  return { length, movies: outMovies, userIds: outUsers, days: outDays };
}
