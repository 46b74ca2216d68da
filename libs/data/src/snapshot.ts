import * as fs from 'node:fs';
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import { Movie, MovieCatalog } from './catalog';
import { Dataset } from './dataset';
import { SnapshotError } from './errors';
import { IdIndex } from './id-index';
import { RatingMatrix } from './rating-matrix';
import { RatingScale } from './rating-scale';

/** The 8 ASCII bytes every snapshot starts with. */
export const SNAPSHOT_MAGIC = 'RECSYSNP';
/** Format version this build writes and the newest it reads. */
export const SNAPSHOT_VERSION = 1;

/*
 * Snapshot file layout, format version 1 (all integers little-endian):
 *
 *   header, 128 bytes
 *     0   magic "RECSYSNP" (8 bytes)
 *     8   u32 format version
 *     12  u32 flags (bit 0: the matrix has days)
 *     16  u32 users
 *     20  u32 movies
 *     24  u64 ratings
 *     32  f64 scale min, 40 f64 scale max, 48 f64 scale step
 *     56  u32 number of sections
 *     60  u32 CRC-32 of bytes [0, 60) and [64, end of file): the header without this field,
 *         the section table and every section with its padding
 *     64  u64 total file length in bytes
 *     72  reserved, zero
 *   section table, 24 bytes per section: u32 section id, u32 zero, u64 byte offset, u64 byte length
 *   sections, each starting at a multiple of 8 (zero padding between), so that every typed
 *   array can be a view over the one buffer the file is read into.
 *
 * Sections (id: content): 1 user ids (i32), 2 movie ids (i32), 3 userPtr (u32), 4 userMovies (i32),
 * 5 userRatings (u8), 6 userDays (u16, only with the days flag), 7 moviePtr (u32),
 * 8 movieUsers (i32), 9 movieRatings (u8), 10 catalog (UTF-8 JSON, see `encodeCatalog`).
 */

const HEADER_BYTES = 128;
const TABLE_ENTRY_BYTES = 24;
const CHECKSUM_OFFSET = 60;
const FLAG_HAS_DAYS = 1;
/** Largest single read/write: the fs calls take at most 2^31 - 1 bytes. */
const IO_CHUNK_BYTES = 1 << 30;

enum Section {
  UserIds = 1,
  MovieIds = 2,
  UserPtr = 3,
  UserMovies = 4,
  UserRatings = 5,
  UserDays = 6,
  MoviePtr = 7,
  MovieUsers = 8,
  MovieRatings = 9,
  Catalog = 10,
}

const SECTION_NAMES: Record<number, string> = {
  [Section.UserIds]: 'user ids',
  [Section.MovieIds]: 'movie ids',
  [Section.UserPtr]: 'userPtr',
  [Section.UserMovies]: 'userMovies',
  [Section.UserRatings]: 'userRatings',
  [Section.UserDays]: 'userDays',
  [Section.MoviePtr]: 'moviePtr',
  [Section.MovieUsers]: 'movieUsers',
  [Section.MovieRatings]: 'movieRatings',
  [Section.Catalog]: 'catalog',
};

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function requireLittleEndian(file: string): void {
  // Typed-array views use the host's byte order; the format is little-endian.
  if (os.endianness() !== 'LE') throw new SnapshotError(file, 'snapshots need a little-endian host');
}

/**
 * Catalog section: UTF-8 JSON `{"ids":[…],"titles":[…],"years":[…|null],"genreNames":[…],
 * "genres":[[index into genreNames,…],…]}`, movies in ascending id order. Genre names are stored
 * once because MovieLens repeats a handful of them for every movie.
 */
function encodeCatalog(catalog: MovieCatalog): Uint8Array {
  const movies = catalog.list();
  const genreNames: string[] = [];
  const genreIndex = new Map<string, number>();
  const genres = movies.map((m) =>
    m.genres.map((g) => {
      let i = genreIndex.get(g);
      if (i === undefined) {
        i = genreNames.length;
        genreNames.push(g);
        genreIndex.set(g, i);
      }
      return i;
    }),
  );
  const json = JSON.stringify({
    ids: movies.map((m) => m.id),
    titles: movies.map((m) => m.title),
    years: movies.map((m) => m.year),
    genreNames,
    genres,
  });
  return Buffer.from(json, 'utf8');
}

function decodeCatalog(file: string, bytes: Uint8Array): MovieCatalog {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw new SnapshotError(file, `catalog section is not valid JSON (${(e as Error).message})`);
  }
  const c = parsed as { ids?: unknown; titles?: unknown; years?: unknown; genreNames?: unknown; genres?: unknown };
  const { ids, titles, years, genreNames, genres } = c;
  if (
    !Array.isArray(ids) ||
    !Array.isArray(titles) ||
    !Array.isArray(years) ||
    !Array.isArray(genreNames) ||
    !Array.isArray(genres) ||
    titles.length !== ids.length ||
    years.length !== ids.length ||
    genres.length !== ids.length
  ) {
    throw new SnapshotError(file, 'inconsistent counts: catalog columns have different lengths');
  }
  const movies: Movie[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const movieGenres = (genres[i] as number[]).map((g) => genreNames[g] as string);
    movies[i] = { id: ids[i] as number, title: titles[i] as string, year: years[i] as number | null, genres: movieGenres };
  }
  return new MovieCatalog(movies);
}

/**
 * Write a data set to one binary snapshot file (layout above), atomically: the bytes go to
 * `path + '.tmp-<pid>'`, are flushed to disk, and the file is then renamed over `path`, so a
 * reader never sees a half-written snapshot and a crash leaves any older snapshot intact.
 */
export function writeSnapshot(path: string, dataset: Dataset): void {
  requireLittleEndian(path);
  const m = dataset.matrix;
  const sections: Array<{ id: Section; bytes: Uint8Array }> = [
    { id: Section.UserIds, bytes: bytesOf(m.users.ids) },
    { id: Section.MovieIds, bytes: bytesOf(m.movies.ids) },
    { id: Section.UserPtr, bytes: bytesOf(m.userPtr) },
    { id: Section.UserMovies, bytes: bytesOf(m.userMovies) },
    { id: Section.UserRatings, bytes: bytesOf(m.userRatings) },
  ];
  if (m.userDays !== null) sections.push({ id: Section.UserDays, bytes: bytesOf(m.userDays) });
  sections.push(
    { id: Section.MoviePtr, bytes: bytesOf(m.moviePtr) },
    { id: Section.MovieUsers, bytes: bytesOf(m.movieUsers) },
    { id: Section.MovieRatings, bytes: bytesOf(m.movieRatings) },
    { id: Section.Catalog, bytes: encodeCatalog(dataset.catalog) },
  );

  const tableBytes = sections.length * TABLE_ENTRY_BYTES;
  const offsets: number[] = [];
  let end = align8(HEADER_BYTES + tableBytes);
  for (const s of sections) {
    offsets.push(end);
    end = align8(end + s.bytes.byteLength);
  }
  const totalBytes = end;

  // Header and table in one buffer (the checksum field is filled in last).
  const head = Buffer.alloc(align8(HEADER_BYTES + tableBytes));
  head.write(SNAPSHOT_MAGIC, 0, 'latin1');
  head.writeUInt32LE(SNAPSHOT_VERSION, 8);
  head.writeUInt32LE(m.userDays !== null ? FLAG_HAS_DAYS : 0, 12);
  head.writeUInt32LE(m.nUsers, 16);
  head.writeUInt32LE(m.nMovies, 20);
  head.writeBigUInt64LE(BigInt(m.nRatings), 24);
  head.writeDoubleLE(m.scale.min, 32);
  head.writeDoubleLE(m.scale.max, 40);
  head.writeDoubleLE(m.scale.step, 48);
  head.writeUInt32LE(sections.length, 56);
  head.writeBigUInt64LE(BigInt(totalBytes), 64);
  sections.forEach((s, i) => {
    const at = HEADER_BYTES + i * TABLE_ENTRY_BYTES;
    head.writeUInt32LE(s.id, at);
    head.writeBigUInt64LE(BigInt(offsets[i]), at + 8);
    head.writeBigUInt64LE(BigInt(s.bytes.byteLength), at + 16);
  });

  let crc = crc32(head.subarray(0, CHECKSUM_OFFSET));
  crc = crc32(head.subarray(CHECKSUM_OFFSET + 4), crc);
  const padding = new Uint8Array(8);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    writeAll(fd, head, 0);
    for (let i = 0; i < sections.length; i++) {
      const bytes = sections[i].bytes;
      writeAll(fd, bytes, offsets[i]);
      crc = crc32(bytes, crc);
      const pad = align8(offsets[i] + bytes.byteLength) - (offsets[i] + bytes.byteLength);
      if (pad > 0) {
        writeAll(fd, padding.subarray(0, pad), offsets[i] + bytes.byteLength);
        crc = crc32(padding.subarray(0, pad), crc);
      }
    }
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32LE(crc >>> 0, 0);
    writeAll(fd, checksum, CHECKSUM_OFFSET);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    fs.renameSync(tmp, path);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = Math.min(IO_CHUNK_BYTES, bytes.byteLength - done);
    done += fs.writeSync(fd, bytes, done, n, position + done);
  }
}

/** Read exactly `length` bytes at `position` into `target` from offset `at`, in chunks (< 2 GiB each). */
function readAll(fd: number, target: Uint8Array, at: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, target, at + done, Math.min(IO_CHUNK_BYTES, length - done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Whether the file exists and starts with the snapshot magic (reads 8 bytes; never throws). */
export function isSnapshotFile(path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const magic = Buffer.alloc(8);
    return readAll(fd, magic, 0, 8, 0) === 8 && magic.toString('latin1') === SNAPSHOT_MAGIC;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

interface SectionEntry {
  offset: number;
  length: number;
}

/**
 * Read a snapshot written by `writeSnapshot`. The whole file goes into one preallocated
 * ArrayBuffer (chunked `readSync`, so files beyond 2 GiB work) and every array of the matrix is
 * a typed-array view over it: no copy and no per-rating work besides the CRC-32.
 *
 * Checks, in order, each refused with a SnapshotError naming the file: the magic ("not a recsys
 * snapshot"), the format version (newer than `SNAPSHOT_VERSION`), the file length against the
 * header (truncated: expected vs actual bytes), the section table, the checksum ("corrupted:
 * checksum mismatch"), then section sizes against the counts and the pointer arrays (monotone,
 * starting at 0, ending at the rating count). Movie/user indices inside the rows are not
 * re-validated: the checksum already vouches for them.
 */
export function readSnapshot(path: string): Dataset {
  requireLittleEndian(path);
  const fd = fs.openSync(path, 'r');
  let buffer: ArrayBuffer;
  try {
    const size = fs.fstatSync(fd).size;
    const head = new Uint8Array(HEADER_BYTES);
    const got = readAll(fd, head, 0, Math.min(size, HEADER_BYTES), 0);
    if (got === 0) throw new SnapshotError(path, 'not a recsys snapshot (empty file)');
    if (got < 8 || Buffer.from(head.buffer, 0, 8).toString('latin1') !== SNAPSHOT_MAGIC) {
      throw new SnapshotError(path, `not a recsys snapshot (the file does not start with "${SNAPSHOT_MAGIC}")`);
    }
    if (got < 12) throw new SnapshotError(path, `truncated: ${got} bytes, the header alone needs ${HEADER_BYTES}`);
    const version = new DataView(head.buffer).getUint32(8, true);
    if (version > SNAPSHOT_VERSION) {
      throw new SnapshotError(
        path,
        `written by a newer recsys: format version ${version}, this build reads up to ${SNAPSHOT_VERSION}`,
      );
    }
    if (version < 1) throw new SnapshotError(path, `unsupported format version ${version}`);
    if (got < HEADER_BYTES) {
      throw new SnapshotError(path, `truncated: expected at least ${HEADER_BYTES} bytes (the header), found ${got}`);
    }
    const expected = Number(new DataView(head.buffer).getBigUint64(64, true));
    if (size < expected) throw new SnapshotError(path, `truncated: expected ${expected} bytes, found ${size}`);
    if (size > expected) {
      throw new SnapshotError(path, `corrupted: expected ${expected} bytes, found ${size} (trailing bytes)`);
    }
    buffer = new ArrayBuffer(size);
    const all = new Uint8Array(buffer);
    const read = readAll(fd, all, 0, size, 0);
    if (read !== size) throw new SnapshotError(path, `truncated: expected ${size} bytes, read ${read}`);
  } finally {
    fs.closeSync(fd);
  }
  return decodeSnapshot(path, buffer);
}

function decodeSnapshot(file: string, buffer: ArrayBuffer): Dataset {
  const size = buffer.byteLength;
  const view = new DataView(buffer);
  const all = new Uint8Array(buffer);
  const flags = view.getUint32(12, true);
  const nUsers = view.getUint32(16, true);
  const nMovies = view.getUint32(20, true);
  const nRatings = Number(view.getBigUint64(24, true));
  const scale: RatingScale = Object.freeze({
    min: view.getFloat64(32, true),
    max: view.getFloat64(40, true),
    step: view.getFloat64(48, true),
  });
  const nSections = view.getUint32(56, true);
  const storedCrc = view.getUint32(CHECKSUM_OFFSET, true);

  const tableEnd = HEADER_BYTES + nSections * TABLE_ENTRY_BYTES;
  if (tableEnd > size) {
    throw new SnapshotError(file, `truncated: the section table of ${nSections} sections needs ${tableEnd} bytes, found ${size}`);
  }
  const entries = new Map<number, SectionEntry>();
  for (let i = 0; i < nSections; i++) {
    const at = HEADER_BYTES + i * TABLE_ENTRY_BYTES;
    const id = view.getUint32(at, true);
    const offset = Number(view.getBigUint64(at + 8, true));
    const length = Number(view.getBigUint64(at + 16, true));
    const name = SECTION_NAMES[id] ?? `section ${id}`;
    if (offset + length > size) {
      throw new SnapshotError(file, `truncated: ${name} ends at byte ${offset + length}, the file has ${size}`);
    }
    if (offset % 8 !== 0 || offset < tableEnd) {
      throw new SnapshotError(file, `corrupted: ${name} starts at byte ${offset} (not 8-aligned or inside the header)`);
    }
    entries.set(id, { offset, length });
  }

  let crc = crc32(all.subarray(0, CHECKSUM_OFFSET));
  crc = crc32(all.subarray(CHECKSUM_OFFSET + 4), crc);
  if (crc >>> 0 !== storedCrc) {
    throw new SnapshotError(
      file,
      `corrupted: checksum mismatch (stored ${hex(storedCrc)}, computed ${hex(crc >>> 0)})`,
    );
  }

  const hasDays = (flags & FLAG_HAS_DAYS) !== 0;
  const section = <T>(
    id: Section,
    count: number,
    make: (buffer: ArrayBuffer, offset: number, length: number) => T,
    bytesPerElement: number,
  ): T => {
    const e = entries.get(id);
    const name = SECTION_NAMES[id];
    if (e === undefined) throw new SnapshotError(file, `inconsistent counts: the ${name} section is missing`);
    if (e.length !== count * bytesPerElement) {
      throw new SnapshotError(
        file,
        `inconsistent counts: ${name} holds ${e.length} bytes, the header's counts need ${count * bytesPerElement}`,
      );
    }
    return make(buffer, e.offset, count);
  };
  const userIds = section(Section.UserIds, nUsers, (b, o, n) => new Int32Array(b, o, n), 4);
  const movieIds = section(Section.MovieIds, nMovies, (b, o, n) => new Int32Array(b, o, n), 4);
  const userPtr = section(Section.UserPtr, nUsers + 1, (b, o, n) => new Uint32Array(b, o, n), 4);
  const userMovies = section(Section.UserMovies, nRatings, (b, o, n) => new Int32Array(b, o, n), 4);
  const userRatings = section(Section.UserRatings, nRatings, (b, o, n) => new Uint8Array(b, o, n), 1);
  const userDays = hasDays ? section(Section.UserDays, nRatings, (b, o, n) => new Uint16Array(b, o, n), 2) : null;
  const moviePtr = section(Section.MoviePtr, nMovies + 1, (b, o, n) => new Uint32Array(b, o, n), 4);
  const movieUsers = section(Section.MovieUsers, nRatings, (b, o, n) => new Int32Array(b, o, n), 4);
  const movieRatings = section(Section.MovieRatings, nRatings, (b, o, n) => new Uint8Array(b, o, n), 1);
  const catalogEntry = entries.get(Section.Catalog);
  if (catalogEntry === undefined) throw new SnapshotError(file, 'inconsistent counts: the catalog section is missing');

  checkPointers(file, 'userPtr', userPtr, nRatings);
  checkPointers(file, 'moviePtr', moviePtr, nRatings);

  let users: IdIndex;
  let movies: IdIndex;
  try {
    users = IdIndex.fromSorted(userIds);
    movies = IdIndex.fromSorted(movieIds);
  } catch (e) {
    throw new SnapshotError(file, `inconsistent ids: ${(e as Error).message}`);
  }
  let matrix: RatingMatrix;
  try {
    matrix = new RatingMatrix(users, movies, scale, userPtr, userMovies, userRatings, userDays, moviePtr, movieUsers, movieRatings);
  } catch (e) {
    throw new SnapshotError(file, `inconsistent counts: ${(e as Error).message}`);
  }
  const catalog = decodeCatalog(file, new Uint8Array(buffer, catalogEntry.offset, catalogEntry.length));
  return { matrix, catalog };
}

/** A CSR/CSC pointer array must start at 0, never decrease, and end at the rating count. */
function checkPointers(file: string, name: string, ptr: Uint32Array, nRatings: number): void {
  const last = ptr.length - 1;
  if (ptr[0] !== 0 || ptr[last] !== nRatings) {
    throw new SnapshotError(
      file,
      `inconsistent counts: ${name} runs from ${ptr[0]} to ${ptr[last]}, expected 0 to ${nRatings} ratings`,
    );
  }
  for (let i = 1; i <= last; i++) {
    if (ptr[i] < ptr[i - 1]) throw new SnapshotError(file, `inconsistent counts: ${name} decreases at index ${i}`);
  }
}

/**
 * CRC-32 of `bytes` continuing from `crc`. Empty input is skipped: Node's `zlib.crc32` returns 0
 * (not `crc`) for an empty view over a zero-length ArrayBuffer, since zlib's crc32 treats a null
 * data pointer as "start over".
 */
function crc32(bytes: Uint8Array, crc = 0): number {
  return bytes.byteLength === 0 ? crc : zlib.crc32(bytes, crc);
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
