import { Dataset } from './dataset';

export interface DatasetStats {
  ratings: number;
  users: number;
  movies: number;
  /** Movies listed in the catalog (rated or not). */
  catalogMovies: number;
  density: number;
  meanRating: number;
  /** Mean squared error of always predicting the mean (the variance of the ratings). */
  mseOfMean: number;
  scale: { min: number; max: number; step: number };
  /** Count of ratings per star value, ascending by rating. */
  histogram: Array<{ rating: number; count: number }>;
  ratingsPerUser: { min: number; median: number; mean: number; max: number };
  ratingsPerMovie: { min: number; median: number; mean: number; max: number };
  hasDates: boolean;
  firstDate: string | null;
  lastDate: string | null;
  /** Most-rated movies with titles, most ratings first (ties: smaller id first). */
  mostRated: Array<{ id: number; title: string; year: number | null; ratings: number; meanRating: number }>;
}

/** Counts, histogram, density, activity distribution and the most-rated movies of a data set. */
export function datasetStats(dataset: Dataset, options: { top?: number } = {}): DatasetStats {
  const { matrix, catalog } = dataset;
  const top = options.top ?? 10;
  const histogram = new Float64Array(256);
  let sum = 0;
  let sumSq = 0;
  const r = matrix.userRatings;
  for (let k = 0; k < r.length; k++) histogram[r[k]]++;
  for (let code = 0; code < 256; code++) {
    const v = code * 0.5;
    sum += histogram[code] * v;
    sumSq += histogram[code] * v * v;
  }
  const n = matrix.nRatings;
  const mean = n ? sum / n : NaN;
  const mseOfMean = n ? sumSq / n - mean * mean : NaN;

  const hist: Array<{ rating: number; count: number }> = [];
  for (let code = 0; code < 256; code++) if (histogram[code] > 0) hist.push({ rating: code * 0.5, count: histogram[code] });

  let firstDay = Infinity;
  let lastDay = -Infinity;
  if (matrix.userDays) {
    for (const d of matrix.userDays) {
      if (d < firstDay) firstDay = d;
      if (d > lastDay) lastDay = d;
    }
  }
  const dayToIso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);

  const movieCounts = new Int32Array(matrix.nMovies);
  for (let m = 0; m < matrix.nMovies; m++) movieCounts[m] = matrix.movieCount(m);
  const userCounts = new Int32Array(matrix.nUsers);
  for (let u = 0; u < matrix.nUsers; u++) userCounts[u] = matrix.userCount(u);

  const order = Array.from({ length: matrix.nMovies }, (_, m) => m);
  order.sort((a, b) => movieCounts[b] - movieCounts[a] || a - b);
  const mostRated = order.slice(0, top).map((m) => {
    const id = matrix.movies.ids[m];
    const movie = catalog.get(id);
    let s = 0;
    for (let k = matrix.moviePtr[m]; k < matrix.moviePtr[m + 1]; k++) s += matrix.movieRatings[k];
    return { id, title: movie.title, year: movie.year, ratings: movieCounts[m], meanRating: (s * 0.5) / movieCounts[m] };
  });

  return {
    ratings: n,
    users: matrix.nUsers,
    movies: matrix.nMovies,
    catalogMovies: catalog.size,
    density: matrix.density(),
    meanRating: mean,
    mseOfMean,
    scale: { min: matrix.scale.min, max: matrix.scale.max, step: matrix.scale.step },
    histogram: hist,
    ratingsPerUser: distribution(userCounts),
    ratingsPerMovie: distribution(movieCounts),
    hasDates: matrix.userDays !== null,
    firstDate: matrix.userDays && n ? dayToIso(firstDay) : null,
    lastDate: matrix.userDays && n ? dayToIso(lastDay) : null,
    mostRated,
  };
}

function distribution(counts: Int32Array): { min: number; median: number; mean: number; max: number } {
  if (counts.length === 0) return { min: 0, median: 0, mean: 0, max: 0 };
  const sorted = counts.slice().sort();
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  let total = 0;
  for (const c of sorted) total += c;
  return { min: sorted[0], median, mean: total / sorted.length, max: sorted[sorted.length - 1] };
}
