import { MovieCatalog } from '../catalog';
import { ImportReport, LoadedDataset } from '../dataset';
import { DataFormatError } from '../errors';
import { IdIndex } from '../id-index';
import { buildRatingMatrix, RatingList, RatingListBuilder, RatingMatrix } from '../rating-matrix';
import { RatingScale } from '../rating-scale';
import { readSnapshot } from '../snapshot';
import { LoadContext } from './context';
import { detectFormat } from './detect';
import { planMovieLens100k, planMovieLensCsv, planMovieLensDat } from './movielens';
import { planNetflixKaggle } from './netflix-kaggle';
import { planNetflixPrize } from './netflix-prize';
import { LoadOptions } from './options';
import { fileSize, FormatPlan, isDirectory } from './plan';
import { hasDays, readRatingRows } from './rating-rows';

const PLANNERS: Record<FormatPlan['format'], (path: string) => FormatPlan> = {
  'netflix-kaggle': planNetflixKaggle,
  'netflix-prize': planNetflixPrize,
  'movielens-100k': planMovieLens100k,
  'movielens-dat': planMovieLensDat,
  'movielens-csv': planMovieLensCsv,
};

/**
 * Stream every rating file of a plan into one list (sized from the bytes up front) and choose the
 * scale. Constant memory besides the list: one reused 8 MiB buffer.
 */
export async function readPlanRatings(ctx: LoadContext, plan: FormatPlan): Promise<{ list: RatingList; scale: RatingScale }> {
  const layouts = plan.ratingFiles.map((f) => plan.layout(f));
  let bytes = 0;
  for (const f of plan.ratingFiles) bytes += fileSize(f);
  const out = new RatingListBuilder(Math.floor(bytes / plan.bytesPerRow) + 1024, layouts.some(hasDays));
  for (let i = 0; i < plan.ratingFiles.length; i++) await readRatingRows(ctx, plan.ratingFiles[i], layouts[i], out);
  const list = out.finish();
  return { list, scale: plan.scaleOf(list) };
}

/** Rated movies (of the matrix) that the catalog does not list. */
function countUntitled(matrix: RatingMatrix, catalog: MovieCatalog): number {
  let n = 0;
  for (const id of matrix.movies.ids) if (!catalog.has(id)) n++;
  return n;
}

function snapshotDataset(path: string, started: number): LoadedDataset {
  const { matrix, catalog } = readSnapshot(path);
  return {
    matrix,
    catalog,
    report: {
      format: 'snapshot',
      files: [path],
      bytes: fileSize(path),
      ratings: matrix.nRatings,
      users: matrix.nUsers,
      movies: matrix.nMovies,
      skipped: 0,
      skippedExamples: [],
      duplicates: 0,
      duplicateExamples: [],
      untitledMovies: countUntitled(matrix, catalog),
      seconds: (performance.now() - started) / 1000,
    },
  };
}

/**
 * Load a folder or a single ratings file of any format (`options.format`, else
 * `detectFormat(path)`); titles come from the titles file in the folder (or next to the ratings
 * file) when there is one, and rated movies it lacks are titled `Movie <id>`. Ratings are streamed
 * byte by byte into a RatingList, then `buildRatingMatrix` resolves duplicate (user, movie) pairs
 * (the last one read wins). A snapshot is read with `readSnapshot`.
 *
 * The report counts what was read and kept: files and bytes, ratings after deduplication, users,
 * movies, skipped rows (with `skipInvalid`) and the first 10 of them, duplicates, untitled movies,
 * wall seconds.
 */
export async function loadDataset(path: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const started = performance.now();
  const format = options.format ?? detectFormat(path);
  if (format === 'snapshot') return snapshotDataset(path, started);
  const plan = PLANNERS[format](path);
  const ctx = new LoadContext(options, [...plan.titleFiles, ...plan.ratingFiles]);
  // Titles first: a bad titles file fails in milliseconds, not after the ratings.
  const catalog = plan.titleFiles.length > 0 ? await plan.readTitles(ctx) : new MovieCatalog();
  const { list, scale } = await readPlanRatings(ctx, plan);
  const { matrix, duplicates, duplicateExamples } = buildRatingMatrix(list, scale);
  const report: ImportReport = {
    format,
    files: ctx.files,
    bytes: ctx.bytes,
    ratings: matrix.nRatings,
    users: matrix.nUsers,
    movies: matrix.nMovies,
    skipped: ctx.issues.skipped,
    skippedExamples: ctx.issues.examples,
    duplicates,
    duplicateExamples,
    untitledMovies: countUntitled(matrix, catalog),
    seconds: (performance.now() - started) / 1000,
  };
  return { matrix, catalog, report };
}

/** Rating list and scale of one ratings file, read into `ctx` (format given, or detected from the file). */
export async function readRatingsFileInto(
  ctx: LoadContext,
  path: string,
  options: LoadOptions,
): Promise<{ list: RatingList; scale: RatingScale; format: string }> {
  if (isDirectory(path)) throw new DataFormatError(path, 0, 'expected a ratings file, found a folder');
  const format = options.format ?? detectFormat(path);
  if (format === 'snapshot') {
    const { matrix } = readSnapshot(path);
    ctx.files.push(path);
    ctx.bytes += fileSize(path);
    return { list: matrix.toList(), scale: matrix.scale, format };
  }
  return { ...(await readPlanRatings(ctx, PLANNERS[format](path))), format };
}

/**
 * The ratings of one file of any rating format, for file-defined splits, as a RatingList of
 * external ids (no titles are read). The list is not deduplicated, so the report's `ratings` is
 * the rows read and `duplicates` is 0; `users`/`movies` count distinct ids; `untitledMovies` is
 * every movie (no titles file is read).
 */
export async function loadRatingsFile(
  path: string,
  options: LoadOptions = {},
): Promise<{ list: RatingList; scale: RatingScale; report: ImportReport }> {
  const started = performance.now();
  const ctx = new LoadContext(options, [path]);
  const { list, scale, format } = await readRatingsFileInto(ctx, path, options);
  const movies = IdIndex.fromValues(list.movies, list.length).size;
  const report: ImportReport = {
    format,
    files: ctx.files,
    bytes: ctx.bytes,
    ratings: list.length,
    users: IdIndex.fromValues(list.users, list.length).size,
    movies,
    skipped: ctx.issues.skipped,
    skippedExamples: ctx.issues.examples,
    duplicates: 0,
    duplicateExamples: [],
    untitledMovies: movies,
    seconds: (performance.now() - started) / 1000,
  };
  return { list, scale, report };
}
