import { MovieCatalog } from '../catalog';
import { builtDatasetReport, ImportReport, LoadedDataset } from '../dataset';
import { DataFormatError } from '../errors';
import { IdIndex } from '../id-index';
import { buildRatingMatrix } from '../build-matrix';
import { BuildThreadPool, buildFromMovieRuns, PARALLEL_MIN_RATINGS } from '../build-from-runs';
import { MovieRunsList } from '../movie-runs';
import { RatingList, RatingListBuilder, RatingMatrix } from '../rating-matrix';
import { formatRatingScale, RatingScale } from '../rating-scale';
import { readSnapshot } from '../snapshot';
import { LoadContext } from './context';
import { detectFormat } from './detect';
import { planMovieLens100k, planMovieLensCsv, planMovieLensDat } from './movielens';
import { planNetflixKaggle } from './netflix-kaggle';
import { planNetflixPrize } from './netflix-prize';
import { DataFormat, LoadOptions } from './options';
import { planDelimited } from './delimited';
import { lineAlignedCuts } from './byte-reader';
import { fileSize, FormatPlan, isDirectory } from './plan';
import { readRatingRowsSplit } from './parallel-rows';
import { readBlockRanges } from './block-ranges';
import { ImportCache } from './import-cache';
import { hasDays, readRatingRows } from './rating-rows';

const PLANNERS: Record<Exclude<FormatPlan['format'], 'interactions' | 'ratings-csv'>, (path: string) => FormatPlan> = {
  'netflix-kaggle': planNetflixKaggle,
  'netflix-prize': planNetflixPrize,
  'movielens-100k': planMovieLens100k,
  'movielens-dat': planMovieLensDat,
  'movielens-csv': planMovieLensCsv,
};

/**
 * The format of a load: `options.format`; else with `options.columns` interactions (no rating
 * column) or ratings-csv (a rating column); else `detectFormat(path)`. A RangeError when the
 * options do not fit the format (columns for a fixed layout, a scale for interactions or a snapshot).
 */
function formatOf(path: string, options: LoadOptions): DataFormat {
  const format = options.format ?? (options.columns ? (options.columns.includes('rating') ? 'ratings-csv' : 'interactions') : detectFormat(path));
  const conflict = loadOptionsConflict({ ...options, format });
  if (conflict !== null) throw new RangeError(conflict);
  return format;
}

/**
 * Why a format does not take the other options given with it, or null when it does: columns are
 * for the interactions and ratings-csv formats (the others have fixed columns), a scale is not for
 * interactions (weights) or snapshots (they keep theirs). For configuration checks before a load.
 */
export function loadOptionsConflict(options: Pick<LoadOptions, 'format' | 'columns' | 'scale'>): string | null {
  const format = options.format;
  if (format === undefined) return null;
  if (options.columns && format !== 'interactions' && format !== 'ratings-csv') {
    return `columns apply to the interactions and ratings-csv formats, not to ${format} (its columns are fixed)`;
  }
  if (options.scale && format === 'snapshot') return 'a scale does not apply to a snapshot (it keeps the scale it was imported with)';
  if (options.scale && format === 'interactions') return 'a scale is for rating data; interaction weights are any positive number (capped at 127.5)';
  return null;
}

/** The plan of a text format, on `options.scale` instead of the format's own scale when given. */
function planOf(path: string, format: Exclude<DataFormat, 'snapshot'>, options: LoadOptions): FormatPlan {
  if (format === 'interactions' || format === 'ratings-csv') return planDelimited(format, path, options);
  const plan = PLANNERS[format](path);
  const scale = options.scale;
  if (scale === undefined) return plan;
  return { ...plan, layout: (file) => ({ ...plan.layout(file), scale }), scaleOf: () => scale };
}

/**
 * Rows to allocate for `bytes` of a format of about `bytesPerRow` bytes a row: 25% more than
 * the estimate, so that a list hardly ever grows (a doubling copies it), which costs nothing
 * much, since pages of a large typed array that are never written are never resident.
 */
function rowCapacity(bytes: number, bytesPerRow: number): number {
  return Math.ceil((bytes / bytesPerRow) * 1.25) + 1024;
}

/**
 * Stream every rating file of a plan into one list, held as consecutive parts (read in order,
 * they are the rows in file order), and choose the scale. A file of at least
 * `ctx.parallelMinBytes` (8 MiB) in a layout without `MovieID:` blocks is read on two threads
 * (`readRatingRowsSplit`) unless `ctx.threads` is 1; the worker's half of it is a part of its own, so nothing is copied.
 * Constant memory besides the lists: one reused 8 MiB buffer per thread.
 */
export async function readPlanRatings(ctx: LoadContext, plan: FormatPlan): Promise<{ parts: RatingList[]; scale: RatingScale }> {
  const files = plan.ratingFiles;
  const layouts = files.map((f) => plan.layout(f));
  const withDays = layouts.some(hasDays);
  const sizes = files.map(fileSize);
  // Where each file is split between the threads, or null to read it whole here.
  const cuts: Array<number | null> = [];
  for (let i = 0; i < files.length; i++) {
    let cut: number | null = null;
    if (layouts[i].movie >= 0 && sizes[i] >= ctx.parallelMinBytes && ctx.threads > 1) {
      const bounds = await lineAlignedCuts(files[i], sizes[i], 2);
      if (bounds.length === 3) cut = bounds[1];
    }
    cuts.push(cut);
  }
  const parts: RatingList[] = [];
  let i = 0;
  while (i < files.length || parts.length === 0) {
    // One list for the files read here up to (and with the first range of) the next split file.
    let bytes = 0;
    for (let j = i; j < files.length; j++) {
      const cut = cuts[j];
      bytes += cut === null ? sizes[j] : cut;
      if (cut !== null) break;
    }
    const out = new RatingListBuilder(rowCapacity(bytes, plan.bytesPerRow), withDays);
    let later: RatingList | null = null;
    for (; i < files.length && later === null; i++) {
      const cut = cuts[i];
      if (cut === null) await readRatingRows(ctx, files[i], layouts[i], out);
      else later = await readRatingRowsSplit(ctx, files[i], layouts[i], out, cut, sizes[i], rowCapacity(sizes[i] - cut, plan.bytesPerRow));
    }
    parts.push(out.view());
    if (later !== null) parts.push(later);
  }
  return { parts, scale: plan.scaleOf(parts) };
}

/** Threads an import of `bytes` uses: `options.threads` (default every core), at most one per `minBytes`. */
function importThreads(ctx: LoadContext, bytes: number): number {
  const wanted = ctx.threads;
  return Math.max(1, Math.min(wanted, Math.ceil(bytes / ctx.parallelMinBytes)));
}

/**
 * Read every rating file of a plan whose layout comes in `MovieID:` blocks (Netflix Prize) on
 * all threads (`readBlockRanges`), as movie runs, and choose the scale.
 */
export async function readPlanRuns(ctx: LoadContext, plan: FormatPlan): Promise<{ parts: MovieRunsList[]; scale: RatingScale }> {
  const files = plan.ratingFiles;
  const sizes = files.map(fileSize);
  const total = sizes.reduce((a, b) => a + b, 0);
  const parts = await readBlockRanges(ctx, files, sizes, plan.layout(files[0]), importThreads(ctx, total), (bytes) => rowCapacity(bytes, plan.bytesPerRow));
  return { parts, scale: plan.scaleOf(parts) };
}

/** The plan's files all come in `MovieID:` blocks with one layout (read by `readPlanRuns`). */
function isBlockPlan(plan: FormatPlan): boolean {
  const layouts = plan.ratingFiles.map((f) => plan.layout(f));
  return layouts.length > 0 && layouts.every((l) => l === layouts[0] && l.movie < 0);
}

/** One list of exactly its length holding the parts in order (no copy for one exact part). */
function joinParts(parts: readonly RatingList[]): RatingList {
  if (parts.length === 1 && parts[0].users.buffer.byteLength === parts[0].length * 4) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const withDays = parts.some((p) => p.days !== null);
  const list = { length: n, users: new Int32Array(n), movies: new Int32Array(n), ratings: new Uint8Array(n), days: withDays ? new Uint16Array(n) : null };
  let at = 0;
  for (const p of parts) {
    list.users.set(p.users.subarray(0, p.length), at);
    list.movies.set(p.movies.subarray(0, p.length), at);
    list.ratings.set(p.ratings.subarray(0, p.length), at);
    if (list.days !== null && p.days !== null) list.days.set(p.days.subarray(0, p.length), at);
    at += p.length;
  }
  return list;
}

/** Rated movies (of the matrix) that the catalog does not list. */
function countUntitled(matrix: RatingMatrix, catalog: MovieCatalog): number {
  let n = 0;
  for (const id of matrix.movies.ids) if (!catalog.has(id)) n++;
  return n;
}

function snapshotDataset(path: string, started: number, options: LoadOptions): LoadedDataset {
  const dataset = readSnapshot(path, { separateArrays: options.separateArrays });
  return {
    ...dataset,
    report: builtDatasetReport(dataset, 'snapshot', {
      files: [path],
      bytes: fileSize(path),
      untitledMovies: countUntitled(dataset.matrix, dataset.catalog),
      seconds: (performance.now() - started) / 1000,
    }),
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
  const format = formatOf(path, options);
  if (format === 'snapshot') return snapshotDataset(path, started, options);
  const plan = planOf(path, format, options);
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, 'RecsysImportCache'));
  let cache: ImportCache | null = null;
  let cacheWarning: string | undefined;
  if (options.cacheDir !== undefined) {
    const mapping = {
      ...(options.columns ? { columns: options.columns.join(',') } : {}),
      ...(options.scale ? { scale: formatRatingScale(options.scale) } : {}),
    };
    cache = new ImportCache(options.cacheDir, path, format, options.skipInvalid ?? false, [...plan.titleFiles, ...plan.ratingFiles], mapping);
    const hit = cache.read(() => (performance.now() - started) / 1000, { separateArrays: options.separateArrays });
    if (hit.dataset !== null) {
      options.onProgress?.(1, 1);
      return hit.dataset;
    }
    cacheWarning = hit.warning;
    if (cacheWarning !== undefined) warn(cacheWarning);
  }
  const ctx = new LoadContext(options, [...plan.titleFiles, ...plan.ratingFiles]);
  // Titles first: a bad titles file fails in milliseconds, not after the ratings.
  const catalog = plan.titleFiles.length > 0 ? await plan.readTitles(ctx) : new MovieCatalog();
  let built;
  let scale: RatingScale;
  if (isBlockPlan(plan)) {
    // The build's threads start while the files are parsed, when the build will want them.
    const rows = plan.ratingFiles.reduce((sum, f) => sum + fileSize(f), 0) / plan.bytesPerRow;
    const pool = new BuildThreadPool(rows >= PARALLEL_MIN_RATINGS ? ctx.threads - 1 : 0);
    try {
      const read = await readPlanRuns(ctx, plan);
      scale = read.scale;
      built = await buildFromMovieRuns(read.parts, scale, ctx.threads, PARALLEL_MIN_RATINGS, pool);
    } finally {
      await pool.stop();
    }
  } else {
    const read = await readPlanRatings(ctx, plan);
    scale = read.scale;
    built = buildRatingMatrix(read.parts, scale);
  }
  const { matrix, duplicates, duplicateExamples } = built;
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
    ...(scale.implicit ? { capped: ctx.issues.capped + built.capped } : {}),
  };
  if (cache !== null) {
    const writeWarning = cache.write({ matrix, catalog }, report);
    if (writeWarning !== undefined) warn(writeWarning);
    report.cache = { path: cache.path, used: false, written: writeWarning === undefined, warning: writeWarning ?? cacheWarning };
  }
  return { matrix, catalog, report };
}

/** Rating list and scale of one ratings file, read into `ctx` (format given, or detected from the file). */
export async function readRatingsFileInto(
  ctx: LoadContext,
  path: string,
  options: LoadOptions,
): Promise<{ list: RatingList; scale: RatingScale; format: string }> {
  if (isDirectory(path)) throw new DataFormatError(path, 0, 'expected a ratings file, found a folder');
  const format = formatOf(path, options);
  if (format === 'snapshot') {
    const { matrix } = readSnapshot(path);
    ctx.files.push(path);
    ctx.bytes += fileSize(path);
    return { list: matrix.toList(), scale: matrix.scale, format };
  }
  const { parts, scale } = await readPlanRatings(ctx, planOf(path, format, options));
  return { list: joinParts(parts), scale, format };
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
