// What the synthetic-data writers share: the buffered byte writer, the regrouping of a list by
// movie, and the number, rating and date formatting.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
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

export const CHUNK = 4 << 20;
export const COMMA = 44;
export const NEWLINE = 10;
export const COLON = 58;

/**
 * Appends bytes to a file through one reused 4 MiB buffer: numbers are written digit by digit and
 * the buffer is flushed when nearly full, so no line is ever a JS string.
 */
export class BufferedFile {
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
export async function withFile(path: string, files: string[], body: (out: BufferedFile) => Promise<void>): Promise<number> {
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
export interface ByMovie {
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
export function groupByMovie(list: RatingList, withDays: boolean): ByMovie {
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
export function putUint(buf: Buffer, pos: number, v: number): number {
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
export function putRating(buf: Buffer, pos: number, code: number): number {
  pos = putUint(buf, pos, code >>> 1);
  if (code & 1) {
    buf[pos++] = 46; // '.'
    buf[pos++] = 53; // '5'
  }
  return pos;
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
export function dateTable(): Uint8Array {
  if (dateBytes === null) {
    const table = new Uint8Array(65536 * 10);
    for (let day = 0; day < 65536; day++) table.set(Buffer.from(isoDate(day), 'latin1'), day * 10);
    dateBytes = table;
  }
  return dateBytes;
}
