// One hot loop, kept together on purpose (GUIDE.md's hot-loop rules): the byte-level row parser
// for every delimited rating layout stays in this one file so its inner loop stays monomorphic.
// Do not split it to meet the ~400-line guideline.
import { DataFormatError } from '../errors';
import { encodeRating, isOnScale, RatingScale } from '../rating-scale';
import { daysFromCivil, fieldText, MAX_DAY, MAX_ID, parseCount, parseDecimal, parseId, parseIsoDate } from './byte-reader';
import { LoadContext } from './context';

/**
 * Where the values of a delimited rating row are. One reader serves every rating layout:
 * Kaggle CSV, Netflix Prize blocks, probe and qualifying pairs, MovieLens u.data, ratings.dat
 * and ratings.csv.
 */
export interface RowLayout {
  /** Field separator byte. */
  readonly delimiter: number;
  /** The separator is the byte twice (MovieLens `::`). */
  readonly doubleDelimiter: boolean;
  /** Fields every row must have. */
  readonly fields: number;
  /** Field index of the user id. */
  readonly user: number;
  /** Field index of the movie id, or -1 when rows come in blocks after a `MovieID:` line (Netflix Prize). */
  readonly movie: number;
  /** Field index of the rating, or -1 for pairs without ratings (probe, qualifying). */
  readonly rating: number;
  /** Field index of a `YYYY-MM-DD` date, or -1. */
  readonly date: number;
  /** Field index of a Unix timestamp in seconds, or -1. */
  readonly timestamp: number;
  /** Lines at the start that are not rows (a header the caller has read). */
  readonly headerLines: number;
  /** Ratings must lie on this scale's grid. */
  readonly scale: RatingScale;
  /** What the rows are, for the empty-file message: 'ratings', 'interactions' or 'pairs'. */
  readonly noun: string;
  /** The separator is runs of spaces and tabs (`delimiter` is a space); leading and trailing ones are ignored. */
  readonly whitespace?: boolean;
  /**
   * Timestamps from 10^11 on are Unix milliseconds, and the careful path reads either kind of
   * time field as Unix seconds/milliseconds or an ISO date with an optional time of day
   * (`YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]`, the day as written).
   */
  readonly flexibleTime?: boolean;
  /**
   * Implicit feedback: the `rating` field (optional) is a weight, any positive number, rounded to
   * the nearest half unit (at least 0.5) and capped at 127.5 (counted in `IssueLog.capped`); a
   * row without a weight field weighs 1.
   */
  readonly implicit?: boolean;
}

/**
 * Where parsed rows go: a `RatingListBuilder` (a row per rating) or a `MovieRunsBuilder` (movie
 * ids as runs, for the movie-ordered block layouts).
 */
export interface RowSink {
  readonly length: number;
  /** Append a rating; `ratingCode` is rating × 2, `day` days since 1970-01-01 (ignored without dates). */
  push(userId: number, movieId: number, ratingCode: number, day: number): void;
}

/** The layout's rows carry a date (either kind). */
export function hasDays(layout: RowLayout): boolean {
  return layout.date >= 0 || layout.timestamp >= 0;
}

const SECONDS_PER_DAY = 86400;
/** With `flexibleTime`, timestamps from here on are milliseconds (10^11 s is the year 5138; 10^11 ms is 1973). */
const MS_TIMESTAMPS_FROM = 1e11;
/** The largest code, 255 = 127.5 × 2. */
const MAX_CODE = 255;
/** An ISO date with an optional time of day and zone, as `flexibleTime` accepts it (error path only). */
const ISO_DATE_TIME = /^(\d{4}-\d\d-\d\d)(?:[T ]([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$/;

/** What a field holds, for the fast path. */
const IGNORE = 0;
const USER = 1;
const MOVIE = 2;
const RATING = 3;
const DATE = 4;
const TIMESTAMP = 5;

const LF = 10;
const CR = 13;

/** Years 1970 .. 2149 (the Uint16 days' range) in the Prize path's date tables. */
const EPOCH_YEAR = 1970;
const TABLE_YEARS = 180;
/** Days since 1970-01-01 of the first of each month of the table's years, and the month's length. */
const MONTH_START = new Int32Array(TABLE_YEARS * 12);
const MONTH_DAYS = new Uint8Array(TABLE_YEARS * 12);
for (let y = 0; y < TABLE_YEARS; y++) {
  for (let m = 0; m < 12; m++) {
    MONTH_START[y * 12 + m] = daysFromCivil(EPOCH_YEAR + y, m + 1, 1);
    MONTH_DAYS[y * 12 + m] = (m + 1 < 12 ? daysFromCivil(EPOCH_YEAR + y, m + 2, 1) : daysFromCivil(EPOCH_YEAR + y + 1, 1, 1)) - MONTH_START[y * 12 + m];
  }
}

/** prizeRows' state between calls: the current `MovieID:` block's movie (−1 before any, −2 after a malformed one) and the lines read so far. */
const PRIZE_BLOCK_MOVIE = 0;
const PRIZE_LINES = 1;

/**
 * The Netflix Prize fast path: reads `CustomerID,R,YYYY-MM-DD` rows and `MovieID:` lines from p
 * on into `out` while each line is one it accepts outright, and returns where the first other
 * line starts (or `end`); `state` carries the block's movie and the line count in and out. A
 * row's 12 bytes after the user id are read as three little-endian u32 words and checked at
 * once (SWAR): XOR with the expected `0` / delimiter / `-` bytes leaves each digit byte 0–9 and
 * each separator byte 0, and (t + 0x76) sets a byte's top bit exactly when that byte is above 9
 * (a byte ≥ 0x80 has it already, and only such a byte can carry into the next). Then the rating
 * is checked against the scale (`validCode`), the date against the calendar, the line end (LF or
 * CRLF). Measured on a 546 MB part of the generated 100M Prize folder, one thread: 0.59–0.60 s
 * against 0.87–0.90 s for the same checks byte by byte in the chunk closure. A top-level function
 * (not a closure) so that its state stays in registers.
 */
function prizeRows(buf: Buffer, view: DataView, p: number, end: number, state: Float64Array, out: RowSink, delimiter: number, validCode: Uint8Array): number {
  let blockMovie = state[PRIZE_BLOCK_MOVIE];
  let line = state[PRIZE_LINES];
  // Expected bytes: [rating digit, delimiter, Y, Y], [Y, Y, '-', M], [M, '-', D, D].
  const xa = 0x30300030 | (delimiter << 8);
  const xb = 0x302d3030;
  const xc = 0x30302d30;
  while (p < end) {
    const s = p;
    let c = buf[p];
    let v = 0;
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      c = buf[++p];
    }
    const digits = p - s;
    p = s;
    if (digits === 0 || digits > 10 || v > MAX_ID) break;
    const q = s + digits;
    if (c === delimiter) {
      // A whole row needs the bytes up to q + 13 (its LF) inside the chunk.
      if (blockMovie < 0 || q + 14 > end) break;
      const ta = view.getUint32(q + 1, true) ^ xa;
      const tb = view.getUint32(q + 5, true) ^ xb;
      const tc = view.getUint32(q + 9, true) ^ xc;
      if (((ta + 0x76767676) | ta | (tb + 0x76767676) | tb | (tc + 0x76767676) | tc) & 0x80808080 || (ta & 0xff00) | (tb & 0xff0000) | (tc & 0xff00)) break;
      const r = ta & 0xff;
      const y = ((ta >>> 16) & 0xff) * 1000 + (ta >>> 24) * 100 + (tb & 0xff) * 10 + ((tb >>> 8) & 0xff) - EPOCH_YEAR;
      const m = (tb >>> 24) * 10 + (tc & 0xff) - 1;
      const d = ((tc >>> 16) & 0xff) * 10 + (tc >>> 24);
      let e = q + 13;
      if (buf[e] === CR) e++;
      if (buf[e] !== LF || validCode[r * 2] !== 1 || y < 0 || y >= TABLE_YEARS || m < 0 || m >= 12 || d < 1 || d > MONTH_DAYS[y * 12 + m]) break;
      const day = MONTH_START[y * 12 + m] + d - 1;
      if (day > MAX_DAY) break;
      out.push(v, blockMovie, r * 2, day);
      p = e + 1;
    } else if (c === 58 /* : */) {
      let e = q + 1;
      if (buf[e] === CR) e++;
      if (buf[e] !== LF) break;
      blockMovie = v;
      p = e + 1;
    } else break;
    line++;
  }
  state[PRIZE_BLOCK_MOVIE] = blockMovie;
  state[PRIZE_LINES] = line;
  return p;
}

/**
 * Stream the rows of `file` into `out` (external ids; rating × 2; days since 1970-01-01 when the
 * layout has dates). Blank lines are ignored; a malformed row goes to the context's issue log
 * (throw, or skip and count). A file without a single good row is an error either way.
 *
 * Each line is read once, byte by byte, parsing the numbers as the bytes go by (the fast path).
 * Any line it does not accept outright (blank, a `MovieID:` line, or anything odd) is re-read by
 * the careful path, which splits the fields and either keeps the row or says exactly what is wrong.
 *
 * @returns the number of rows appended
 */
export async function readRatingRows(
  ctx: LoadContext,
  file: string,
  layout: RowLayout,
  out: RowSink,
): Promise<number> {
  const skippedBefore = ctx.issues.skipped;
  const { appended, lines } = await readRowRange(ctx, file, layout, out);
  requireRows(file, layout, appended, lines, ctx.issues.skipped - skippedBefore, layout.headerLines);
  return appended;
}

/** What reading the rows of a file or of a range of it found. */
export interface RowsRead {
  /** Rows appended to the list. */
  appended: number;
  /** Lines of the range (the last one counts without a newline too). */
  lines: number;
}

/**
 * The rows of bytes [from, to) of `file` (a range starting at a line start), as `readRatingRows`
 * reads them but without the check that there is a row; line numbers in messages count from the
 * range's first line as 1 (the caller shifts them for a later range). `headerLines` says how many
 * lines at the start of the range are not rows: the layout's for the first range, 0 for others.
 * A range of a Netflix Prize file must start at a `MovieID:` line (see `blockAlignedCut`), or its
 * first rows are rejected as coming before any `MovieID:` line.
 */
export async function readRowRange(
  ctx: LoadContext,
  file: string,
  layout: RowLayout,
  out: RowSink,
  from = 0,
  to = Infinity,
  headerLines = layout.headerLines,
): Promise<RowsRead> {
  const { delimiter, doubleDelimiter, fields, user, movie, rating, date, timestamp, scale } = layout;
  const whitespace = layout.whitespace === true;
  const implicit = layout.implicit === true;
  const flexibleTime = layout.flexibleTime === true;
  const msFrom = flexibleTime ? MS_TIMESTAMPS_FROM : Infinity;
  // Implicit rows without a weight field weigh 1 (code 2).
  const defaultCode = implicit ? 2 : 0;
  const issues = ctx.issues;
  const blocks = movie < 0;
  // Netflix Prize: -1 before any `MovieID:` line, -2 after a malformed one.
  let blockMovie = -1;
  const lengthBefore = out.length;
  let lines = 0;

  // Careful path: one line without its terminator, split into fields, every value checked.
  const starts = new Int32Array(fields);
  const ends = new Int32Array(fields);
  const carefulLine = (buf: Buffer, s: number, e: number, line: number): void => {
    if (s === e) return;

    if (blocks && buf[e - 1] === 58 /* : */) {
      blockMovie = parseId(buf, s, e - 1);
      if (blockMovie < 0) {
        blockMovie = -2;
        issues.reject(file, line, `movie id "${fieldText(buf, s, e - 1)}" ${notAnId(buf, s, e - 1)}`);
      }
      return;
    }

    // Split into fields; count past the expected number to report it.
    let n = 0;
    let from = s;
    if (whitespace) {
      // Runs of spaces and tabs separate; leading and trailing ones do not start a field.
      while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
      while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
      if (s === e) return;
      from = s;
    }
    for (let i = s; i < e; i++) {
      if (whitespace) {
        if (buf[i] !== 32 && buf[i] !== 9) continue;
        if (n < fields) {
          starts[n] = from;
          ends[n] = i;
        }
        n++;
        while (i + 1 < e && (buf[i + 1] === 32 || buf[i + 1] === 9)) i++;
        from = i + 1;
        continue;
      }
      if (buf[i] !== delimiter) continue;
      if (doubleDelimiter) {
        if (i + 1 >= e || buf[i + 1] !== delimiter) continue;
        if (n < fields) {
          starts[n] = from;
          ends[n] = i;
        }
        n++;
        i++;
        from = i + 1;
      } else {
        if (n < fields) {
          starts[n] = from;
          ends[n] = i;
        }
        n++;
        from = i + 1;
      }
    }
    if (n < fields) {
      starts[n] = from;
      ends[n] = e;
    }
    n++;
    if (n !== fields) {
      issues.reject(file, line, `expected ${fields} field${fields === 1 ? '' : 's'}, found ${n}`);
      return;
    }

    let movieId: number;
    if (blocks) {
      if (blockMovie < 0) {
        issues.reject(
          file,
          line,
          blockMovie === -1 ? 'row comes before any "MovieID:" line' : 'row follows a malformed "MovieID:" line',
        );
        return;
      }
      movieId = blockMovie;
    } else {
      movieId = parseId(buf, starts[movie], ends[movie]);
      if (movieId < 0) {
        issues.reject(file, line, `movie id "${fieldText(buf, starts[movie], ends[movie])}" ${notAnId(buf, starts[movie], ends[movie])}`);
        return;
      }
    }

    const userId = parseId(buf, starts[user], ends[user]);
    if (userId < 0) {
      issues.reject(file, line, `user id "${fieldText(buf, starts[user], ends[user])}" ${notAnId(buf, starts[user], ends[user])}`);
      return;
    }

    let code = defaultCode;
    if (rating >= 0 && implicit) {
      const w = parseDecimal(buf, starts[rating], ends[rating]);
      if (!(w > 0)) {
        const text = fieldText(buf, starts[rating], ends[rating]);
        issues.reject(file, line, Number.isNaN(w) ? `weight "${text}" is not a number` : `weight "${text}" is not positive`);
        return;
      }
      code = Math.max(1, Math.round(w * 2));
      if (code > MAX_CODE) {
        code = MAX_CODE;
        issues.capped++;
      }
    } else if (rating >= 0) {
      const r = parseDecimal(buf, starts[rating], ends[rating]);
      if (!isOnScale(scale, r)) {
        issues.reject(file, line, badRating(fieldText(buf, starts[rating], ends[rating]), r, scale));
        return;
      }
      code = encodeRating(r);
    }

    let day = 0;
    if (flexibleTime && (date >= 0 || timestamp >= 0)) {
      const f = date >= 0 ? date : timestamp;
      const found = flexibleDay(fieldText(buf, starts[f], ends[f]));
      if (typeof found === 'string') {
        issues.reject(file, line, found);
        return;
      }
      day = found;
    } else if (date >= 0) {
      day = parseIsoDate(buf, starts[date], ends[date]);
      if (!(day >= 0 && day <= MAX_DAY)) {
        const text = fieldText(buf, starts[date], ends[date]);
        issues.reject(
          file,
          line,
          Number.isNaN(day)
            ? `date "${text}" is not a valid YYYY-MM-DD date`
            : `date "${text}" is outside 1970-01-01..2149-06-06`,
        );
        return;
      }
    } else if (timestamp >= 0) {
      const seconds = parseCount(buf, starts[timestamp], ends[timestamp]);
      day = Math.floor(seconds / SECONDS_PER_DAY);
      if (seconds < 0 || day > MAX_DAY) {
        const text = fieldText(buf, starts[timestamp], ends[timestamp]);
        issues.reject(
          file,
          line,
          seconds < 0
            ? `timestamp "${text}" is not a non-negative integer (Unix seconds)`
            : `timestamp "${text}" is after 2149-06-06`,
        );
        return;
      }
    }

    out.push(userId, movieId, code, day);
  };

  /** The line starting at s (line number `line`) through the careful path; returns the next line's start. */
  const carefulRest = (buf: Buffer, s: number, line: number): number => {
    let nl = s;
    while (buf[nl] !== LF) nl++;
    if (line > headerLines) carefulLine(buf, s, nl > s && buf[nl - 1] === CR ? nl - 1 : nl, line);
    return nl + 1;
  };

  // Fast path: roles by field, the scale as rating codes (rating × 2).
  const roles = new Uint8Array(fields).fill(IGNORE);
  roles[user] = USER;
  if (movie >= 0) roles[movie] = MOVIE;
  if (rating >= 0) roles[rating] = RATING;
  if (date >= 0) roles[date] = DATE;
  if (timestamp >= 0) roles[timestamp] = TIMESTAMP;
  const minCode = encodeRating(scale.min);
  const maxCode = encodeRating(scale.max);
  const stepCode = encodeRating(scale.step);

  // Every chunk is whole lines ending in \n, so the byte scans below stop at a \n inside the chunk.
  const onChunk = (buf: Buffer, start: number, end: number): void => {
    let line = lines;
    let p = start;
    while (p < end) {
      const s = p;
      line++;
      let ok = line > headerLines;
      let userId = 0;
      let movieId = blockMovie;
      let code = defaultCode;
      let day = 0;
      for (let f = 0; ok && f < fields; f++) {
        const role = roles[f];
        if (role === DATE) {
          day = parseIsoDate(buf, p, p + 10);
          ok = day >= 0 && day <= MAX_DAY;
          p += 10;
          // With flexibleTime, `THH:MM:SS` and an optional `Z` after the date; any other time goes the careful way.
          if (flexibleTime && buf[p] === 84 /* T */) {
            ok = ok && isClock(buf, p + 1);
            p += 9;
            if (buf[p] === 90 /* Z */) p++;
          }
        } else if (role === IGNORE) {
          let c = buf[p];
          while (c !== delimiter && c !== LF && c !== CR) c = buf[++p];
        } else {
          const from = p;
          let v = 0;
          let c = buf[p];
          while (c >= 48 && c <= 57) {
            v = v * 10 + (c - 48);
            c = buf[++p];
          }
          const digits = p - from;
          if (role === RATING) {
            // Whole or half stars only: `4`, `4.0`, `3.5`, `3.50`; anything else goes the careful way.
            let r = v * 2;
            if (c === 46 /* . */) {
              c = buf[++p];
              if (c === 53 /* 5 */) r++;
              else if (c !== 48 /* 0 */) ok = false;
              c = buf[++p];
              while (c === 48) c = buf[++p];
            }
            ok = ok && digits > 0 && digits <= 3 && r >= minCode && r <= maxCode && (r - minCode) % stepCode === 0;
            code = r;
          } else if (role === TIMESTAMP) {
            day = Math.floor((v >= msFrom ? Math.floor(v / 1000) : v) / SECONDS_PER_DAY);
            ok = digits > 0 && digits <= 15 && day <= MAX_DAY;
          } else {
            ok = digits > 0 && digits <= 10 && v <= MAX_ID;
            if (role === USER) userId = v;
            else movieId = v;
          }
        }
        if (f + 1 < fields && ok) {
          if (buf[p] === delimiter && (!doubleDelimiter || buf[++p] === delimiter)) p++;
          else ok = false;
        }
      }
      if (ok && movieId >= 0) {
        if (buf[p] === CR) p++;
        if (buf[p] === LF) {
          out.push(userId, movieId, code, day);
          p++;
          continue;
        }
      }
      // Not accepted outright: the careful path reads the whole line again.
      p = carefulRest(buf, s, line);
    }
    lines = line;
  };

  // Faster path for the commonest layout, three integer fields (user, rating and movie in any
  // order, as in the Kaggle CSV): the fields are parsed in a straight line with no per-field role
  // dispatch, and the rating is checked against a table of valid codes. Any line it does not
  // accept outright (a header, a blank line, a decimal rating such as `4.0`, anything odd) goes
  // to the careful path, as above. Measured on 140 MB of Kaggle CSV, one thread:
  // ~290 ms against ~440 ms for the loop above.
  const triple = fields === 3 && !doubleDelimiter && !blocks && rating >= 0 && date < 0 && timestamp < 0;
  const validCode = new Uint8Array(256);
  for (let c = minCode; c <= maxCode && c < 256; c += stepCode) validCode[c] = 1;
  const onTripleChunk = (buf: Buffer, start: number, end: number): void => {
    let line = lines;
    let p = start;
    while (p < end) {
      const s = p;
      line++;
      if (line > headerLines) {
        let c = buf[p];
        let v0 = 0;
        while (c >= 48 && c <= 57) {
          v0 = v0 * 10 + (c - 48);
          c = buf[++p];
        }
        const d0 = p - s;
        if (c === delimiter) {
          const s1 = ++p;
          c = buf[p];
          let v1 = 0;
          while (c >= 48 && c <= 57) {
            v1 = v1 * 10 + (c - 48);
            c = buf[++p];
          }
          const d1 = p - s1;
          if (c === delimiter) {
            const s2 = ++p;
            c = buf[p];
            let v2 = 0;
            while (c >= 48 && c <= 57) {
              v2 = v2 * 10 + (c - 48);
              c = buf[++p];
            }
            const d2 = p - s2;
            if (c === CR) c = buf[++p];
            if (c === LF) {
              const userId = user === 0 ? v0 : user === 1 ? v1 : v2;
              const userDigits = user === 0 ? d0 : user === 1 ? d1 : d2;
              const movieId = movie === 0 ? v0 : movie === 1 ? v1 : v2;
              const movieDigits = movie === 0 ? d0 : movie === 1 ? d1 : d2;
              const stars = rating === 0 ? v0 : rating === 1 ? v1 : v2;
              const ratingDigits = rating === 0 ? d0 : rating === 1 ? d1 : d2;
              if (
                userDigits > 0 &&
                userDigits <= 10 &&
                userId <= MAX_ID &&
                movieDigits > 0 &&
                movieDigits <= 10 &&
                movieId <= MAX_ID &&
                ratingDigits > 0 &&
                ratingDigits <= 2 &&
                validCode[stars * 2] === 1
              ) {
                out.push(userId, movieId, stars * 2, 0);
                p++;
                continue;
              }
            }
          }
        }
      }
      // Not accepted outright: the careful path reads the whole line again.
      p = carefulRest(buf, s, line);
    }
    lines = line;
  };

  // Faster path for the Netflix Prize training rows, `CustomerID,Rating,YYYY-MM-DD` in
  // `MovieID:` blocks: `prizeRows` reads them until a line it does not accept outright, which the
  // careful path then reads (as above), and so on.
  const prize = blocks && fields === 3 && !doubleDelimiter && user === 0 && rating === 1 && date === 2;
  const prizeState = new Float64Array(2);
  let view: DataView | null = null;
  const onPrizeChunk = (buf: Buffer, start: number, end: number): void => {
    if (view === null || view.buffer !== buf.buffer || view.byteOffset !== buf.byteOffset || view.byteLength !== buf.byteLength) {
      view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    let p = start;
    while (p < end) {
      if (lines >= headerLines) {
        prizeState[PRIZE_BLOCK_MOVIE] = blockMovie;
        prizeState[PRIZE_LINES] = lines;
        p = prizeRows(buf, view, p, end, prizeState, out, delimiter, validCode);
        blockMovie = prizeState[PRIZE_BLOCK_MOVIE];
        lines = prizeState[PRIZE_LINES];
        if (p >= end) break;
      }
      lines++;
      p = carefulRest(buf, p, lines);
    }
  };

  await ctx.forEachChunk(file, prize ? onPrizeChunk : triple ? onTripleChunk : onChunk, from, to);
  return { appended: out.length - lengthBefore, lines };
}

/**
 * The error for a file that gave no row: `DataFormatError(file, 0, "no <noun>: <why>")` where why
 * is that the file is empty, all its rows were malformed, it has only a header, or no rows.
 */
export function requireRows(file: string, layout: RowLayout, appended: number, lines: number, skipped: number, headerLines: number): void {
  if (appended > 0) return;
  const why =
    lines === 0
      ? 'the file is empty'
      : skipped > 0
        ? `all ${skipped} rows were malformed and skipped`
        : lines <= headerLines
          ? 'the file has only a header'
          : 'the file has no rows';
  throw new DataFormatError(file, 0, `no ${layout.noun}: ${why}`);
}

/** `HH:MM:SS` at q (hours 00..23, minutes and seconds 00..59). */
function isClock(buf: Buffer, q: number): boolean {
  const h = (buf[q] - 48) * 10 + (buf[q + 1] - 48);
  const m = (buf[q + 3] - 48) * 10 + (buf[q + 4] - 48);
  const sec = (buf[q + 6] - 48) * 10 + (buf[q + 7] - 48);
  for (const i of [0, 1, 3, 4, 6, 7]) if (buf[q + i] < 48 || buf[q + i] > 57) return false;
  return buf[q + 2] === 58 && buf[q + 5] === 58 && h <= 23 && m <= 59 && sec <= 59;
}

/**
 * Days since 1970-01-01 of a `flexibleTime` field: Unix seconds, or milliseconds from 10^11 on,
 * or an ISO date with an optional time of day (the day as written); else the reason it is not
 * one (error path).
 */
export function flexibleDay(text: string): number | string {
  let day: number;
  if (/^\d{1,15}$/.test(text)) {
    const v = Number(text);
    day = Math.floor((v >= MS_TIMESTAMPS_FROM ? Math.floor(v / 1000) : v) / SECONDS_PER_DAY);
  } else {
    const m = ISO_DATE_TIME.exec(text);
    day = m === null ? NaN : parseIsoDate(Buffer.from(m[1], 'latin1'), 0, 10);
    if (Number.isNaN(day)) {
      return `timestamp "${text}" is not Unix seconds or milliseconds or an ISO date (YYYY-MM-DD[THH:MM[:SS]])`;
    }
  }
  if (day < 0 || day > MAX_DAY) return `timestamp "${text}" is outside 1970-01-01..2149-06-06`;
  return day;
}

/** Why bytes are not an id (error path). */
function notAnId(buf: Buffer, s: number, e: number): string {
  if (s === e) return 'is empty';
  for (let i = s; i < e; i++) if (buf[i] < 48 || buf[i] > 57) return 'is not a non-negative integer';
  return 'is larger than 2147483647';
}

/** Message for a rating off the scale (error path). */
export function badRating(text: string, value: number, scale: RatingScale): string {
  if (Number.isNaN(value)) return `rating "${text}" is not a number`;
  if (value < scale.min || value > scale.max) return `rating "${text}" is outside ${scale.min}..${scale.max}`;
  return `rating "${text}" is not on the ${scale.min}..${scale.max} scale in steps of ${scale.step}`;
}
