import { ProgressCallback } from '../dataset';
import { RatingScale } from '../rating-scale';

/**
 * The rating data layouts the loaders read. `interactions` is implicit feedback
 * (`user,item[,weight][,timestamp]`, see `delimited.ts`); `ratings-csv` is any delimited rating
 * file with a header naming its columns or a `columns` mapping.
 */
export type DataFormat =
  | 'netflix-kaggle'
  | 'netflix-prize'
  | 'movielens-100k'
  | 'movielens-dat'
  | 'movielens-csv'
  | 'ratings-csv'
  | 'interactions'
  | 'snapshot';

/** What a column of a delimited file holds (`--columns`); `skip` columns are ignored. */
export type ColumnRole = 'user' | 'movie' | 'rating' | 'weight' | 'timestamp' | 'skip';

export const DATA_FORMATS: readonly DataFormat[] = Object.freeze([
  'netflix-kaggle',
  'netflix-prize',
  'movielens-100k',
  'movielens-dat',
  'movielens-csv',
  'ratings-csv',
  'interactions',
  'snapshot',
] as const);

export interface LoadOptions {
  /**
   * Forces a format; otherwise `detectFormat(path)`, or with `columns` `interactions` (no rating
   * column, or a `weight` one) or `ratings-csv` (a `rating` column).
   */
  format?: DataFormat;
  /**
   * What each column of a delimited file holds, in order (see `parseColumns`), for a file without
   * a header or with other column names (the `ratings-csv` and `interactions` formats only).
   */
  columns?: readonly ColumnRole[];
  /** The rating scale of a text rating format instead of the format's own (see `parseRatingScale`); not for interactions or snapshots. */
  scale?: RatingScale;
  /**
   * Default false: the first malformed row throws `DataFormatError(file, line, reason)`. When true,
   * malformed rows are skipped, counted in `report.skipped` and the first 10 kept as examples.
   * A file with no usable row is an error either way.
   */
  skipInvalid?: boolean;
  /**
   * Threads to parse on (default `os.availableParallelism()`); files are cut into that many
   * ranges, at most one per 8 MiB. Netflix Prize files are cut at `MovieID:` lines.
   */
  threads?: number;
  /**
   * A folder for the import cache: a text import is kept there as a snapshot keyed by its files'
   * paths, sizes and mtimes (see `ImportCache`), and a later import of unchanged files reads
   * that snapshot instead of parsing. The report's `cache` says whether it was used.
   */
  cacheDir?: string;
  /**
   * A snapshot's arrays each in a buffer of its own instead of one shared buffer (see
   * `readSnapshot`'s `separateArrays`): for a reader that releases those it does not need
   * (`releaseArrays`). Default false.
   */
  separateArrays?: boolean;
  /** Where warnings go (a cache file ignored or not written); default `process.emitWarning`. */
  onWarning?: (message: string) => void;
  /** (bytesDone, bytesTotal) over all files of the load, called after every chunk read. */
  onProgress?: ProgressCallback;
}
