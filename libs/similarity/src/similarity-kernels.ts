// One hot loop, kept together on purpose (GUIDE.md's hot-loop rules): the per-metric accumulation
// kernels, the scores and the top-k selection stay in this one file so the call sites stay
// monomorphic. Do not split it to meet the ~400-line guideline.
// The parts of a mostSimilar query shared by SimilarityScorer (one thread) and SimilarityPool: the
// accumulation kernels (the pool's light queries on the calling thread, and the plain reference of
// the pool's WebAssembly kernels in assembly/similarity.ts, which its specs compare bit for bit),
// the scores, and the top-k selection (the pool's too, after its workers' sums are merged).
// Internal to the lib (not exported from index.ts).
import type { MatrixArrays } from '@recsys/core';
import type { Baselines } from './baselines';
import type { Neighbour, SimilarityMetric } from './similarity';

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
}

// Scores from the accumulated sums. Ratings are summed as their stored codes (stars × 2):
// cosine and pearson are invariant under that scaling, and because the factors are powers of
// two the results are bit-identical to sums of stars.

export function jaccardScore(common: number, ratersM: number, ratersN: number): number {
  return common === 0 ? 0 : common / (ratersM + ratersN - common);
}

export function cosineScore(common: number, xy: number, xx: number, yy: number): number {
  if (common === 0) return 0;
  const d = Math.sqrt(xx * yy);
  return d === 0 ? 0 : xy / d;
}

export function pearsonScore(common: number, x: number, y: number, xy: number, xx: number, yy: number): number {
  if (common === 0) return 0;
  const d = Math.sqrt((common * xx - x * x) * (common * yy - y * y));
  return d === 0 ? 0 : (common * xy - x * y) / d;
}

export function pearsonBaselineScore(common: number, xy: number, xx: number, yy: number, shrinkage: number): number {
  if (common < 2) return 0;
  const d = Math.sqrt(xx * yy);
  if (d === 0) return 0;
  return (xy / d) * ((common - 1) / (common - 1 + shrinkage));
}

/** The most accumulator slots per movie of any metric (pearson's). */
export const MAX_STRIDE = 6;

/** Accumulator slots per movie: [common raters, then the metric's sums]. */
export function strideOf(metric: SimilarityMetric): number {
  switch (metric) {
    case 'jaccard':
      return 1; // jaccard counts into an Int32Array
    case 'cosine':
      return 4; // common, Σxy, Σx², Σy²
    case 'pearson':
      return 6; // common, Σx, Σy, Σxy, Σx², Σy²
    case 'pearson-baseline':
      return 4; // common, Σ dx·dy, Σ dx², Σ dy²
  }
}

/** Σ_{u∈U_m} |I_u| over the raters at CSC positions [pFrom, pTo) of m: the accumulations they cost. */
export function raterWork(matrix: MatrixArrays, pFrom: number, pTo: number): number {
  const { movieUsers, userPtr } = matrix;
  let work = 0;
  for (let p = pFrom; p < pTo; p++) {
    const u = movieUsers[p];
    work += userPtr[u + 1] - userPtr[u];
  }
  return work;
}

/** Σ_{u∈U_m} |I_u|: the number of accumulations of a query on m. */
export function queryWork(matrix: MatrixArrays, m: number): number {
  return raterWork(matrix, matrix.moviePtr[m], matrix.moviePtr[m + 1]);
}

/**
 * Adds the contributions of m's raters at CSC positions [pFrom, pTo) into the accumulators
 * (`counts` for jaccard, `sums` with strideOf(metric) slots per movie otherwise), without noting
 * which movies it touched: unrolled loops for heavy queries; find the touched movies afterwards
 * with collectTouched. The sums run over the raters in CSC (ascending user) order.
 */
export function accumulateDense(
  metric: SimilarityMetric,
  matrix: MatrixArrays,
  baselines: Baselines | null,
  m: number,
  pFrom: number,
  pTo: number,
  counts: Int32Array,
  sums: Float64Array,
): void {
  switch (metric) {
    case 'jaccard':
      accumulateJaccardDense(matrix, pFrom, pTo, counts);
      break;
    case 'cosine':
      accumulateCosineDense(matrix, pFrom, pTo, sums);
      break;
    case 'pearson':
      accumulatePearsonDense(matrix, pFrom, pTo, sums);
      break;
    case 'pearson-baseline':
      accumulatePearsonBaselineDense(matrix, baselines!, m, pFrom, pTo, sums);
      break;
  }
}

/**
 * Adds the contributions of all of m's raters into the accumulators, listing each movie it
 * touches (first contribution) in `touched`, for light queries. Same sums in the same order as
 * accumulateDense.
 * @returns the number of touched movies
 */
export function accumulateSparse(
  metric: SimilarityMetric,
  matrix: MatrixArrays,
  baselines: Baselines | null,
  m: number,
  counts: Int32Array,
  sums: Float64Array,
  touched: Int32Array,
): number {
  switch (metric) {
    case 'jaccard':
      return accumulateJaccard(matrix, m, counts, touched);
    case 'cosine':
      return accumulateCosine(matrix, m, sums, touched);
    case 'pearson':
      return accumulatePearson(matrix, m, sums, touched);
    case 'pearson-baseline':
      return accumulatePearsonBaseline(matrix, baselines!, m, sums, touched);
  }
}

/**
 * Accumulates a whole query on m (whose cost Σ_{u∈U_m} |I_u| is `work`) and lists the touched
 * movies in `touched`. Two kernels per metric, same sums in the same order: a light query records
 * the movies it touches as it goes; a heavy one (more accumulations than 2 × movies) runs an
 * unrolled loop without that branch and finds the touched movies by one scan afterwards.
 * @returns the number of touched movies
 */
export function accumulateQuery(
  metric: SimilarityMetric,
  matrix: MatrixArrays,
  baselines: Baselines | null,
  m: number,
  work: number,
  counts: Int32Array,
  sums: Float64Array,
  touched: Int32Array,
): number {
  const nM = matrix.nMovies;
  if (work <= 2 * nM) return accumulateSparse(metric, matrix, baselines, m, counts, sums, touched);
  accumulateDense(metric, matrix, baselines, m, matrix.moviePtr[m], matrix.moviePtr[m + 1], counts, sums);
  return metric === 'jaccard' ? collectTouched(counts, 1, nM, touched) : collectTouched(sums, strideOf(metric), nM, touched);
}

/** Lists in `touched` the movies whose accumulator (slot 0 of each stride) is non-zero. */
export function collectTouched(accumulators: Int32Array | Float64Array, stride: number, nMovies: number, touched: Int32Array): number {
  let nt = 0;
  for (let n = 0; n < nMovies; n++) if (accumulators[n * stride] !== 0) touched[nt++] = n;
  return nt;
}

function accumulateJaccardDense(matrix: MatrixArrays, pFrom: number, pTo: number, counts: Int32Array): void {
  const { movieUsers, userPtr, userMovies } = matrix;
  const end = pTo | 0;
  for (let p = pFrom | 0; p < end; p++) {
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
}

function accumulateCosineDense(matrix: MatrixArrays, pFrom: number, pTo: number, sums: Float64Array): void {
  const { movieUsers, movieRatings, userPtr, userMovies, userRatings } = matrix;
  const end = pTo | 0;
  for (let p = pFrom | 0; p < end; p++) {
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
}

function accumulatePearsonDense(matrix: MatrixArrays, pFrom: number, pTo: number, sums: Float64Array): void {
  const { movieUsers, movieRatings, userPtr, userMovies, userRatings } = matrix;
  const end = pTo | 0;
  for (let p = pFrom | 0; p < end; p++) {
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
}

function accumulatePearsonBaselineDense(
  matrix: MatrixArrays,
  baselines: Baselines,
  m: number,
  pFrom: number,
  pTo: number,
  sums: Float64Array,
): void {
  const { movieUsers, movieRatings, userPtr, userMovies, userRatings } = matrix;
  const { globalMean, userBias, movieBias } = baselines;
  const biasM = movieBias[m];
  const end = pTo | 0;
  for (let p = pFrom | 0; p < end; p++) {
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
}

function accumulateJaccard(matrix: MatrixArrays, m: number, counts: Int32Array, touched: Int32Array): number {
  const { moviePtr, movieUsers, userPtr, userMovies } = matrix;
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

function accumulateCosine(matrix: MatrixArrays, m: number, sums: Float64Array, touched: Int32Array): number {
  const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = matrix;
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

function accumulatePearson(matrix: MatrixArrays, m: number, sums: Float64Array, touched: Int32Array): number {
  const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = matrix;
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

function accumulatePearsonBaseline(matrix: MatrixArrays, baselines: Baselines, m: number, sums: Float64Array, touched: Int32Array): number {
  const { moviePtr, movieUsers, movieRatings, userPtr, userMovies, userRatings } = matrix;
  const { globalMean, userBias, movieBias } = baselines;
  const biasM = movieBias[m];
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

/** What scoring needs besides the accumulators. */
export interface ScoringParams {
  readonly metric: SimilarityMetric;
  readonly minSupport: number;
  readonly shrinkage: number;
}

/**
 * Scores accumulated sums and keeps the best k: owns a bounded heap and works on accumulators it
 * is given once (`counts` for jaccard, `sums` for the others: they may alias one buffer, since
 * one query uses one of them and every query leaves them zeroed). After `select` the result is
 * best-first in `movies`/`similarities`/`supports`[0..n).
 */
export class NeighbourSelector {
  /** After select: result movies, similarities and supports, best first. */
  movies: Int32Array = new Int32Array(16);
  similarities: Float64Array = new Float64Array(16);
  supports: Int32Array = new Int32Array(16);

  constructor(
    private readonly moviePtr: Uint32Array,
    private readonly nMovies: number,
    readonly counts: Int32Array,
    readonly sums: Float64Array,
    readonly touched: Int32Array,
  ) {}

  /** Room for a result of `cap` neighbours. */
  reserve(cap: number): void {
    if (this.similarities.length < cap) {
      this.similarities = new Float64Array(cap);
      this.movies = new Int32Array(cap);
      this.supports = new Int32Array(cap);
    }
  }

  /**
   * Scores the `nTouched` movies listed in `touched` (every other, untouched movie with a rating
   * is a candidate with similarity 0 when minSupport is 0), keeps the best `cap` (≥ 1, reserved)
   * by (similarity desc, movie desc), reads their supports, then zeroes the accumulators.
   * @returns the number of neighbours (≤ cap)
   */
  select(p: ScoringParams, m: number, cap: number, nTouched: number): number {
    const size = this.scoreTouched(p, m, cap, nTouched);
    const filled = p.minSupport === 0 ? this.offerUntouched(p.metric, m, cap, size) : size;
    // Supports, read before the accumulators are cleared (untouched movies have support 0).
    const n = this.drain(filled);
    for (let j = 0; j < n; j++) this.supports[j] = this.supportOf(p.metric, this.movies[j]);
    this.clear(p.metric, nTouched);
    return n;
  }

  /** Common raters of m and n in the accumulators. */
  supportOf(metric: SimilarityMetric, n: number): number {
    return metric === 'jaccard' ? this.counts[n] : this.sums[n * strideOf(metric)];
  }

  /** Similarity of m and touched movie n from the accumulators (support ≥ minSupport checked by the caller). */
  scoreOf(p: ScoringParams, m: number, n: number): number {
    if (p.metric === 'jaccard') {
      const moviePtr = this.moviePtr;
      return jaccardScore(this.counts[n], moviePtr[m + 1] - moviePtr[m], moviePtr[n + 1] - moviePtr[n]);
    }
    const sums = this.sums;
    const b = n * strideOf(p.metric);
    const c = sums[b];
    if (p.metric === 'cosine') return cosineScore(c, sums[b + 1], sums[b + 2], sums[b + 3]);
    if (p.metric === 'pearson') return pearsonScore(c, sums[b + 1], sums[b + 2], sums[b + 3], sums[b + 4], sums[b + 5]);
    return pearsonBaselineScore(c, sums[b + 1], sums[b + 2], sums[b + 3], p.shrinkage);
  }

  /** Zeroes the accumulators of the `nTouched` movies listed in `touched`. */
  clear(metric: SimilarityMetric, nTouched: number): void {
    const touched = this.touched;
    if (metric === 'jaccard') {
      const counts = this.counts;
      for (let t = 0; t < nTouched; t++) counts[touched[t]] = 0;
      return;
    }
    const sums = this.sums;
    const stride = strideOf(metric);
    for (let t = 0; t < nTouched; t++) {
      const b = touched[t] * stride;
      sums.fill(0, b, b + stride);
    }
  }

  /** Scores every touched movie (except m) with support ≥ minSupport into the heap. */
  private scoreTouched(p: ScoringParams, m: number, cap: number, nTouched: number): number {
    const touched = this.touched;
    const minSupport = p.minSupport;
    const moviePtr = this.moviePtr;
    let size = 0;
    if (p.metric === 'jaccard') {
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
    const metric = p.metric;
    const stride = strideOf(metric);
    const shrinkage = p.shrinkage;
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
  private offerUntouched(metric: SimilarityMetric, m: number, cap: number, size: number): number {
    const moviePtr = this.moviePtr;
    let offered = 0;
    for (let n = this.nMovies - 1; n >= 0 && offered < cap; n--) {
      if (n === m || moviePtr[n + 1] === moviePtr[n] || this.supportOf(metric, n) !== 0) continue;
      if (size === cap) {
        const ws = this.similarities[0];
        if (ws > 0 || (ws === 0 && this.movies[0] > n)) break;
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
    const sims = this.similarities;
    const movies = this.movies;
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
    const sims = this.similarities;
    const movies = this.movies;
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
    const sims = this.similarities;
    const movies = this.movies;
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
}

/** The selector's first n results as objects. */
export function neighboursOf(selector: NeighbourSelector, n: number): Neighbour[] {
  const out: Neighbour[] = new Array(n);
  for (let j = 0; j < n; j++) {
    out[j] = { movie: selector.movies[j], similarity: selector.similarities[j], support: selector.supports[j] };
  }
  return out;
}

