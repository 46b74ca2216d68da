import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MovieCatalog } from '../catalog';
import { RatingPairs } from '../dataset';
import { DataFormatError } from '../errors';
import { RatingListBuilder } from '../rating-matrix';
import { WHOLE_STARS_1_TO_5 } from '../rating-scale';
import { LoadContext } from './context';
import { LoadOptions } from './options';
import { FormatPlan, findEntry, isDirectory, sibling, wholeStars } from './plan';
import { readRatingRows, RowLayout } from './rating-rows';
import { decodeText, parseIdText, parseYear, textLines } from './text';

/*
 * The original Netflix Prize layout. Training data: `combined_data_1.txt … combined_data_4.txt`
 * (the Kaggle re-pack) or `training_set/mv_0000001.txt …` (one file per movie); in both a line
 * `MovieID:` opens a block of `CustomerID,Rating,YYYY-MM-DD` rows. `movie_titles.csv` is
 * `MovieID,YearOfRelease,Title` without quoting, in ISO-8859-1. `probe.txt` lists `CustomerID`
 * rows and `qualifying.txt` `CustomerID,YYYY-MM-DD` rows, both in `MovieID:` blocks.
 */

export const PRIZE_TITLES_FILE = 'movie_titles.csv';
export const COMBINED_FILE = /^combined_data_(\d+)\.txt$/i;
export const MOVIE_FILE = /^mv_(\d+)\.txt$/i;

const COMMA = 44;

/** Training rows: `CustomerID,Rating,YYYY-MM-DD` after a `MovieID:` line. */
export const PRIZE_TRAINING_LAYOUT: RowLayout = Object.freeze({
  delimiter: COMMA,
  doubleDelimiter: false,
  fields: 3,
  user: 0,
  movie: -1,
  rating: 1,
  date: 2,
  timestamp: -1,
  headerLines: 0,
  scale: WHOLE_STARS_1_TO_5,
  noun: 'ratings',
});

/** `probe.txt` rows: `CustomerID` after a `MovieID:` line. */
const PROBE_LAYOUT: RowLayout = Object.freeze({ ...PRIZE_TRAINING_LAYOUT, fields: 1, rating: -1, date: -1, noun: 'pairs' });

/** `qualifying.txt` rows: `CustomerID,YYYY-MM-DD` after a `MovieID:` line. */
const QUALIFYING_LAYOUT: RowLayout = Object.freeze({ ...PRIZE_TRAINING_LAYOUT, fields: 2, rating: -1, date: 1, noun: 'pairs' });

/** Files of `dir` whose names match `pattern`, ordered by the number the pattern captures. */
function numberedFiles(dir: string, pattern: RegExp): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .map((name) => ({ name, m: pattern.exec(name) }))
    .filter((e) => e.m !== null)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]) || (a.name < b.name ? -1 : 1))
    .map((e) => join(dir, e.name));
}

/**
 * The training files of a Netflix Prize folder: `combined_data_*.txt` in number order, else
 * `training_set/mv_*.txt`, else `mv_*.txt` in the folder itself (the training_set folder).
 */
export function prizeTrainingFiles(dir: string): string[] {
  const combined = numberedFiles(dir, COMBINED_FILE);
  if (combined.length > 0) return combined;
  const trainingSet = findEntry(dir, 'training_set');
  if (trainingSet !== null) {
    const perMovie = numberedFiles(trainingSet, MOVIE_FILE);
    if (perMovie.length > 0) return perMovie;
  }
  return numberedFiles(dir, MOVIE_FILE);
}

/** `movie_titles.csv` next to a training file, or one folder up for `training_set/mv_*.txt`. */
function prizeTitlesFor(ratingFile: string): string | null {
  return sibling(ratingFile, PRIZE_TITLES_FILE) ?? (MOVIE_FILE.test(basename(ratingFile)) ? sibling(dirname(ratingFile), PRIZE_TITLES_FILE) : null);
}

/** Files of a Netflix Prize folder, or of one training file with its titles file when present. */
export function planNetflixPrize(path: string): FormatPlan {
  const ratingFiles = isDirectory(path) ? prizeTrainingFiles(path) : [path];
  if (ratingFiles.length === 0) {
    throw new DataFormatError(path, 0, 'no combined_data_*.txt, training_set/mv_*.txt or mv_*.txt in this folder (needed for format netflix-prize)');
  }
  const titles = prizeTitlesFor(ratingFiles[0]);
  return {
    format: 'netflix-prize',
    ratingFiles,
    titleFiles: titles ? [titles] : [],
    layout: () => PRIZE_TRAINING_LAYOUT,
    bytesPerRow: 20,
    readTitles: (ctx) => readPrizeTitles(ctx, titles!),
    scaleOf: wholeStars,
  };
}

/**
 * Titles of `movie_titles.csv`: `MovieID,YearOfRelease,Title`, no quoting: the title is
 * everything after the second comma (commas included). Year `NULL` → null. ISO-8859-1.
 */
export async function readPrizeTitles(ctx: LoadContext, path: string): Promise<MovieCatalog> {
  const lines = textLines(decodeText(await ctx.readWhole(path), 'latin1'));
  const catalog = new MovieCatalog();
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    const line = i + 1;
    if (text === '') continue;
    const c1 = text.indexOf(',');
    const c2 = c1 < 0 ? -1 : text.indexOf(',', c1 + 1);
    if (c2 < 0) {
      ctx.issues.reject(path, line, `expected MovieID,YearOfRelease,Title, found ${c1 < 0 ? 1 : 2} field${c1 < 0 ? '' : 's'}`);
      continue;
    }
    const idText = text.slice(0, c1);
    const id = parseIdText(idText);
    if (id < 0) {
      ctx.issues.reject(path, line, `movie id "${idText}" is not a non-negative integer`);
      continue;
    }
    const yearText = text.slice(c1 + 1, c2);
    const year = parseYear(yearText);
    if (year === undefined) {
      ctx.issues.reject(path, line, `year "${yearText}" is not a year`);
      continue;
    }
    catalog.set({ id, title: text.slice(c2 + 1), year, genres: [] });
  }
  return catalog;
}

/** Titles of a Netflix Prize `movie_titles.csv` (see `readPrizeTitles`). */
export async function readNetflixPrizeTitles(path: string, options: LoadOptions = {}): Promise<MovieCatalog> {
  return readPrizeTitles(new LoadContext(options, [path]), path);
}

async function readPairs(path: string, layout: RowLayout, options: LoadOptions): Promise<RatingPairs> {
  const ctx = new LoadContext(options, [path]);
  const out = new RatingListBuilder(Math.max(1024, Math.floor(ctx.progress.total / 8)), layout.date >= 0);
  await readRatingRows(ctx, path, layout, out);
  const { length, users, movies, days } = out.finish();
  return { length, users, movies, days };
}

/** `probe.txt`: `MovieID:` lines, each followed by `CustomerID` lines → (user, movie) pairs without dates. */
export async function readProbe(path: string, options: LoadOptions = {}): Promise<RatingPairs> {
  return readPairs(path, PROBE_LAYOUT, options);
}

/** `qualifying.txt`: `MovieID:` lines, each followed by `CustomerID,YYYY-MM-DD` lines → pairs with days since 1970-01-01. */
export async function readQualifying(path: string, options: LoadOptions = {}): Promise<RatingPairs> {
  return readPairs(path, QUALIFYING_LAYOUT, options);
}
