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
  /** (bytesDone, bytesTotal) over all files of the load, called after every chunk read. */
  onProgress?: ProgressCallback;
}
