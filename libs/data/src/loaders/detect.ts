import { basename } from 'node:path';
import { DataFormatError } from '../errors';
import { isSnapshotFile } from '../snapshot';
import { headerStyle } from './header';
import { delimitedStyle } from './delimited';
import { KAGGLE_RATINGS_FILE } from './netflix-kaggle';
import { COMBINED_FILE, MOVIE_FILE, prizeTrainingFiles } from './netflix-prize';
import { DATA_FORMATS, DataFormat } from './options';
import { findEntry, isDirectory } from './plan';
import { readFirstLine } from './text';

/** MovieLens 100k rating files: `u.data` and the folds `u1.base` … `u5.test`, `ua.base` … `ub.test`. */
const ML100K_FILE = /^(u\.data|u[1-5ab]\.(base|test))$/i;

function unrecognised(path: string, what: string): DataFormatError {
  return new DataFormatError(path, 0, `cannot tell the format of ${what}; use --format one of ${DATA_FORMATS.join(', ')} (a delimited file without a header: --columns, e.g. user,movie,rating)`);
}

/**
 * The format of a folder or file.
 *
 * A folder by the files inside it, in this order: `Netflix_Dataset_Rating.csv` → netflix-kaggle;
 * `combined_data_*.txt`, `training_set/mv_*.txt` or `mv_*.txt` → netflix-prize; `u.data` →
 * movielens-100k; `ratings.dat` → movielens-dat; `ratings.csv` → movielens-csv.
 *
 * A file: first 8 bytes `RECSYSNP` → snapshot; then by name: `u.data`, `u1.base` … `ub.test` →
 * movielens-100k; `combined_data_*.txt`, `mv_*.txt` → netflix-prize; `*.dat` → movielens-dat;
 * `ratings.csv` → movielens-csv; `Netflix_Dataset_Rating.csv` → netflix-kaggle; then by the first
 * line: a CSV header naming user, movie and rating columns (`User_ID`/`Movie_ID` → netflix-kaggle,
 * `userId`/`movieId` → movielens-csv), a header with any separator naming user and item columns
 * (`user_id,item_id,timestamp`: interactions without a rating column, ratings-csv with one; see
 * `delimitedStyle`), `123:` → netflix-prize, four tab-separated numbers → movielens-100k,
 * `1::2::…` → movielens-dat.
 *
 * Anything else is a DataFormatError(path, 0, 'cannot tell the format …; use --format one of …').
 */
export function detectFormat(path: string): DataFormat {
  if (isDirectory(path)) {
    if (findEntry(path, KAGGLE_RATINGS_FILE)) return 'netflix-kaggle';
    if (prizeTrainingFiles(path).length > 0) return 'netflix-prize';
    if (findEntry(path, 'u.data')) return 'movielens-100k';
    if (findEntry(path, 'ratings.dat')) return 'movielens-dat';
    if (findEntry(path, 'ratings.csv')) return 'movielens-csv';
    throw unrecognised(
      path,
      `a folder without ${KAGGLE_RATINGS_FILE}, combined_data_*.txt, training_set/, u.data, ratings.dat or ratings.csv`,
    );
  }

  if (isSnapshotFile(path)) return 'snapshot';
  const name = basename(path).toLowerCase();
  if (ML100K_FILE.test(name)) return 'movielens-100k';
  if (COMBINED_FILE.test(name) || MOVIE_FILE.test(name)) return 'netflix-prize';
  if (name.endsWith('.dat')) return 'movielens-dat';
  if (name === 'ratings.csv') return 'movielens-csv';
  if (name === KAGGLE_RATINGS_FILE.toLowerCase()) return 'netflix-kaggle';

  const first = readFirstLine(path);
  if (first === null) throw unrecognised(path, 'an empty file');
  const style = headerStyle(first);
  if (style !== null) return style;
  const delimited = delimitedStyle(first);
  if (delimited !== null) return delimited;
  if (/^\d+:$/.test(first)) return 'netflix-prize';
  if (/^\d+\t\d+\t\d+(\.\d+)?\t\d+$/.test(first)) return 'movielens-100k';
  if (/^\d+::\d+::/.test(first)) return 'movielens-dat';
  throw unrecognised(path, 'this file (by its name or first line)');
}
