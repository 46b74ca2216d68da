import { basename } from 'node:path';
import { MovieCatalog } from '../catalog';
import { DataFormatError } from '../errors';
import { HALF_STARS_05_TO_5, WHOLE_STARS_1_TO_5 } from '../rating-scale';
import { printable } from './byte-reader';
import { LoadContext } from './context';
import { headerLayout } from './header';
import { LoadOptions } from './options';
import { FormatPlan, isDirectory, requireEntry, sibling, wholeOrHalfStars, wholeStars } from './plan';
import { RowLayout } from './rating-rows';
import { decodeText, parseIdText, textLines, yearFromTitle } from './text';
import { readCsvTitles, splitGenres, TitleColumns } from './titles';

/*
 * MovieLens (GroupLens) layouts:
 * - 100k: `u.data` (and the folds `u1.base` … `ub.test`): `user \t item \t rating \t timestamp`,
 *   whole stars; titles `u.item` (`|`-separated, 19 genre flags named by `u.genre`), ISO-8859-1.
 * - 1M / 10M: `ratings.dat` `user::movie::rating::timestamp`; titles `movies.dat`
 *   `id::Title (Year)::Genre1|Genre2` (ISO-8859-1 in 1M, UTF-8 in 10M).
 * - 20M / 25M / latest: `ratings.csv` `userId,movieId,rating,timestamp`; titles `movies.csv`
 *   `movieId,title,genres` (quoted titles).
 * Timestamps are Unix seconds, kept as days since 1970-01-01. 1M and later declare half stars;
 * a set with whole stars only (1M) gets the whole-star scale.
 */

/** Genres of MovieLens 100k in flag order, for a `u.item` without its `u.genre`. */
export const ML100K_GENRES: readonly string[] = Object.freeze([
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
]);

/** `u.data` rows: `user \t item \t rating \t timestamp`. */
export const ML100K_LAYOUT: RowLayout = Object.freeze({
  delimiter: 9,
  doubleDelimiter: false,
  fields: 4,
  user: 0,
  movie: 1,
  rating: 2,
  date: -1,
  timestamp: 3,
  headerLines: 0,
  scale: WHOLE_STARS_1_TO_5,
  noun: 'ratings',
});

/** `ratings.dat` rows: `user::movie::rating::timestamp`. */
export const ML_DAT_LAYOUT: RowLayout = Object.freeze({
  ...ML100K_LAYOUT,
  delimiter: 58,
  doubleDelimiter: true,
  scale: HALF_STARS_05_TO_5,
});

const ML_CSV_TITLE_COLUMNS: TitleColumns = { id: ['movieid'], title: ['title'], genres: ['genres'], display: 'movieId and title' };

/** Files of a MovieLens 100k folder (`u.data`), or of one 100k ratings file (`u.data`, `u1.base` …) with its sibling `u.item`. */
export function planMovieLens100k(path: string): FormatPlan {
  const ratings = isDirectory(path) ? requireEntry(path, 'u.data', 'movielens-100k') : path;
  const items = sibling(ratings, 'u.item');
  const genres = items ? sibling(items, 'u.genre') : null;
  return {
    format: 'movielens-100k',
    ratingFiles: [ratings],
    titleFiles: items ? (genres ? [genres, items] : [items]) : [],
    layout: () => ML100K_LAYOUT,
    bytesPerRow: 20,
    readTitles: (ctx) => readItems(ctx, items!, genres),
    scaleOf: wholeStars,
  };
}

/** Files of a MovieLens 1M/10M folder (`ratings.dat`), or of one `.dat` ratings file with its sibling `movies.dat`. */
export function planMovieLensDat(path: string): FormatPlan {
  const ratings = isDirectory(path) ? requireEntry(path, 'ratings.dat', 'movielens-dat') : path;
  const movies = sibling(ratings, 'movies.dat');
  return {
    format: 'movielens-dat',
    ratingFiles: [ratings],
    titleFiles: movies ? [movies] : [],
    layout: () => ML_DAT_LAYOUT,
    bytesPerRow: 22,
    readTitles: (ctx) => readMoviesDat(ctx, movies!),
    scaleOf: wholeOrHalfStars,
  };
}

/** Files of a MovieLens 20M/25M/latest folder (`ratings.csv`), or of one ratings CSV with its sibling `movies.csv`. */
export function planMovieLensCsv(path: string): FormatPlan {
  const ratings = isDirectory(path) ? requireEntry(path, 'ratings.csv', 'movielens-csv') : path;
  const movies = sibling(ratings, 'movies.csv');
  return {
    format: 'movielens-csv',
    ratingFiles: [ratings],
    titleFiles: movies ? [movies] : [],
    layout: (file) => headerLayout(file, HALF_STARS_05_TO_5, 'userId, movieId and rating'),
    bytesPerRow: 24,
    readTitles: (ctx) => readCsvTitles(ctx, movies!, ML_CSV_TITLE_COLUMNS),
    scaleOf: wholeOrHalfStars,
  };
}

/** Genre names of `u.genre` (`name|index` lines) in index order. */
async function readGenreNames(ctx: LoadContext, path: string): Promise<string[]> {
  const lines = textLines(decodeText(await ctx.readWhole(path), 'latin1'));
  const names: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const bar = lines[i].lastIndexOf('|');
    const index = bar < 0 ? -1 : parseIdText(lines[i].slice(bar + 1));
    if (index < 0 || index > 1000) {
      throw new DataFormatError(path, i + 1, `expected "name|index" with an index 0..1000, found "${printable(lines[i].slice(0, 80))}"`);
    }
    names[index] = lines[i].slice(0, bar);
  }
  for (let g = 0; g < names.length; g++) {
    if (names[g] === undefined) throw new DataFormatError(path, 0, `genre index ${g} is missing (indices must be 0..${names.length - 1})`);
  }
  return names;
}

/**
 * Titles of MovieLens 100k `u.item`: `id|title|release date|video release date|IMDb URL|` then
 * one 0/1 flag per genre (names from `u.genre` when given, else `ML100K_GENRES`). The title is
 * kept as is (`Toy Story (1995)`); the year comes from its trailing `(YYYY)`, else from the
 * release date (`01-Jan-1995`). ISO-8859-1.
 */
async function readItems(ctx: LoadContext, path: string, genrePath: string | null): Promise<MovieCatalog> {
  const genreNames = genrePath ? await readGenreNames(ctx, genrePath) : ML100K_GENRES;
  const expected = 5 + genreNames.length;
  const lines = textLines(decodeText(await ctx.readWhole(path), 'latin1'));
  const catalog = new MovieCatalog();
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    if (lines[i] === '') continue;
    const fields = lines[i].split('|');
    if (fields.length !== expected) {
      ctx.issues.reject(path, line, `expected ${expected} fields, found ${fields.length}`);
      continue;
    }
    const id = parseIdText(fields[0]);
    if (id < 0) {
      ctx.issues.reject(path, line, `movie id "${fields[0]}" is not a non-negative integer`);
      continue;
    }
    const genres: string[] = [];
    let bad = -1;
    for (let g = 0; g < genreNames.length; g++) {
      const flag = fields[5 + g];
      if (flag === '1') genres.push(genreNames[g]);
      else if (flag !== '0') bad = g;
    }
    if (bad >= 0) {
      ctx.issues.reject(path, line, `genre flag ${genreNames[bad]} "${fields[5 + bad]}" is not 0 or 1`);
      continue;
    }
    const title = fields[1];
    const released = /(\d{4})\s*$/.exec(fields[2]);
    const year = yearFromTitle(title) ?? (released ? Number(released[1]) : null);
    catalog.set({ id, title, year, genres });
  }
  return catalog;
}

/**
 * Titles of MovieLens 1M/10M `movies.dat`: `id::Title (Year)::Genre1|Genre2`. UTF-8 when the
 * bytes are valid UTF-8 (10M), else ISO-8859-1 (1M). Year from the title's trailing `(YYYY)`.
 */
async function readMoviesDat(ctx: LoadContext, path: string): Promise<MovieCatalog> {
  const lines = textLines(decodeText(await ctx.readWhole(path), 'utf8-or-latin1'));
  const catalog = new MovieCatalog();
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    if (lines[i] === '') continue;
    const parts = lines[i].split('::');
    if (parts.length < 3) {
      ctx.issues.reject(path, line, `expected 3 fields separated by "::", found ${parts.length}`);
      continue;
    }
    const id = parseIdText(parts[0]);
    if (id < 0) {
      ctx.issues.reject(path, line, `movie id "${parts[0]}" is not a non-negative integer`);
      continue;
    }
    // A title holding "::" would split in more parts: the title is everything between the first and last separator.
    const title = parts.slice(1, -1).join('::');
    catalog.set({ id, title, year: yearFromTitle(title), genres: splitGenres(parts[parts.length - 1]) });
  }
  return catalog;
}

/**
 * Titles of any MovieLens titles file, by its extension: `.csv` → `movies.csv` layout, `.dat` →
 * `movies.dat` layout, anything else → `u.item` layout (with a sibling `u.genre` when present).
 */
export async function readMovieLensTitles(path: string, options: LoadOptions = {}): Promise<MovieCatalog> {
  const name = basename(path).toLowerCase();
  const kind = name.endsWith('.csv') ? 'csv' : name.endsWith('.dat') ? 'dat' : 'item';
  if (kind === 'item') {
    const genres = sibling(path, 'u.genre');
    const ctx = new LoadContext(options, genres ? [genres, path] : [path]);
    return readItems(ctx, path, genres);
  }
  const ctx = new LoadContext(options, [path]);
  return kind === 'csv' ? readCsvTitles(ctx, path, ML_CSV_TITLE_COLUMNS) : readMoviesDat(ctx, path);
}
