import type { RatingScale } from './rating-scale';
import type { RatingMatrix } from './rating-matrix';

/** A value of the rating scale and how many ratings have it. */
export interface ValueCount {
  value: number;
  count: number;
}

/** k and the number of users (or movies) with exactly k ratings. */
export interface DegreeCount {
  ratings: number;
  count: number;
}

/** A calendar month `YYYY-MM` and the ratings given in it. */
export interface MonthCount {
  month: string;
  count: number;
}

/** Counts and distributions of a rating matrix (what the API's `dataSummary` answers). */
export interface DataSummary {
  users: number;
  movies: number;
  ratings: number;
  scaleMin: number;
  scaleMax: number;
  scaleStep: number;
  implicit: boolean;
  /** Mean of all values (0 without ratings). */
  meanRating: number;
  /** Ratings per value of the scale, ascending, zeros included. */
  ratingHistogram: ValueCount[];
  /** For each k with at least one user having exactly k ratings: k and that number of users, ascending by k. */
  ratingsPerUser: DegreeCount[];
  /** The same per movie. */
  ratingsPerMovie: DegreeCount[];
  /** Ratings per calendar month, ascending; empty without dates. */
  ratingsByMonth: MonthCount[];
}

/**
 * Every value of the scale (min, min + step, … max), ascending, with the count of `codes`
 * (stored values × 2) positions `from .. to - 1` that hold it (codes off the scale are not counted).
 */
export function scaleHistogram(scale: RatingScale, codes: ArrayLike<number>, from = 0, to = codes.length): ValueCount[] {
  const byCode = new Uint32Array(256); // counts < 2^32 (a matrix holds at most 2^32 - 1 ratings)
  for (let k = from; k < to; k++) byCode[codes[k]]++;
  return histogramOfCodes(scale, byCode);
}

function histogramOfCodes(scale: RatingScale, byCode: ArrayLike<number>): ValueCount[] {
  const steps = Math.round((scale.max - scale.min) / scale.step);
  const out: ValueCount[] = [];
  for (let i = 0; i <= steps; i++) {
    const value = scale.min + i * scale.step;
    out.push({ value, count: byCode[Math.round(value * 2)] });
  }
  return out;
}

/** k → how many rows have k entries, from a CSR/CSC pointer array, ascending by k (k ≥ 1; empty rows are left out). */
function degreeCounts(ptr: Uint32Array): DegreeCount[] {
  let max = 0;
  for (let i = 0; i + 1 < ptr.length; i++) max = Math.max(max, ptr[i + 1] - ptr[i]);
  const counts = new Float64Array(max + 1);
  for (let i = 0; i + 1 < ptr.length; i++) counts[ptr[i + 1] - ptr[i]]++;
  const out: DegreeCount[] = [];
  for (let k = 1; k <= max; k++) if (counts[k] > 0) out.push({ ratings: k, count: counts[k] });
  return out;
}

/** Ratings per calendar month from per-day counts (days since 1970-01-01). */
function monthCounts(byDay: ArrayLike<number>): MonthCount[] {
  const months = new Map<string, number>();
  for (let d = 0; d < byDay.length; d++) {
    if (byDay[d] === 0) continue;
    const month = new Date(d * 86_400_000).toISOString().slice(0, 7);
    months.set(month, (months.get(month) ?? 0) + byDay[d]);
  }
  return [...months.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([month, count]) => ({ month, count }));
}

/** Ratings counted per pass of {@link dataSummary}'s steps: a few milliseconds of work each. */
export const SUMMARY_CHUNK = 1_000_000;

/**
 * The summary's work in steps: each `yield` comes after at most `chunk` ratings were counted (the
 * value codes and, with dates, the days of the by-user arrays), so a caller may let other work
 * run in between; the pointer arrays give the degrees in one pass each. Returns the summary.
 */
function* summarySteps(matrix: RatingMatrix, chunk: number): Generator<void, DataSummary, void> {
  if (!(chunk >= 1)) throw new RangeError(`dataSummary: chunk must be at least 1, got ${chunk}`);
  const byCode = new Uint32Array(256); // counts < 2^32 (a matrix holds at most 2^32 - 1 ratings)
  const byDay = matrix.userDays ? new Uint32Array(65_536) : null;
  const codes = matrix.userRatings;
  const days = matrix.userDays;
  for (let start = 0; start < codes.length; start += chunk) {
    const end = Math.min(codes.length, start + chunk);
    for (let k = start; k < end; k++) byCode[codes[k]]++;
    if (byDay && days) for (let k = start; k < end; k++) byDay[days[k]]++;
    yield;
  }
  let sum = 0;
  for (let code = 0; code < 256; code++) sum += byCode[code] * code * 0.5;
  const ratingsPerUser = degreeCounts(matrix.userPtr);
  yield;
  const ratingsPerMovie = degreeCounts(matrix.moviePtr);
  const scale = matrix.scale;
  return {
    users: matrix.nUsers,
    movies: matrix.nMovies,
    ratings: matrix.nRatings,
    scaleMin: scale.min,
    scaleMax: scale.max,
    scaleStep: scale.step,
    implicit: scale.implicit === true,
    meanRating: matrix.nRatings > 0 ? sum / matrix.nRatings : 0,
    ratingHistogram: histogramOfCodes(scale, byCode),
    ratingsPerUser,
    ratingsPerMovie,
    ratingsByMonth: byDay ? monthCounts(byDay) : [],
  };
}

/** The summary of `matrix` in one go (blocks for the whole pass: ~0.1 s per 10M ratings). */
export function dataSummarySync(matrix: RatingMatrix): DataSummary {
  const steps = summarySteps(matrix, Number.MAX_SAFE_INTEGER);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The summary of `matrix`, counted in chunks of `chunk` ratings with a turn of the event loop
 * (setImmediate) between them, so that a server computing it at 100M ratings answers other
 * requests meanwhile (each chunk blocks for a few milliseconds).
 */
export async function dataSummary(matrix: RatingMatrix, options: { chunk?: number } = {}): Promise<DataSummary> {
  const steps = summarySteps(matrix, options.chunk ?? SUMMARY_CHUNK);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
