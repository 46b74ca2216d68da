import { SectionArray, sectionType } from './container';

/**
 * The rating scale of a data set. Ratings are stored as `Uint8` holding rating × 2,
 * so both whole stars (Netflix, MovieLens 100k/1M) and half stars (MovieLens 10M and later) fit.
 */
export interface RatingScale {
  readonly min: number;
  readonly max: number;
  /** 1 for whole stars, 0.5 for half stars. */
  readonly step: number;
  /**
   * True for implicit feedback (views, clicks, plays): the values are interaction weights (a
   * count or strength, summed over repeated pairs), not ratings. Absent (never false) on the
   * rating scales, so that they stay as they were.
   */
  readonly implicit?: boolean;
}

/**
 * The ratings of a matrix as plain typed arrays, the one shape in which they travel between
 * threads (as views over SharedArrayBuffers, see {@link shareMatrixArrays}) and into files (see
 * {@link matrixArraysToSections}). A `RatingMatrix` of `@recsys/data` is one (without the ids, which it
 * keeps in its id indices; `matrixArraysOf` there gives all of them).
 *
 * - by user (CSR): the ratings of user u are positions `userPtr[u] .. userPtr[u+1]-1` of
 *   `userMovies` (movie indices, ascending) and `userRatings` (rating × 2);
 * - by movie (CSC): the ratings of movie m are positions `moviePtr[m] .. moviePtr[m+1]-1` of
 *   `movieUsers` (user indices, ascending) and `movieRatings` (rating × 2);
 * - `userIds` / `movieIds` (external id of each index, ascending) and `scale`, where the receiver
 *   turns indices back into ids or rebuilds a RatingMatrix (kernels read only the indices).
 */
export interface MatrixArrays {
  readonly nUsers: number;
  readonly nMovies: number;
  /** nUsers + 1 offsets. */
  readonly userPtr: Uint32Array;
  readonly userMovies: Int32Array;
  readonly userRatings: Uint8Array;
  /** nMovies + 1 offsets. */
  readonly moviePtr: Uint32Array;
  readonly movieUsers: Int32Array;
  readonly movieRatings: Uint8Array;
  readonly userIds?: Int32Array;
  readonly movieIds?: Int32Array;
  readonly scale?: RatingScale;
}

/**
 * `a` itself when it spans a whole SharedArrayBuffer, else a copy of it in a new one of its exact
 * size. A typed array over a SharedArrayBuffer is shared, not copied, when posted to a worker.
 */
export function shareArray<T extends SectionArray>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
  const buffer = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return new (a.constructor as new (buffer: SharedArrayBuffer) => T)(buffer);
}

/** `a` itself when it lives in an ordinary ArrayBuffer, else a copy of it in a new one. */
export function unshareArray<T extends SectionArray>(a: T): T {
  if (!(a.buffer instanceof SharedArrayBuffer)) return a;
  return (a as SectionArray).slice() as T;
}

/**
 * The arrays (and ids when present) in SharedArrayBuffers, copied once unless they already are
 * (see {@link shareArray}), as a plain object to post to worker threads: every thread then reads
 * the same memory.
 */
export function shareMatrixArrays(a: MatrixArrays): MatrixArrays {
  return mapArrays(a, shareArray);
}

/** The way back: the arrays out of shared memory into ordinary ArrayBuffers (those already there are kept). */
export function unshareMatrixArrays(a: MatrixArrays): MatrixArrays {
  return mapArrays(a, unshareArray);
}

function mapArrays(a: MatrixArrays, f: <T extends SectionArray>(x: T) => T): MatrixArrays {
  return {
    nUsers: a.nUsers,
    nMovies: a.nMovies,
    userPtr: f(a.userPtr),
    userMovies: f(a.userMovies),
    userRatings: f(a.userRatings),
    moviePtr: f(a.moviePtr),
    movieUsers: f(a.movieUsers),
    movieRatings: f(a.movieRatings),
    ...(a.userIds ? { userIds: f(a.userIds) } : {}),
    ...(a.movieIds ? { movieIds: f(a.movieIds) } : {}),
    ...(a.scale ? { scale: Object.freeze({ min: a.scale.min, max: a.scale.max, step: a.scale.step, ...(a.scale.implicit ? { implicit: true } : {}) }) } : {}),
  };
}

/** The section names (after the prefix) of {@link matrixArraysToSections}, in their order. */
const MATRIX_SECTIONS = ['userIds', 'movieIds', 'userPtr', 'userMovies', 'userRatings', 'moviePtr', 'movieUsers', 'movieRatings'] as const;

/**
 * The arrays as container sections named `prefix` + field name: `userIds` and `movieIds` (which
 * must be present), then both sparse layouts. {@link matrixArraysFromSections} reads them back.
 */
export function matrixArraysToSections(a: MatrixArrays, prefix = ''): Record<string, SectionArray> {
  if (!a.userIds || !a.movieIds) throw new RangeError('matrixArraysToSections: the arrays carry no user and movie ids');
  const out: Record<string, SectionArray> = {};
  for (const name of MATRIX_SECTIONS) out[prefix + name] = a[name]!;
  return out;
}

/**
 * The arrays written by {@link matrixArraysToSections} (views, no copy), with the ids; the scale is not a
 * section. Checks that each section is present and has its type; `fail` makes the error thrown
 * (`section "…" is missing`, `section "…" has type u8, expected Int32Array`). Lengths are left to
 * the caller (a RatingMatrix checks them).
 */
export function matrixArraysFromSections(
  sections: Readonly<Record<string, SectionArray>>,
  prefix: string,
  fail: (reason: string) => Error,
): MatrixArrays {
  const get = <T extends SectionArray>(name: (typeof MATRIX_SECTIONS)[number], ctor: abstract new (...args: never[]) => T): T => {
    const a = sections[prefix + name];
    if (a === undefined) throw fail(`section "${prefix}${name}" is missing`);
    if (!(a instanceof ctor)) throw fail(`section "${prefix}${name}" has type ${sectionType(a)}, expected ${ctor.name}`);
    return a;
  };
  const userIds = get('userIds', Int32Array);
  const movieIds = get('movieIds', Int32Array);
  const userPtr = get('userPtr', Uint32Array);
  const userMovies = get('userMovies', Int32Array);
  const userRatings = get('userRatings', Uint8Array);
  const moviePtr = get('moviePtr', Uint32Array);
  const movieUsers = get('movieUsers', Int32Array);
  const movieRatings = get('movieRatings', Uint8Array);
  return {
    nUsers: Math.max(0, userPtr.length - 1),
    nMovies: Math.max(0, moviePtr.length - 1),
    userPtr,
    userMovies,
    userRatings,
    moviePtr,
    movieUsers,
    movieRatings,
    userIds,
    movieIds,
  };
}
