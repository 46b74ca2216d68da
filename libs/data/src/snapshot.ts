import { Container, ContainerFormat, isContainerFile, matrixArraysToSections, readContainer, SectionArray, sectionType, writeContainer } from '@recsys/core';
import { Movie, MovieCatalog } from './catalog';
import { Dataset } from './dataset';
import { SnapshotError } from './errors';
import { IdIndex } from './id-index';
import { matrixArraysOf, RatingMatrix } from './rating-matrix';
import { RatingScale } from './rating-scale';

/** The 8 ASCII bytes every snapshot starts with. */
export const SNAPSHOT_MAGIC = 'RECSYSNP';
/** Format version this build writes and reads (version 1 files are refused as older). */
export const SNAPSHOT_VERSION = 2;

/*
 * Snapshot file, format version 2: the binary container of @recsys/core (magic "RECSYSNP", a
 * CRC-32 over the whole file, 8-byte aligned sections that the arrays are views over) with
 *
 *   JSON header { users, movies, ratings, days: whether the matrix has days, scale: {min, max, step
 *               [, implicit: true for implicit feedback; absent in rating data and older files]} }
 *   sections    the matrix arrays (`matrixArraysToSections`): userIds (i32), movieIds (i32),
 *               userPtr (u32), userMovies (i32), userRatings (u8), moviePtr (u32), movieUsers (i32),
 *               movieRatings (u8); then userDays (u16, only with days) and catalog (u8: UTF-8
 *               JSON, see `encodeCatalog`).
 *
 * Version 1 had a fixed 128-byte header and a binary section table; such files are refused as
 * written by an older format version: import the source data again.
 */
const SNAPSHOT_FORMAT: ContainerFormat = {
  magic: SNAPSHOT_MAGIC,
  version: SNAPSHOT_VERSION,
  name: 'recsys snapshot',
  error: (file, reason) => new SnapshotError(file, reason),
  reasons: {
    older: (version) => `written by an older format version ${version}, this build reads version ${SNAPSHOT_VERSION}: import the source data again`,
  },
};

/** Section name → how messages call it. */
const SECTION_NAMES: Record<string, string> = {
  userIds: 'user ids',
  movieIds: 'movie ids',
  userPtr: 'userPtr',
  userMovies: 'userMovies',
  userRatings: 'userRatings',
  userDays: 'userDays',
  moviePtr: 'moviePtr',
  movieUsers: 'movieUsers',
  movieRatings: 'movieRatings',
  catalog: 'catalog',
};

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
 * `meta` (any JSON value) goes into the header, for `readSnapshotWithMeta` (the import cache
 * keeps its key and report there).
 */
export function writeSnapshot(path: string, dataset: Dataset, meta?: unknown): void {
  const m = dataset.matrix;
  const sections: Record<string, SectionArray> = matrixArraysToSections(matrixArraysOf(m));
  if (m.userDays !== null) sections.userDays = m.userDays;
  sections.catalog = encodeCatalog(dataset.catalog);
  const header = {
    users: m.nUsers,
    movies: m.nMovies,
    ratings: m.nRatings,
    days: m.userDays !== null,
    scale: { min: m.scale.min, max: m.scale.max, step: m.scale.step, ...(m.scale.implicit ? { implicit: true } : {}) },
    ...(meta === undefined ? {} : { meta }),
  };
  writeContainer(SNAPSHOT_FORMAT, path, { header, sections });
}

/** Whether the file exists and starts with the snapshot magic (reads 8 bytes; never throws). */
export function isSnapshotFile(path: string): boolean {
  return isContainerFile(SNAPSHOT_FORMAT, path);
}

/**
 * Read a snapshot written by `writeSnapshot`. The whole file goes into one preallocated
 * SharedArrayBuffer (chunked reads, so files beyond 2 GiB work) and every array of the matrix is
 * a typed-array view over it: no copy and no per-rating work besides the CRC-32; worker threads
 * read the arrays in place.
 *
 * Refused with a SnapshotError naming the file: an empty file or a wrong magic ("not a recsys
 * snapshot"), a newer or older format version, a truncated file (expected vs actual bytes), a
 * checksum mismatch ("corrupted: checksum mismatch"), a malformed header, then sections that do
 * not match the header's counts and pointer arrays that are not monotone from 0 to the rating
 * count ("inconsistent counts: …"). Movie/user indices inside the rows are not re-validated: the
 * checksum already vouches for them.
 */
export function readSnapshot(path: string, options: ReadSnapshotOptions = {}): Dataset {
  return decodeSnapshot(path, readContainer(SNAPSHOT_FORMAT, path, { separate: options.separateArrays === true }));
}

/** Options of {@link readSnapshot}. */
export interface ReadSnapshotOptions {
  /**
   * Default false (one shared buffer, as above). True: each array in an ArrayBuffer of its own,
   * not shared, so that a reader that needs only some of them can release the others
   * (`releaseArrays`); worker threads that read the matrix then get copies.
   */
  separateArrays?: boolean;
}

/** A snapshot (as `readSnapshot`) with the `meta` given to `writeSnapshot` (undefined when none). */
export function readSnapshotWithMeta(path: string, options: ReadSnapshotOptions = {}): { dataset: Dataset; meta: unknown } {
  const container = readContainer(SNAPSHOT_FORMAT, path, { separate: options.separateArrays === true });
  return { dataset: decodeSnapshot(path, container), meta: (container.header as { meta?: unknown }).meta };
}

function decodeSnapshot(file: string, container: Container): Dataset {
  const h = container.header as { users?: unknown; movies?: unknown; ratings?: unknown; days?: unknown; scale?: Partial<Record<keyof RatingScale, unknown>> };
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  const sc = h.scale;
  if (!count(h.users) || !count(h.movies) || !count(h.ratings) || typeof h.days !== 'boolean' || !sc || typeof sc.min !== 'number' || typeof sc.max !== 'number' || typeof sc.step !== 'number') {
    throw new SnapshotError(file, `corrupted: the header lacks the counts, days or scale (${JSON.stringify(h)})`);
  }
  const nUsers = h.users;
  const nMovies = h.movies;
  const nRatings = h.ratings;
  if (sc.implicit !== undefined && typeof sc.implicit !== 'boolean') throw new SnapshotError(file, `corrupted: the header's scale.implicit is not a boolean (${JSON.stringify(sc.implicit)})`);
  const scale: RatingScale = Object.freeze({ min: sc.min, max: sc.max, step: sc.step, ...(sc.implicit ? { implicit: true } : {}) });

  const section = <T extends SectionArray>(id: string, length: number, ctor: { new (n: number): T; readonly BYTES_PER_ELEMENT: number }): T => {
    const a = container.sections[id];
    const name = SECTION_NAMES[id];
    if (a === undefined) throw new SnapshotError(file, `inconsistent counts: the ${name} section is missing`);
    if (!(a instanceof ctor)) throw new SnapshotError(file, `inconsistent counts: ${name} has type ${sectionType(a)}, expected ${ctor.name}`);
    if (a.length !== length) {
      throw new SnapshotError(file, `inconsistent counts: ${name} holds ${a.byteLength} bytes, the header's counts need ${length * ctor.BYTES_PER_ELEMENT}`);
    }
    return a;
  };
  const userIds = section('userIds', nUsers, Int32Array);
  const movieIds = section('movieIds', nMovies, Int32Array);
  const userPtr = section('userPtr', nUsers + 1, Uint32Array);
  const userMovies = section('userMovies', nRatings, Int32Array);
  const userRatings = section('userRatings', nRatings, Uint8Array);
  const userDays = h.days ? section('userDays', nRatings, Uint16Array) : null;
  const moviePtr = section('moviePtr', nMovies + 1, Uint32Array);
  const movieUsers = section('movieUsers', nRatings, Int32Array);
  const movieRatings = section('movieRatings', nRatings, Uint8Array);
  const catalogBytes = container.sections.catalog;
  if (!(catalogBytes instanceof Uint8Array)) throw new SnapshotError(file, 'inconsistent counts: the catalog section is missing');

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
  return { matrix, catalog: decodeCatalog(file, catalogBytes) };
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
