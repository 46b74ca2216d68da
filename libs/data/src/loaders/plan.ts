import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MovieCatalog } from '../catalog';
import { DataFormatError } from '../errors';
import { RatingList } from '../rating-matrix';
import { HALF_STARS_05_TO_5, RatingScale, WHOLE_STARS_1_TO_5 } from '../rating-scale';
import type { LoadContext } from './context';
import { DataFormat } from './options';
import { RowLayout } from './rating-rows';

/** The rating codes (rating × 2) of a list of ratings, the first `length` of them. */
export type RatingCodes = Pick<RatingList, 'length' | 'ratings'>;

/** What one load of a rating format reads, found from a folder or a ratings file. */
export interface FormatPlan {
  readonly format: Exclude<DataFormat, 'snapshot'>;
  /** Rating files, in reading order. */
  readonly ratingFiles: readonly string[];
  /** Files the titles reader will read (for the progress total); empty when there is no titles file. */
  readonly titleFiles: readonly string[];
  /** Layout of one rating file (header-led formats read the file's header). */
  layout(file: string): RowLayout;
  /** Estimated bytes per rating row, to size the list up front. */
  readonly bytesPerRow: number;
  /** The catalog from `titleFiles` (called only when there are some). */
  readTitles(ctx: LoadContext): Promise<MovieCatalog>;
  /** The data set's scale once its ratings are known (as consecutive parts of one list). */
  scaleOf(lists: readonly RatingCodes[]): RatingScale;
}

/** Is the path a folder; a DataFormatError when it does not exist. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    throw new DataFormatError(path, 0, 'no such file or folder');
  }
}

/** Size in bytes of a file; a DataFormatError when it does not exist. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    throw new DataFormatError(path, 0, 'no such file or folder');
  }
}

/** The entry of `dir` named `name`, matched case-insensitively, or null. */
export function findEntry(dir: string, name: string): string | null {
  const wanted = name.toLowerCase();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return null;
  }
  const hit = entries.find((e) => e === name) ?? entries.find((e) => e.toLowerCase() === wanted);
  return hit === undefined ? null : join(dir, hit);
}

/** The entry of `dir` named `name`, or a DataFormatError saying the folder lacks it. */
export function requireEntry(dir: string, name: string, format: DataFormat): string {
  const hit = findEntry(dir, name);
  if (hit === null) throw new DataFormatError(dir, 0, `no ${name} in this folder (needed for format ${format})`);
  return hit;
}

/** A sibling of `file` (same folder) named `name`, or null. */
export function sibling(file: string, name: string): string | null {
  return findEntry(dirname(file), name);
}

/**
 * MovieLens 1M and later declare half stars, but 1M uses whole stars only: whole stars 1..5 when
 * every rating is a whole star ≥ 1, else half stars 0.5..5.
 */
export function wholeOrHalfStars(lists: readonly RatingCodes[]): RatingScale {
  for (const list of lists) {
    const r = list.ratings;
    for (let k = 0; k < list.length; k++) if ((r[k] & 1) !== 0 || r[k] < 2) return HALF_STARS_05_TO_5;
  }
  return WHOLE_STARS_1_TO_5;
}

/** Scale chooser for whole-star formats. */
export function wholeStars(): RatingScale {
  return WHOLE_STARS_1_TO_5;
}
