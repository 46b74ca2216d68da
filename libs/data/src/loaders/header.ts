import { DataFormatError } from '../errors';
import { RatingScale } from '../rating-scale';
import { RowLayout } from './rating-rows';
import { printable } from './byte-reader';
import { readFirstLine } from './text';

/** Header names (lower case, `_` removed) of each column role in rating CSVs. */
const COLUMN_NAMES = {
  user: ['userid', 'user', 'customerid'],
  movie: ['movieid', 'movie', 'itemid', 'item'],
  rating: ['rating'],
  timestamp: ['timestamp'],
  date: ['date'],
} as const;

type ColumnRole = keyof typeof COLUMN_NAMES;

/** A header name as compared: quotes and spaces around it dropped, lower case, no `_` (`User_ID` → `userid`). */
export function normaliseColumnName(name: string): string {
  return name.trim().replace(/^"(.*)"$/, '$1').toLowerCase().replace(/_/g, '');
}

/** Index of the first column (normalised names) holding `role`, or -1. */
function columnOf(names: readonly string[], role: ColumnRole): number {
  const accepted: readonly string[] = COLUMN_NAMES[role];
  return names.findIndex((n) => accepted.includes(n));
}

/**
 * Layout of a comma-separated rating file whose first line names its columns, matched case- and
 * underscore-insensitively: `User_ID,Rating,Movie_ID` and `User_ID,Movie_ID,Rating` (Kaggle),
 * `userId,movieId,rating,timestamp` (MovieLens). A header without user, movie and rating columns
 * is an error at line 1.
 *
 * @param display how the expected names are spelt in the error message
 */
export function headerLayout(file: string, scale: RatingScale, display: string): RowLayout {
  const header = readFirstLine(file);
  if (header === null) throw new DataFormatError(file, 0, 'no ratings: the file is empty');
  if (header.trim() === '') throw new DataFormatError(file, 1, `missing header line naming the columns ${display}`);
  const names = header.split(',').map(normaliseColumnName);
  const user = columnOf(names, 'user');
  const movie = columnOf(names, 'movie');
  const rating = columnOf(names, 'rating');
  if (user < 0 || movie < 0 || rating < 0) {
    const text = printable(header.length > 80 ? `${header.slice(0, 80)}…` : header);
    throw new DataFormatError(file, 1, `header "${text}" does not name the columns ${display}`);
  }
  const timestamp = columnOf(names, 'timestamp');
  return {
    delimiter: 44,
    doubleDelimiter: false,
    fields: names.length,
    user,
    movie,
    rating,
    timestamp,
    date: timestamp < 0 ? columnOf(names, 'date') : -1,
    headerLines: 1,
    scale,
    noun: 'ratings',
  };
}

/**
 * Whether a first line is a rating CSV header (names user, movie and rating columns), and whose
 * spelling it uses: `User_ID`/`Movie_ID` → netflix-kaggle, otherwise (`userId`…) movielens-csv.
 */
export function headerStyle(firstLine: string): 'netflix-kaggle' | 'movielens-csv' | null {
  const raw = firstLine.split(',');
  const names = raw.map(normaliseColumnName);
  if (columnOf(names, 'user') < 0 || columnOf(names, 'movie') < 0 || columnOf(names, 'rating') < 0) return null;
  return raw.some((n) => n.includes('_')) ? 'netflix-kaggle' : 'movielens-csv';
}
