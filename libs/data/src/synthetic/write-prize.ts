// The original Netflix Prize layout writer (training files, titles, probe and qualifying sets).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Random } from '@recsys/core';
import { IdIndex } from '../id-index';
import { RatingList } from '../rating-matrix';
import { BufferedFile, ByMovie, CHUNK, COLON, COMMA, dateTable, groupByMovie, NEWLINE, putRating, putUint, withFile, WritableRatings, WrittenFiles } from './write-common';

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
