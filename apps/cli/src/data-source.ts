import { Command, Option } from 'commander';
import { DATA_FORMATS, DataFormat, defaultCacheDir, loadDataset, loadDefaultDataset, LoadedDataset } from '@recsys/data';
import { Progress } from './progress';

export interface DataSourceOptions {
  data?: string;
  format?: DataFormat;
  skipInvalid?: boolean;
  /** false with --no-cache: parse the text even when the import cache holds it, and write no cache. */
  cache?: boolean;
}

/** Adds the options every data-reading command shares: --data, --format, --skip-invalid, --no-cache. */
export function withDataOptions(cmd: Command): Command {
  return cmd
    .option('--data <path>', 'a snapshot, a ratings file or a data folder (default: the embedded synthetic data)', process.env.RECSYS_DATA)
    .addOption(new Option('--format <format>', 'force the data format instead of detecting it from the path').choices([...DATA_FORMATS]))
    .option('--skip-invalid', 'skip malformed rows (reporting their count and first examples) instead of stopping', false)
    .option('--no-cache', 'parse text data even when the import cache (RECSYS_CACHE_DIR) holds it, and do not cache it');
}

/** Read the data the options name, with a progress bar on stderr. */
export async function openDataset(options: DataSourceOptions): Promise<LoadedDataset> {
  const progress = new Progress(options.data ? `reading ${options.data}` : 'default data');
  try {
    if (!options.data) return await loadDefaultDataset({ onProgress: progress.update });
    const cacheDir = options.cache === false ? undefined : defaultCacheDir();
    return await loadDataset(options.data, { format: options.format, skipInvalid: options.skipInvalid, cacheDir, onProgress: progress.update });
  } finally {
    progress.stop();
  }
}
