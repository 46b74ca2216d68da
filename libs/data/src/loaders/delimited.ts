import { DataFormatError } from '../errors';
import { HALF_STARS_05_TO_5, INTERACTION_WEIGHTS, RatingScale } from '../rating-scale';
import { printable } from './byte-reader';
import { normaliseColumnName } from './header';
import { ColumnRole, DataFormat, LoadOptions } from './options';
import { FormatPlan, isDirectory, wholeOrHalfStars } from './plan';
import { RowLayout } from './rating-rows';
import { readFirstLines } from './text';

/*
 * Delimited files of any shape: implicit feedback (`interactions`: `user,item[,weight][,timestamp]`)
 * and rating files with other column names, orders or separators, or no header (`ratings-csv`).
 * The columns come from a header line (names matched case- and underscore-insensitively, see
 * HEADER_NAMES) or from a `--columns` mapping; the separator from the first line: `::`, tab,
 * `;`, `,` or else runs of spaces. The rows are read by the one row reader of every format
 * (rating-rows.ts), on two threads for large files, with its rules for bad rows.
 */

/** Header names (lower case, `_` removed) of each column role. */
const HEADER_NAMES: Record<Exclude<ColumnRole, 'skip'>, readonly string[]> = {
  user: ['user', 'userid', 'uid', 'customerid'],
  movie: ['item', 'itemid', 'movie', 'movieid'],
  rating: ['rating'],
  weight: ['weight', 'count', 'value', 'plays', 'clicks'],
  timestamp: ['timestamp', 'time', 'ts', 'date', 'datetime'],
};

/** Names accepted in a `--columns` list, by role. */
const COLUMN_WORDS: Record<string, ColumnRole> = {
  user: 'user',
  movie: 'movie',
  item: 'movie',
  rating: 'rating',
  weight: 'weight',
  timestamp: 'timestamp',
  skip: 'skip',
  _: 'skip',
};

/**
 * The roles of a `--columns` list such as `user,movie,rating,timestamp` (any order; `item` for
 * `movie`, `weight` for an interaction weight, `skip` or `_` for an ignored column). A RangeError
 * names an unknown or repeated name, or a list without user and movie.
 */
export function parseColumns(text: string): ColumnRole[] {
  const words = text.split(',').map((w) => w.trim().toLowerCase());
  const roles: ColumnRole[] = [];
  for (const word of words) {
    const role = COLUMN_WORDS[word];
    if (role === undefined) throw new RangeError(`columns "${text}": "${word}" is not one of user, movie, item, rating, weight, timestamp, skip, _`);
    if (role !== 'skip' && roles.includes(role)) throw new RangeError(`columns "${text}": "${word}" is named twice`);
    if ((role === 'rating' && roles.includes('weight')) || (role === 'weight' && roles.includes('rating'))) {
      throw new RangeError(`columns "${text}": name either a rating or a weight column, not both`);
    }
    roles.push(role);
  }
  if (!roles.includes('user') || !roles.includes('movie')) throw new RangeError(`columns "${text}": a user and a movie (item) column are needed`);
  return roles;
}

/** A field separator: one byte, that byte twice (`::`), or runs of spaces and tabs. */
export interface Separator {
  readonly delimiter: number;
  readonly double: boolean;
  readonly whitespace: boolean;
}

/**
 * The separator of a delimited file from its first line: `::` when it holds `::`, else a tab,
 * `;` or `,` (the first of these it holds), else runs of spaces; null for a line with none.
 */
export function detectSeparator(line: string): Separator | null {
  if (line.includes('::')) return { delimiter: 58, double: true, whitespace: false };
  if (line.includes('\t')) return { delimiter: 9, double: false, whitespace: false };
  if (line.includes(';')) return { delimiter: 59, double: false, whitespace: false };
  if (line.includes(',')) return { delimiter: 44, double: false, whitespace: false };
  if (line.trim().includes(' ')) return { delimiter: 32, double: false, whitespace: true };
  return null;
}

/** The fields of a line under a separator (text path: headers and first rows only). */
function splitLine(line: string, sep: Separator): string[] {
  if (sep.whitespace) return line.trim().split(/[ \t]+/);
  return line.split(sep.double ? '::' : String.fromCharCode(sep.delimiter));
}

/** The role of each header name (normalised); unknown names are `skip`. `rating` counts as the weight when `implicit`. */
function headerRoles(names: readonly string[], implicit: boolean): ColumnRole[] {
  const roles: ColumnRole[] = [];
  for (const name of names) {
    let role: ColumnRole = 'skip';
    for (const r of Object.keys(HEADER_NAMES) as Array<keyof typeof HEADER_NAMES>) {
      if (HEADER_NAMES[r].includes(name)) role = r;
    }
    if (role === 'rating' && implicit) role = 'weight';
    // The first column of a role wins; later ones are ignored.
    roles.push(role !== 'skip' && roles.includes(role) ? 'skip' : role);
  }
  return roles;
}

/**
 * The delimited format a first line is the header of: user and item columns without a rating
 * column → interactions; with a rating column → ratings-csv; else null.
 */
export function delimitedStyle(firstLine: string): 'interactions' | 'ratings-csv' | null {
  const sep = detectSeparator(firstLine);
  if (sep === null) return null;
  const roles = headerRoles(splitLine(firstLine, sep).map(normaliseColumnName), false);
  if (!roles.includes('user') || !roles.includes('movie')) return null;
  return roles.includes('rating') ? 'ratings-csv' : 'interactions';
}

/** A field is an id (digits only): a first line whose user field is not one is a header. */
const ID_FIELD = /^\s*"?\d+"?\s*$/;
/** A date field `YYYY-MM-DD…` (else a timestamp field is read as Unix seconds or milliseconds). */
const DATE_FIELD = /^\s*\d{4}-\d\d-\d\d/;

/**
 * The row layout of a delimited file: columns from `columns` (a first line whose user field is
 * not an id is then taken as a header and skipped) or from the header line. Interactions
 * (`implicit`) need no value column (each row weighs 1); rating files need a rating column.
 * The timestamp column holds Unix seconds or milliseconds (told apart by size: from 10^11 on,
 * milliseconds) or ISO dates (`YYYY-MM-DD`, optionally `THH:MM[:SS]…`), judged by the first row.
 */
export function delimitedLayout(file: string, implicit: boolean, scale: RatingScale, columns?: readonly ColumnRole[]): RowLayout {
  const [first, second] = readFirstLines(file, 2);
  if (first === undefined) throw new DataFormatError(file, 0, `no ${implicit ? 'interactions' : 'ratings'}: the file is empty`);
  const sep = detectSeparator(first);
  const shown = printable(first.length > 80 ? `${first.slice(0, 80)}…` : first);
  const wanted = implicit ? 'user and item columns' : 'user, item and rating columns';
  let roles: ColumnRole[];
  let headerLines: number;
  if (columns !== undefined) {
    roles = [...columns];
    if (implicit) roles = roles.map((r) => (r === 'rating' ? 'weight' : r));
    else if (roles.includes('weight')) throw new DataFormatError(file, 0, 'a weight column is for interactions (--format interactions); name the column rating');
    if (!implicit && !roles.includes('rating')) throw new DataFormatError(file, 0, `the columns name no rating column (for implicit feedback use --format interactions)`);
    if (roles.length > 1 && sep === null) throw new DataFormatError(file, 1, `cannot tell the separator of "${shown}" (expected ${roles.length} columns separated by ",", tab, ";", "::" or spaces)`);
    const userField = sep === null ? first : splitLine(first, sep)[roles.indexOf('user')];
    headerLines = userField !== undefined && !ID_FIELD.test(userField) ? 1 : 0;
  } else {
    const names = sep === null ? [normaliseColumnName(first)] : splitLine(first, sep).map(normaliseColumnName);
    roles = headerRoles(names, implicit);
    const ok = roles.includes('user') && roles.includes('movie') && (implicit || roles.includes('rating'));
    if (!ok) {
      throw new DataFormatError(
        file,
        1,
        `header "${shown}" does not name the ${wanted} (user/user_id/userId/uid, item/item_id/itemId/movie/movie_id/movieId${implicit ? '' : ', rating'}); for a file without a header give --columns`,
      );
    }
    headerLines = 1;
  }
  const separator = sep ?? { delimiter: 44, double: false, whitespace: false };
  const time = roles.indexOf('timestamp');
  const sample = headerLines === 0 ? first : second;
  const timeText = sample === undefined || time < 0 || sep === null ? undefined : splitLine(sample, sep)[time];
  const isDate = timeText !== undefined && DATE_FIELD.test(timeText);
  const value = roles.indexOf(implicit ? 'weight' : 'rating');
  return {
    delimiter: separator.delimiter,
    doubleDelimiter: separator.double,
    whitespace: separator.whitespace,
    fields: roles.length,
    user: roles.indexOf('user'),
    movie: roles.indexOf('movie'),
    rating: value,
    date: isDate ? time : -1,
    timestamp: isDate ? -1 : time,
    flexibleTime: true,
    implicit,
    headerLines,
    scale,
    noun: implicit ? 'interactions' : 'ratings',
  };
}

/**
 * The plan of one delimited file: `interactions` (implicit feedback, scale INTERACTION_WEIGHTS,
 * repeated pairs summed) or `ratings-csv` (whole or half stars 0.5..5, or `options.scale`).
 * No titles file is read (movies are titled `Movie <id>`).
 */
export function planDelimited(format: Extract<DataFormat, 'interactions' | 'ratings-csv'>, path: string, options: LoadOptions): FormatPlan {
  if (isDirectory(path)) throw new DataFormatError(path, 0, `expected a file for format ${format}, found a folder`);
  const implicit = format === 'interactions';
  const scale = implicit ? INTERACTION_WEIGHTS : (options.scale ?? HALF_STARS_05_TO_5);
  return {
    format,
    ratingFiles: [path],
    titleFiles: [],
    layout: (file) => delimitedLayout(file, implicit, scale, options.columns),
    bytesPerRow: 20,
    readTitles: () => {
      throw new Error(`format ${format} has no titles file`);
    },
    scaleOf: implicit ? () => INTERACTION_WEIGHTS : options.scale ? () => options.scale! : wholeOrHalfStars,
  };
}
