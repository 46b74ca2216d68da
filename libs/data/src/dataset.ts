import { MovieCatalog } from './catalog';
import { RatingMatrix } from './rating-matrix';

/** A data set as held in memory: the ratings and the movie catalog. */
export interface Dataset {
  readonly matrix: RatingMatrix;
  readonly catalog: MovieCatalog;
}

/** One skipped or rejected input row. */
export interface ImportIssue {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  readonly reason: string;
}

/** What an import's report says about the snapshot cache (`LoadOptions.cacheDir`). */
export interface ImportCacheReport {
  /** The cache file of this import's key. */
  path: string;
  /** The data came from the cache file instead of the text files. */
  used: boolean;
  /** The cache file was (re)written by this import. */
  written: boolean;
  /** Why an existing cache file was not used (corrupt, stale), or why writing it failed. */
  warning?: string;
}

/** What an import read, kept and skipped. */
export interface ImportReport {
  /** Format that was read (see `DataFormat`). */
  format: string;
  files: string[];
  bytes: number;
  /** Ratings kept (after duplicates were resolved). */
  ratings: number;
  users: number;
  movies: number;
  /** Malformed rows skipped under `skipInvalid`. */
  skipped: number;
  /** First few skipped rows (at most 10). */
  skippedExamples: ImportIssue[];
  /** Ratings replaced by a later rating of the same (user, movie). */
  duplicates: number;
  duplicateExamples: Array<{ user: number; movie: number }>;
  /** Rated movies that the titles file does not list (titled `Movie <id>`). */
  untitledMovies: number;
  seconds: number;
  /**
   * Implicit feedback only: weights (a row's, or the sum of a repeated pair's) above 127.5 that
   * were stored as 127.5.
   */
  capped?: number;
  /** With `LoadOptions.cacheDir`: whether the snapshot cache was used or written. */
  cache?: ImportCacheReport;
}

export interface LoadedDataset extends Dataset {
  readonly report: ImportReport;
}

/** Progress of a long read: bytes done of bytes total. */
export type ProgressCallback = (done: number, total: number) => void;

/**
 * (user, movie) pairs without ratings, as external ids: the Netflix Prize `probe.txt` and
 * `qualifying.txt` (which also has dates).
 */
export interface RatingPairs {
  readonly length: number;
  readonly users: Int32Array;
  readonly movies: Int32Array;
  /** days since 1970-01-01, or null */
  readonly days: Uint16Array | null;
}

/**
 * The report of a data set that was not parsed from text (a snapshot, generated data): counts from
 * the matrix, nothing skipped or duplicated.
 */
export function builtDatasetReport(
  dataset: { readonly matrix: { nRatings: number; nUsers: number; nMovies: number } },
  format: string,
  details: { files?: string[]; bytes?: number; untitledMovies?: number; seconds?: number } = {},
): ImportReport {
  const { matrix } = dataset;
  return {
    format,
    files: details.files ?? [],
    bytes: details.bytes ?? 0,
    ratings: matrix.nRatings,
    users: matrix.nUsers,
    movies: matrix.nMovies,
    skipped: 0,
    skippedExamples: [],
    duplicates: 0,
    duplicateExamples: [],
    untitledMovies: details.untitledMovies ?? 0,
    seconds: details.seconds ?? 0,
  };
}
