import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ColumnRole,
  DATA_FORMATS,
  DataFormat,
  defaultCacheDir,
  loadDataset,
  loadDefaultDataset,
  LoadedDataset,
  LoadOptions,
  parseColumns,
  parseRatingScale,
  RatingScale,
} from '@recsys/data';
import { Progress } from './progress';

export interface DataSourceOptions {
  data?: string;
  format?: DataFormat;
  skipInvalid?: boolean;
  /** --columns: what each column of a delimited file holds. */
  columns?: ColumnRole[];
  /** --scale: the rating scale of rating data on another scale. */
  scale?: RatingScale;
  /** false with --no-cache: parse the text even when the import cache holds it, and write no cache. */
  cache?: boolean;
}

/** commander parser of a value by a data-lib parser whose RangeError becomes the option's error. */
function parsedBy<T>(flag: string, parse: (text: string) => T): (value: string) => T {
  return (value: string) => {
    try {
      return parse(value);
    } catch (e) {
      throw new InvalidArgumentError(`${flag}: ${(e as Error).message}`);
    }
  };
}

/**
 * Adds the options every data-reading command shares: --data, --format, --columns, --scale,
 * --skip-invalid, --no-cache. Commands whose own --format names what they write (export,
 * import-model) pass `formatFlag: '--data-format'`: the data's format is then `dataFormat`.
 */
export function withDataOptions(cmd: Command, options: { formatFlag?: '--format' | '--data-format' } = {}): Command {
  return cmd
    .option('--data <path>', 'a snapshot, a ratings or interactions file or a data folder (default: the embedded synthetic data)', process.env.RECSYS_DATA)
    .addOption(new Option(`${options.formatFlag ?? '--format'} <format>`, 'force the data format instead of detecting it from the path').choices([...DATA_FORMATS]))
    .option(
      '--columns <list>',
      'what each column of a delimited file holds, in order: user, movie (or item), rating or weight, timestamp, skip (or _), e.g. user,movie,rating; for files without a header or with other column names',
      parsedBy('--columns', parseColumns),
    )
    .option('--scale <MIN..MAX[:STEP]>', 'the rating scale of rating data on another scale, e.g. 1..10 or 0.5..5:0.5 (default step 1)', parsedBy('--scale', parseRatingScale))
    .option('--skip-invalid', 'skip malformed rows (reporting their count and first examples) instead of stopping', false)
    .option('--no-cache', 'parse text data even when the import cache (RECSYS_CACHE_DIR) holds it, and do not cache it');
}

/** The load options the data flags give (for every reader: a data set, a file-defined split). */
export function dataLoadOptions(options: DataSourceOptions): LoadOptions {
  return { format: options.format, skipInvalid: options.skipInvalid, columns: options.columns, scale: options.scale };
}

/**
 * Read the data the options name, with a progress bar on stderr. `load.separateArrays`: a
 * snapshot's arrays each in a buffer of its own (for a command that releases some, `train`).
 */
export async function openDataset(options: DataSourceOptions, load: Pick<LoadOptions, 'separateArrays'> = {}): Promise<LoadedDataset> {
  const progress = new Progress(options.data ? `reading ${options.data}` : 'default data');
  try {
    if (!options.data) return await loadDefaultDataset({ onProgress: progress.update });
    const cacheDir = options.cache === false ? undefined : defaultCacheDir();
    return await loadDataset(options.data, { ...dataLoadOptions(options), ...load, cacheDir, onProgress: progress.update });
  } finally {
    progress.stop();
  }
}
