import type { MatrixArrays } from '@recsys/core';
import { Baselines, fitBaselinesAls } from './baselines';
import {
  accumulateQuery,
  checkK,
  cosineScore,
  jaccardScore,
  NeighbourSelector,
  neighboursOf,
  pearsonBaselineScore,
  pearsonScore,
  queryWork,
  strideOf,
} from './similarity-kernels';

/**
 * Item–item similarity metrics. All but `jaccard` follow Surprise's definitions
 * (`surprise/similarities.pyx`), item-based, with sums over the common raters U_mn = U_m ∩ U_n:
 *
 * - `jaccard`: |U_m ∩ U_n| / |U_m ∪ U_n| (only who rated, not the values; the notebook's metric).
 * - `cosine`: Σ r_um·r_un / √(Σ r_um² · Σ r_un²).
 * - `pearson`: with means over the common raters, i.e. with n = |U_mn|, x = r_um, y = r_un:
 *   (nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)·(nΣy² − (Σy)²)); 0 when the denominator is 0.
 * - `pearson-baseline` (Koren; Surprise `pearson_baseline`): with b_ui = μ + b_u + b_i,
 *   ((n−1)/(n−1+shrinkage)) · Σ(r_um−b_um)(r_un−b_un) / √(Σ(r_um−b_um)² · Σ(r_un−b_un)²);
 *   0 when n < 2 or the denominator is 0.
 *
 * Every metric is 0 for a pair without common raters.
 */
export type SimilarityMetric = 'jaccard' | 'cosine' | 'pearson' | 'pearson-baseline';

export const SIMILARITY_METRICS: readonly SimilarityMetric[] = Object.freeze([
  'jaccard',
  'cosine',
  'pearson',
  'pearson-baseline',
]);

export interface SimilarityOptions {
  /** Default `'jaccard'`. */
  metric?: SimilarityMetric;
  /**
   * Least number of common raters for a pair to count: below it the similarity is 0 and the movie
   * is not a neighbour. Default 0, so that every other movie with at least one rating is a
   * candidate (the notebook's plain definition: `MostSimilar` ranks all other movies, those
   * without common raters with similarity 0). Surprise's KNN default is 1: pass `minSupport: 1`
   * to rank only movies sharing a rater.
   */
  minSupport?: number;
  /** Shrinkage of `pearson-baseline`. Default 100 (Surprise). */
  shrinkage?: number;
  /**
   * Baselines for `pearson-baseline`; when absent they are fitted with `fitBaselinesAls`'s
   * defaults (a full pass over the ratings ×10: pass them, or use a SimilarityScorer, when
   * asking many questions).
   */
  baselines?: Baselines;
}

export interface Neighbour {
  /** Internal movie index. */
  movie: number;
  similarity: number;
  /** Number of common raters. */
  support: number;
}

/** Options with every default applied and checked. */
export interface ResolvedSimilarityOptions {
  metric: SimilarityMetric;
  minSupport: number;
  shrinkage: number;
  /** Non-null exactly when the metric is `pearson-baseline`. */
  baselines: Baselines | null;
}

/** Apply the defaults, check the values, fit baselines when `pearson-baseline` needs them. */
export function resolveSimilarityOptions(matrix: MatrixArrays, options: SimilarityOptions = {}): ResolvedSimilarityOptions {
  const metric = options.metric ?? 'jaccard';
  if (!SIMILARITY_METRICS.includes(metric)) {
    throw new RangeError(`unknown similarity metric '${String(metric)}' (expected one of: ${SIMILARITY_METRICS.join(', ')})`);
  }
  const minSupport = options.minSupport ?? 0;
  if (!Number.isInteger(minSupport) || minSupport < 0) {
    throw new RangeError(`minSupport must be a non-negative integer, got ${minSupport}`);
  }
  const shrinkage = options.shrinkage ?? 100;
  if (!Number.isFinite(shrinkage) || shrinkage < 0) {
    throw new RangeError(`shrinkage must be a finite number ≥ 0, got ${shrinkage}`);
  }
  let baselines: Baselines | null = null;
  if (metric === 'pearson-baseline') {
    baselines = options.baselines ?? fitBaselinesAls(matrix);
    if (baselines.userBias.length !== matrix.nUsers || baselines.movieBias.length !== matrix.nMovies) {
      throw new RangeError(
        `baselines do not fit the matrix: ${baselines.userBias.length} user and ${baselines.movieBias.length} movie biases ` +
          `for ${matrix.nUsers} users and ${matrix.nMovies} movies`,
      );
    }
  }
  return { metric, minSupport, shrinkage, baselines };
}

/** Throws a RangeError unless m is an internal movie index of a matrix with nMovies movies. */
export function checkMovieIndex(m: number, nMovies: number, what = 'movie'): void {
  if (!Number.isInteger(m) || m < 0 || m >= nMovies) {
    throw new RangeError(
      `unknown internal ${what} index ${m}: the matrix has ${nMovies} movies` +
        (nMovies > 0 ? ` (indices 0..${nMovies - 1})` : ''),
    );
  }
}

/**
 * Similarity of one pair of internal movies by merging their sorted CSC columns: O(|U_m| + |U_n|).
 * The sums run over common raters in ascending user order, the same order as
 * SimilarityScorer's, so both give bit-identical values.
 *
 * @returns the similarity (0 when support < minSupport) and the support (number of common raters)
 */
export function similarity(
  matrix: MatrixArrays,
  m: number,
  n: number,
  options?: SimilarityOptions,
): { similarity: number; support: number } {
  checkMovieIndex(m, matrix.nMovies);
  checkMovieIndex(n, matrix.nMovies);
  const o = resolveSimilarityOptions(matrix, options);
  const { moviePtr, movieUsers, movieRatings } = matrix;
  let p = moviePtr[m];
  const pEnd = moviePtr[m + 1];
  let q = moviePtr[n];
  const qEnd = moviePtr[n + 1];
  let common = 0;
  let sx = 0;
  let sy = 0;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  const b = o.baselines;
  while (p < pEnd && q < qEnd) {
    const u = movieUsers[p];
    const v = movieUsers[q];
    if (u < v) p++;
    else if (u > v) q++;
    else {
      common++;
      if (b !== null) {
        const base = b.globalMean + b.userBias[u];
        const dx = movieRatings[p] * 0.5 - (base + b.movieBias[m]);
        const dy = movieRatings[q] * 0.5 - (base + b.movieBias[n]);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
      } else {
        const x = movieRatings[p];
        const y = movieRatings[q];
        sx += x;
        sy += y;
        sxy += x * y;
        sxx += x * x;
        syy += y * y;
      }
      p++;
      q++;
    }
  }
  if (common < o.minSupport) return { similarity: 0, support: common };
  let s: number;
  switch (o.metric) {
    case 'jaccard':
      s = jaccardScore(common, pEnd - moviePtr[m], qEnd - moviePtr[n]);
      break;
    case 'cosine':
      s = cosineScore(common, sxy, sxx, syy);
      break;
    case 'pearson':
      s = pearsonScore(common, sx, sy, sxy, sxx, syy);
      break;
    case 'pearson-baseline':
      s = pearsonBaselineScore(common, sxy, sxx, syy, o.shrinkage);
      break;
  }
  return { similarity: s, support: common };
}

/**
 * Answers "the k movies most similar to m" many times without allocating per query (besides the
 * result). It counts common raters and the metric's sums once through the by-user index: for each
 * user u who rated m (CSC column m) and each movie n in u's CSR row, it adds into per-movie
 * accumulators (one interleaved Float64Array, so one touch is one cache line; an Int32Array of
 * counts for jaccard), noting which movies it touched (for heavy queries, more than 2 × movies
 * accumulations, an unrolled loop skips that bookkeeping and one scan of the accumulators finds
 * them). Then it scores the touched movies and keeps the best k in a bounded heap.
 * Cost O(Σ_{u∈U_m} |I_u| + (touched movies) · log k); no per-pair set intersection, no full sort.
 * Measured (tools/bench/similarity-bench.ts, 2-core VM): about 2 ns per accumulation for jaccard
 * and 4–7 ns for the other metrics. These TypeScript kernels are the reference of SimilarityPool's
 * WebAssembly ones (assembly/similarity.ts), which it runs split over worker threads.
 *
 * Not safe for concurrent use from several threads (one scorer per worker).
 */
export class SimilarityScorer {
  readonly metric: SimilarityMetric;
  readonly minSupport: number;
  readonly shrinkage: number;
  readonly baselines: Baselines | null;

  private readonly matrix: MatrixArrays;
  /** Common raters per movie (jaccard). */
  private readonly counts: Int32Array;
  /** Interleaved per-movie sums (other metrics), strideOf(metric) slots per movie. */
  private readonly sums: Float64Array;
  /** Scores and selects from counts/sums; lists the touched movies. */
  private readonly selector: NeighbourSelector;

  constructor(matrix: MatrixArrays, options: SimilarityOptions = {}) {
    const o = resolveSimilarityOptions(matrix, options);
    this.metric = o.metric;
    this.minSupport = o.minSupport;
    this.shrinkage = o.shrinkage;
    this.baselines = o.baselines;
    this.matrix = matrix;
    const nM = matrix.nMovies;
    this.counts = new Int32Array(o.metric === 'jaccard' ? nM : 0);
    this.sums = new Float64Array(o.metric === 'jaccard' ? 0 : nM * strideOf(o.metric));
    this.selector = new NeighbourSelector(matrix.moviePtr, nM, this.counts, this.sums, new Int32Array(nM));
  }

  /** The k movies most similar to internal movie m, sorted by (similarity desc, external id desc). */
  mostSimilar(m: number, k: number): Neighbour[] {
    const n = this.select(m, k);
    return neighboursOf(this.selector, n);
  }

  /**
   * Like mostSimilar, but writes into caller arrays at `offset` (no objects): for the index build.
   * @returns the number of neighbours written (≤ k)
   */
  mostSimilarInto(
    m: number,
    k: number,
    movies: Int32Array,
    similarities: Float32Array | Float64Array,
    supports: Int32Array,
    offset: number,
  ): number {
    const n = this.select(m, k);
    const s = this.selector;
    for (let j = 0; j < n; j++) {
      movies[offset + j] = s.movies[j];
      similarities[offset + j] = s.similarities[j];
      supports[offset + j] = s.supports[j];
    }
    return n;
  }

  /**
   * The similarity of m to every movie, into `row` (length ≥ nMovies): row[n] = similarity(m, n),
   * 0 when n has fewer than minSupport common raters, and row[m] = 0 (a movie is not its own
   * neighbour). One accumulation pass, O(Σ_{u∈U_m} |I_u| + nMovies): for models that weigh all
   * of a user's movies (jaccard-cf, knn-baseline).
   */
  similarityRow(m: number, row: Float64Array | Float32Array): void {
    const nM = this.matrix.nMovies;
    checkMovieIndex(m, nM);
    if (row.length < nM) throw new RangeError(`similarityRow: row has ${row.length} entries, the matrix has ${nM} movies`);
    const nTouched = this.accumulate(m);
    row.fill(0, 0, nM);
    const s = this.selector;
    const touched = s.touched;
    const minSupport = this.minSupport;
    for (let t = 0; t < nTouched; t++) {
      const n = touched[t];
      if (n === m || s.supportOf(this.metric, n) < minSupport) continue;
      row[n] = s.scoreOf(this, m, n);
    }
    s.clear(this.metric, nTouched);
  }

  /** Accumulates the query on m; returns the number of touched movies (listed in the selector's `touched`). */
  private accumulate(m: number): number {
    const { counts, sums, touched } = this.selector;
    return accumulateQuery(this.metric, this.matrix, this.baselines, m, queryWork(this.matrix, m), counts, sums, touched);
  }

  /** Runs the query; leaves the result best-first in the selector's arrays [0..n). */
  private select(m: number, k: number): number {
    checkMovieIndex(m, this.matrix.nMovies);
    checkK(k);
    const cap = Math.min(k, this.matrix.nMovies);
    if (cap === 0) return 0;
    this.selector.reserve(cap);
    return this.selector.select(this, m, cap, this.accumulate(m));
  }
}

/**
 * The k movies most similar to internal movie m, sorted by (similarity desc, external id desc),
 * i.e. the notebook's `MostSimilar(m, k)`: every other movie with at least one rating (and
 * support ≥ minSupport) is scored and the pairs (similarity, movie) are taken in descending order.
 * Allocates accumulators for one query; use a SimilarityScorer for many.
 */
export function mostSimilar(matrix: MatrixArrays, movie: number, k: number, options?: SimilarityOptions): Neighbour[] {
  checkMovieIndex(movie, matrix.nMovies);
  checkK(k);
  return new SimilarityScorer(matrix, options).mostSimilar(movie, k);
}
