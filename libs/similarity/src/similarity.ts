import { Baselines, fitBaselinesAls } from './baselines';
import type { RatingArrays } from './rating-arrays';

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
export function resolveSimilarityOptions(matrix: RatingArrays, options: SimilarityOptions = {}): ResolvedSimilarityOptions {
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

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
}

// Scores from the accumulated sums. Ratings are summed as their stored codes (stars × 2):
// cosine and pearson are invariant under that scaling, and because the factors are powers of
// two the results are bit-identical to sums of stars.

function jaccardScore(common: number, ratersM: number, ratersN: number): number {
  return common === 0 ? 0 : common / (ratersM + ratersN - common);
}

function cosineScore(common: number, xy: number, xx: number, yy: number): number {
  if (common === 0) return 0;
  const d = Math.sqrt(xx * yy);
  return d === 0 ? 0 : xy / d;
}

function pearsonScore(common: number, x: number, y: number, xy: number, xx: number, yy: number): number {
  if (common === 0) return 0;
  const d = Math.sqrt((common * xx - x * x) * (common * yy - y * y));
  return d === 0 ? 0 : (common * xy - x * y) / d;
}

function pearsonBaselineScore(common: number, xy: number, xx: number, yy: number, shrinkage: number): number {
  if (common < 2) return 0;
  const d = Math.sqrt(xx * yy);
  if (d === 0) return 0;
  return (xy / d) * ((common - 1) / (common - 1 + shrinkage));
}

/**
 * Similarity of one pair of internal movies by merging their sorted CSC columns: O(|U_m| + |U_n|).
 * The sums run over common raters in ascending user order, the same order as
 * SimilarityScorer's, so both give bit-identical values.
 *
 * @returns the similarity (0 when support < minSupport) and the support (number of common raters)
 */
export function similarity(
  matrix: RatingArrays,
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

/** Accumulator slots per movie: [common raters, then the metric's sums]. */
function strideOf(metric: SimilarityMetric): number {
  switch (metric) {
    case 'jaccard':
      return 1; // unused: jaccard counts into an Int32Array
    case 'cosine':
      return 4; // common, Σxy, Σx², Σy²
    case 'pearson':
      return 6; // common, Σx, Σy, Σxy, Σx², Σy²
    case 'pearson-baseline':
      return 4; // common, Σ dx·dy, Σ dx², Σ dy²
  }
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
 * and 4–7 ns for the other metrics.
 *
 * Not safe for concurrent use from several threads (one scorer per worker).
 */
export class SimilarityScorer {
  readonly metric: SimilarityMetric;
  readonly minSupport: number;
  readonly shrinkage: number;
  readonly baselines: Baselines | null;

  private readonly matrix: RatingArrays;
  /** Common raters per movie (jaccard). */
  private readonly counts: Int32Array;
  /** Interleaved per-movie sums (other metrics), `stride` slots per movie. */
  private readonly sums: Float64Array;
  private readonly stride: number;
  /** Movies with at least one common rater in the current query. */
  private readonly touched: Int32Array;
  private heapSims: Float64Array = new Float64Array(16);
  private heapMovies: Int32Array = new Int32Array(16);
  /** Supports of the sorted result. */
  private outSupports: Int32Array = new Int32Array(16);

  constructor(matrix: RatingArrays, options: SimilarityOptions = {}) {
    const o = resolveSimilarityOptions(matrix, options);
    this.metric = o.metric;
    this.minSupport = o.minSupport;
    this.shrinkage = o.shrinkage;
    this.baselines = o.baselines;
    this.matrix = matrix;
    const nM = matrix.nMovies;
    this.stride = strideOf(o.metric);
    this.counts = new Int32Array(o.metric === 'jaccard' ? nM : 0);
    this.sums = new Float64Array(o.metric === 'jaccard' ? 0 : nM * this.stride);
    this.touched = new Int32Array(nM);
  }

  /** The k movies most similar to internal movie m, sorted by (similarity desc, external id desc). */
  mostSimilar(m: number, k: number): Neighbour[] {
    const n = this.select(m, k);
    const out: Neighbour[] = new Array(n);
    for (let j = 0; j < n; j++) {
      out[j] = { movie: this.heapMovies[j], similarity: this.heapSims[j], support: this.outSupports[j] };
    }
    return out;
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
    for (let j = 0; j < n; j++) {
      movies[offset + j] = this.heapMovies[j];
      similarities[offset + j] = this.heapSims[j];
      supports[offset + j] = this.outSupports[j];
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
    const touched = this.touched;
    const minSupport = this.minSupport;
    for (let t = 0; t < nTouched; t++) {
      const n = touched[t];
      if (n === m || this.supportOf(n) < minSupport) continue;
      row[n] = this.scoreOf(m, n);
    }
    this.clear(nTouched);
  }

  /** Similarity of m and touched movie n from the accumulators (support ≥ minSupport checked by the caller). */
  private scoreOf(m: number, n: number): number {
    if (this.metric === 'jaccard') {
      const moviePtr = this.matrix.moviePtr;
      return jaccardScore(this.counts[n], moviePtr[m + 1] - moviePtr[m], moviePtr[n + 1] - moviePtr[n]);
    }
    const sums = this.sums;
    const b = n * this.stride;
    const c = sums[b];
    if (this.metric === 'cosine') return cosineScore(c, sums[b + 1], sums[b + 2], sums[b + 3]);
    if (this.metric === 'pearson') return pearsonScore(c, sums[b + 1], sums[b + 2], sums[b + 3], sums[b + 4], sums[b + 5]);
    return pearsonBaselineScore(c, sums[b + 1], sums[b + 2], sums[b + 3], this.shrinkage);
  }

  /** Accumulates the query on m; returns the number of touched movies (listed in `touched`). */
  private accumulate(m: number): number {
    // Two kernels per metric, same sums in the same order: a light query records the movies it
    // touches as it goes; a heavy one (more accumulations than 2 × movies) runs an unrolled loop
    // without that branch and finds the touched movies by one scan of the accumulators afterwards.
    const dense = this.queryWork(m) > 2 * this.matrix.nMovies;
    let nTouched: number;
    switch (this.metric) {
      case 'jaccard':
        nTouched = dense ? this.accumulateJaccardDense(m) : this.accumulateJaccard(m);
        break;
      case 'cosine':
        nTouched = dense ? this.accumulateCosineDense(m) : this.accumulateCosine(m);
        break;
      case 'pearson':
        nTouched = dense ? this.accumulatePearsonDense(m) : this.accumulatePearson(m);
        break;
      case 'pearson-baseline':
        nTouched = dense ? this.accumulatePearsonBaselineDense(m) : this.accumulatePearsonBaseline(m);
        break;
    }

    return nTouched;
  }

  /** Runs the query; leaves the result best-first in heapMovies/heapSims/outSupports[0..n). */
  private select(m: number, k: number): number {
    const matrix = this.matrix;
    checkMovieIndex(m, matrix.nMovies);
    checkK(k);
    const cap = Math.min(k, matrix.nMovies);
    if (this.heapSims.length < cap) {
      this.heapSims = new Float64Array(cap);
      this.heapMovies = new Int32Array(cap);
      this.outSupports = new Int32Array(cap);
    }
    if (cap === 0) return 0;

    const nTouched = this.accumulate(m);

    const size = this.scoreTouched(m, cap, nTouched);
    const filled = this.minSupport === 0 ? this.offerUntouched(m, cap, size) : size;
    // Supports, read before the accumulators are cleared (untouched movies have support 0).
    const n = this.drain(filled);
    for (let j = 0; j < n; j++) this.outSupports[j] = this.supportOf(this.heapMovies[j]);
    this.clear(nTouched);
    return n;
  }

  private supportOf(n: number): number {
    return this.metric === 'jaccard' ? this.counts[n] : this.sums[n * this.stride];
  }

  /** Σ_{u∈U_m} |I_u|: the number of accumulations of a query on m. */
  private queryWork(m: number): number {
    const { moviePtr, movieUsers, userPtr } = this.matrix;
    let work = 0;
    const end = moviePtr[m + 1];
    for (let p = moviePtr[m]; p < end; p++) {
      const u = movieUsers[p];
      work += userPtr[u + 1] - userPtr[u];
    }
    return work;
  }

  /** Lists the movies whose accumulator (slot 0 of each stride) is non-zero. */
  private collectTouched(accumulators: Int32Array | Float64Array, stride: number): number {
    const touched = this.touched;
    const nM = this.matrix.nMovies;
    let nt = 0;
    for (let n = 0; n < nM; n++) if (accumulators[n * stride] !== 0) touched[nt++] = n;
    return nt;
  }

  private accumulateJaccardDense(m: number): number {
    const { moviePtr, movieUsers, userPtr, userMovies } = this.matrix;
    const counts = this.counts;
    const end = moviePtr[m + 1] | 0;
    for (let p = moviePtr[m] | 0; p < end; p++) {
      const u = movieUsers[p];
      const rowEnd = userPtr[u + 1] | 0;
      let q = userPtr[u] | 0;
      for (; q + 3 < rowEnd; q += 4) {
        const a = userMovies[q];
        const b = userMovies[q + 1];
        const c = userMovies[q + 2];
        const d = userMovies[q + 3];
        counts[a]++;
        counts[b]++;
        counts[c]++;
        counts[d]++;
      }
      for (; q < rowEnd; q++) counts[userMovies[q]]++;
    }
    return this.collectTouched(counts, 1);
  }

  private accumulateCosineDense(m: number): number {
    const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = this.matrix;
    const sums = this.sums;
    const end = moviePtr[m + 1] | 0;
    for (let p = moviePtr[m] | 0; p < end; p++) {
      const u = movieUsers[p];
      const x = movieRatings[p];
      const xx = x * x;
      const rowEnd = userPtr[u + 1] | 0;
      let q = userPtr[u] | 0;
      for (; q + 1 < rowEnd; q += 2) {
        let b = userMovies[q] << 2;
        let y = userRatings[q];
        sums[b]++;
        sums[b + 1] += x * y;
        sums[b + 2] += xx;
        sums[b + 3] += y * y;
        b = userMovies[q + 1] << 2;
        y = userRatings[q + 1];
        sums[b]++;
        sums[b + 1] += x * y;
        sums[b + 2] += xx;
        sums[b + 3] += y * y;
      }
      if (q < rowEnd) {
        const b = userMovies[q] << 2;
        const y = userRatings[q];
        sums[b]++;
        sums[b + 1] += x * y;
        sums[b + 2] += xx;
        sums[b + 3] += y * y;
      }
    }
    return this.collectTouched(sums, 4);
  }

  private accumulatePearsonDense(m: number): number {
    const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = this.matrix;
    const sums = this.sums;
    const end = moviePtr[m + 1] | 0;
    for (let p = moviePtr[m] | 0; p < end; p++) {
      const u = movieUsers[p];
      const x = movieRatings[p];
      const xx = x * x;
      const rowEnd = userPtr[u + 1] | 0;
      let q = userPtr[u] | 0;
      for (; q + 1 < rowEnd; q += 2) {
        let b = userMovies[q] * 6;
        let y = userRatings[q];
        sums[b]++;
        sums[b + 1] += x;
        sums[b + 2] += y;
        sums[b + 3] += x * y;
        sums[b + 4] += xx;
        sums[b + 5] += y * y;
        b = userMovies[q + 1] * 6;
        y = userRatings[q + 1];
        sums[b]++;
        sums[b + 1] += x;
        sums[b + 2] += y;
        sums[b + 3] += x * y;
        sums[b + 4] += xx;
        sums[b + 5] += y * y;
      }
      if (q < rowEnd) {
        const b = userMovies[q] * 6;
        const y = userRatings[q];
        sums[b]++;
        sums[b + 1] += x;
        sums[b + 2] += y;
        sums[b + 3] += x * y;
        sums[b + 4] += xx;
        sums[b + 5] += y * y;
      }
    }
    return this.collectTouched(sums, 6);
  }

  private accumulatePearsonBaselineDense(m: number): number {
    const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = this.matrix;
    const { globalMean, userBias, movieBias } = this.baselines!;
    const biasM = movieBias[m];
    const sums = this.sums;
    const end = moviePtr[m + 1] | 0;
    for (let p = moviePtr[m] | 0; p < end; p++) {
      const u = movieUsers[p];
      const base = globalMean + userBias[u];
      const dx = movieRatings[p] * 0.5 - (base + biasM);
      const dxx = dx * dx;
      const rowEnd = userPtr[u + 1] | 0;
      let q = userPtr[u] | 0;
      for (; q + 1 < rowEnd; q += 2) {
        let n = userMovies[q];
        let dy = userRatings[q] * 0.5 - (base + movieBias[n]);
        let b = n << 2;
        sums[b]++;
        sums[b + 1] += dx * dy;
        sums[b + 2] += dxx;
        sums[b + 3] += dy * dy;
        n = userMovies[q + 1];
        dy = userRatings[q + 1] * 0.5 - (base + movieBias[n]);
        b = n << 2;
        sums[b]++;
        sums[b + 1] += dx * dy;
        sums[b + 2] += dxx;
        sums[b + 3] += dy * dy;
      }
      if (q < rowEnd) {
        const n = userMovies[q];
        const dy = userRatings[q] * 0.5 - (base + movieBias[n]);
        const b = n << 2;
        sums[b]++;
        sums[b + 1] += dx * dy;
        sums[b + 2] += dxx;
        sums[b + 3] += dy * dy;
      }
    }
    return this.collectTouched(sums, 4);
  }

  private accumulateJaccard(m: number): number {
    const { moviePtr, movieUsers, userPtr, userMovies } = this.matrix;
    const counts = this.counts;
    const touched = this.touched;
    let nt = 0;
    const end = moviePtr[m + 1];
    for (let p = moviePtr[m]; p < end; p++) {
      const u = movieUsers[p];
      const rowEnd = userPtr[u + 1];
      for (let q = userPtr[u]; q < rowEnd; q++) {
        const n = userMovies[q];
        if (counts[n]++ === 0) touched[nt++] = n;
      }
    }
    return nt;
  }

  private accumulateCosine(m: number): number {
    const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = this.matrix;
    const sums = this.sums;
    const touched = this.touched;
    let nt = 0;
    const end = moviePtr[m + 1];
    for (let p = moviePtr[m]; p < end; p++) {
      const u = movieUsers[p];
      const x = movieRatings[p];
      const xx = x * x;
      const rowEnd = userPtr[u + 1];
      for (let q = userPtr[u]; q < rowEnd; q++) {
        const n = userMovies[q];
        const y = userRatings[q];
        const b = n << 2;
        const c = sums[b];
        if (c === 0) touched[nt++] = n;
        sums[b] = c + 1;
        sums[b + 1] += x * y;
        sums[b + 2] += xx;
        sums[b + 3] += y * y;
      }
    }
    return nt;
  }

  private accumulatePearson(m: number): number {
    const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = this.matrix;
    const sums = this.sums;
    const touched = this.touched;
    let nt = 0;
    const end = moviePtr[m + 1];
    for (let p = moviePtr[m]; p < end; p++) {
      const u = movieUsers[p];
      const x = movieRatings[p];
      const xx = x * x;
      const rowEnd = userPtr[u + 1];
      for (let q = userPtr[u]; q < rowEnd; q++) {
        const n = userMovies[q];
        const y = userRatings[q];
        const b = n * 6;
        const c = sums[b];
        if (c === 0) touched[nt++] = n;
        sums[b] = c + 1;
        sums[b + 1] += x;
        sums[b + 2] += y;
        sums[b + 3] += x * y;
        sums[b + 4] += xx;
        sums[b + 5] += y * y;
      }
    }
    return nt;
  }

  private accumulatePearsonBaseline(m: number): number {
    const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = this.matrix;
    const { globalMean, userBias, movieBias } = this.baselines!;
    const biasM = movieBias[m];
    const sums = this.sums;
    const touched = this.touched;
    let nt = 0;
    const end = moviePtr[m + 1];
    for (let p = moviePtr[m]; p < end; p++) {
      const u = movieUsers[p];
      // Same association as Surprise: r − ((μ + b_u) + b_i).
      const base = globalMean + userBias[u];
      const dx = movieRatings[p] * 0.5 - (base + biasM);
      const dxx = dx * dx;
      const rowEnd = userPtr[u + 1];
      for (let q = userPtr[u]; q < rowEnd; q++) {
        const n = userMovies[q];
        const dy = userRatings[q] * 0.5 - (base + movieBias[n]);
        const b = n << 2;
        const c = sums[b];
        if (c === 0) touched[nt++] = n;
        sums[b] = c + 1;
        sums[b + 1] += dx * dy;
        sums[b + 2] += dxx;
        sums[b + 3] += dy * dy;
      }
    }
    return nt;
  }

  /** Scores every touched movie (except m) with support ≥ minSupport into the heap. */
  private scoreTouched(m: number, cap: number, nTouched: number): number {
    const touched = this.touched;
    const minSupport = this.minSupport;
    const moviePtr = this.matrix.moviePtr;
    let size = 0;
    if (this.metric === 'jaccard') {
      const counts = this.counts;
      const ratersM = moviePtr[m + 1] - moviePtr[m];
      for (let t = 0; t < nTouched; t++) {
        const n = touched[t];
        if (n === m) continue;
        const c = counts[n];
        if (c < minSupport) continue;
        size = this.offer(size, cap, jaccardScore(c, ratersM, moviePtr[n + 1] - moviePtr[n]), n);
      }
      return size;
    }
    const sums = this.sums;
    const stride = this.stride;
    const metric = this.metric;
    const shrinkage = this.shrinkage;
    for (let t = 0; t < nTouched; t++) {
      const n = touched[t];
      if (n === m) continue;
      const b = n * stride;
      const c = sums[b];
      if (c < minSupport) continue;
      let s: number;
      if (metric === 'cosine') s = cosineScore(c, sums[b + 1], sums[b + 2], sums[b + 3]);
      else if (metric === 'pearson') s = pearsonScore(c, sums[b + 1], sums[b + 2], sums[b + 3], sums[b + 4], sums[b + 5]);
      else s = pearsonBaselineScore(c, sums[b + 1], sums[b + 2], sums[b + 3], shrinkage);
      size = this.offer(size, cap, s, n);
    }
    return size;
  }

  /**
   * With minSupport 0, movies without common raters are candidates too, all with similarity 0,
   * so among them larger ids rank first: walk ids downwards and offer at most `cap` of them
   * (any further one ranks below all of those), stopping early once the heap's worst beats (0, n).
   */
  private offerUntouched(m: number, cap: number, size: number): number {
    const moviePtr = this.matrix.moviePtr;
    let offered = 0;
    for (let n = this.matrix.nMovies - 1; n >= 0 && offered < cap; n--) {
      if (n === m || moviePtr[n + 1] === moviePtr[n] || this.supportOf(n) !== 0) continue;
      if (size === cap) {
        const ws = this.heapSims[0];
        if (ws > 0 || (ws === 0 && this.heapMovies[0] > n)) break;
      }
      size = this.offer(size, cap, 0, n);
      offered++;
    }
    return size;
  }

  /**
   * Bounded min-heap on (similarity, movie): the root is the worst kept pair. A pair ranks above
   * another when its similarity is larger, or equal with a larger movie index (= larger external id).
   */
  private offer(size: number, cap: number, s: number, n: number): number {
    const sims = this.heapSims;
    const movies = this.heapMovies;
    if (size < cap) {
      // Sift up.
      let i = size;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const ps = sims[parent];
        if (ps < s || (ps === s && movies[parent] < n)) break;
        sims[i] = ps;
        movies[i] = movies[parent];
        i = parent;
      }
      sims[i] = s;
      movies[i] = n;
      return size + 1;
    }
    const ws = sims[0];
    if (s < ws || (s === ws && n < movies[0])) return size;
    this.siftDown(0, size, s, n);
    return size;
  }

  /** Places (s, n) at hole i and sifts it down within heap[0..size). */
  private siftDown(i: number, size: number, s: number, n: number): void {
    const sims = this.heapSims;
    const movies = this.heapMovies;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size) {
        const cs = sims[child];
        const rs = sims[right];
        if (rs < cs || (rs === cs && movies[right] < movies[child])) child = right;
      }
      const cs = sims[child];
      if (s < cs || (s === cs && n < movies[child])) break;
      sims[i] = cs;
      movies[i] = movies[child];
      i = child;
    }
    sims[i] = s;
    movies[i] = n;
  }

  /** Heap sort in place: repeatedly moves the worst to the end, leaving the array best-first. */
  private drain(size: number): number {
    const sims = this.heapSims;
    const movies = this.heapMovies;
    for (let end = size - 1; end > 0; end--) {
      const ws = sims[0];
      const wm = movies[0];
      const s = sims[end];
      const n = movies[end];
      this.siftDown(0, end, s, n);
      sims[end] = ws;
      movies[end] = wm;
    }
    return size;
  }

  private clear(nTouched: number): void {
    const touched = this.touched;
    if (this.metric === 'jaccard') {
      const counts = this.counts;
      for (let t = 0; t < nTouched; t++) counts[touched[t]] = 0;
      return;
    }
    const sums = this.sums;
    const stride = this.stride;
    for (let t = 0; t < nTouched; t++) {
      const b = touched[t] * stride;
      sums.fill(0, b, b + stride);
    }
  }
}

/**
 * The k movies most similar to internal movie m, sorted by (similarity desc, external id desc),
 * i.e. the notebook's `MostSimilar(m, k)`: every other movie with at least one rating (and
 * support ≥ minSupport) is scored and the pairs (similarity, movie) are taken in descending order.
 * Allocates accumulators for one query; use a SimilarityScorer for many.
 */
export function mostSimilar(matrix: RatingArrays, movie: number, k: number, options?: SimilarityOptions): Neighbour[] {
  checkMovieIndex(movie, matrix.nMovies);
  checkK(k);
  return new SimilarityScorer(matrix, options).mostSimilar(movie, k);
}
