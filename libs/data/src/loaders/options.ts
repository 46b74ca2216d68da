import { ProgressCallback } from '../dataset';

/** The rating data layouts the loaders read. */
export type DataFormat = 'netflix-kaggle' | 'netflix-prize' | 'movielens-100k' | 'movielens-dat' | 'movielens-csv' | 'snapshot';

export const DATA_FORMATS: readonly DataFormat[] = Object.freeze([
  'netflix-kaggle',
  'netflix-prize',
  'movielens-100k',
  'movielens-dat',
  'movielens-csv',
  'snapshot',
] as const);

export interface LoadOptions {
  /** Forces a format; otherwise `detectFormat(path)`. */
  format?: DataFormat;
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
  /** Where warnings go (a cache file ignored or not written); default `process.emitWarning`. */
  onWarning?: (message: string) => void;
  /** (bytesDone, bytesTotal) over all files of the load, called after every chunk read. */
  onProgress?: ProgressCallback;
}
