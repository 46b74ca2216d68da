import { MovieCatalog } from '../catalog';
import { DataFormatError } from '../errors';
import { LoadContext } from './context';
import { normaliseColumnName } from './header';
import { decodeText, parseCsv, parseIdText, parseYear, yearFromTitle } from './text';

/** Column names (lower case, `_` removed) of a header-led titles CSV. */
export interface TitleColumns {
  readonly id: readonly string[];
  readonly title: readonly string[];
  /** A year column; without one the year comes from a trailing `(YYYY)` in the title. */
  readonly year?: readonly string[];
  /** A `|`-separated genres column (`(no genres listed)` means none). */
  readonly genres?: readonly string[];
  /** How the expected header is spelt in messages. */
  readonly display: string;
}

/** Genre list of a MovieLens genres field: `Action|Comedy`; `(no genres listed)` → none. */
export function splitGenres(text: string): string[] {
  const t = text.trim();
  if (t === '' || t === '(no genres listed)') return [];
  return t.split('|');
}

/**
 * Titles from a CSV whose header names the columns (Kaggle `Movie_ID,Year,Name`, MovieLens
 * `movieId,title,genres`); names may be quoted with `""` escapes. Text is UTF-8 when valid,
 * else ISO-8859-1. A year of `NULL` or empty is unknown.
 */
export async function readCsvTitles(ctx: LoadContext, path: string, columns: TitleColumns): Promise<MovieCatalog> {
  const records = parseCsv(decodeText(await ctx.readWhole(path), 'utf8-or-latin1'));
  if (records.length === 0) throw new DataFormatError(path, 0, 'no titles: the file is empty');
  const header = records[0];
  const names = header.fields.map(normaliseColumnName);
  const col = (options: readonly string[] | undefined): number =>
    options ? names.findIndex((n) => options.includes(n)) : -1;
  const id = col(columns.id);
  const title = col(columns.title);
  const year = col(columns.year);
  const genres = col(columns.genres);
  if (id < 0 || title < 0 || (columns.year && year < 0)) {
    throw new DataFormatError(path, header.line, `header "${header.fields.join(',')}" does not name the columns ${columns.display}`);
  }
  const catalog = new MovieCatalog();
  for (let r = 1; r < records.length; r++) {
    const { fields, line, unterminated } = records[r];
    if (unterminated) {
      ctx.issues.reject(path, line, 'a quoted field is never closed');
      continue;
    }
    if (fields.length !== names.length) {
      ctx.issues.reject(path, line, `expected ${names.length} fields, found ${fields.length}`);
      continue;
    }
    const movieId = parseIdText(fields[id]);
    if (movieId < 0) {
      ctx.issues.reject(path, line, `movie id "${fields[id]}" is not a non-negative integer`);
      continue;
    }
    const name = fields[title];
    let movieYear: number | null;
    if (year >= 0) {
      const parsed = parseYear(fields[year]);
      if (parsed === undefined) {
        ctx.issues.reject(path, line, `year "${fields[year]}" is not a year`);
        continue;
      }
      movieYear = parsed;
    } else {
      movieYear = yearFromTitle(name);
    }
    catalog.set({ id: movieId, title: name, year: movieYear, genres: genres >= 0 ? splitGenres(fields[genres]) : [] });
  }
  return catalog;
}
