import { RatingMatrix } from '@recsys/data';
import { Baselines, fitBaselinesAls, SimilarityScorer } from '@recsys/similarity';
import { ArtifactContent, fittedArtifact, ModelArtifact, requireMetaNumber, requireSection } from '../artifact';
import { BasePredictor, FitOptions } from '../predictor';
import { checkParamBounds, KNN_BASELINE_PARAM_BOUNDS } from '../param-bounds';

export interface KnnBaselineParams {
  /** Most neighbours to use (Surprise `k`). Default 40. */
  k: number;
  /** Fewest positive-similarity neighbours; with fewer, the baseline alone (Surprise `min_k`). Default 10. */
  minK: number;
  /** Shrinkage of the pearson-baseline similarity. Default 200. */
  shrinkage: number;
  /** Least common raters for a similarity to count (Surprise `min_support`). Default 1. */
  minSupport: number;
  /** ALS baseline iterations, user and movie regularisation (defaults 10, 5, 3 as `baseline`'s; Surprise's 10, 15, 10). */
  baselineIterations: number;
  regUser: number;
  regMovie: number;
}

/**
 * Defaults chosen by the defaults sweep (docs/defaults-sweep.md; `npm run bench:defaults --
 * --model knn-baseline`) on five sets at once: k 40, minK 10, shrinkage 200, minSupport 1,
 * baselines by 10 ALS iterations with regUser 5, regMovie 3 (`baseline`'s defaults) give test
 * RMSE 0.9147 on MovieLens 100k u1..u5 (mean), 0.9843 on the Netflix Kaggle sample, 0.8284 on
 * generated heavy users, 0.7862 on the same with half stars and 0.8252 on generated 10M (held
 * out; see the doc), against `baseline`'s 0.9413 / 0.9843 / 0.8553 / 0.8166 / 0.8518. On the
 * Kaggle sample (8 movies) no user has 10 neighbours, so every prediction is the baseline's: a
 * tie, where Surprise's defaults (minK 1, shrinkage 100, regUser 15, regMovie 10; 0.9204 on
 * ML-100k, the old defaults) give 1.0743, worse than the mean (1.0417), because a single weakly
 * similar neighbour passes its whole deviation on.
 */
export const KNN_BASELINE_DEFAULTS: Readonly<KnnBaselineParams> = Object.freeze({
  k: 40,
  minK: 10,
  shrinkage: 200,
  minSupport: 1,
  baselineIterations: 10,
  regUser: 5,
  regMovie: 3,
});

/**
 * `knn-baseline`: item-based k-NN on baseline deviations (Koren 2010; Surprise's `KNNBaseline`
 * with `user_based: False` and the `pearson_baseline` similarity).
 *
 *   r̂_ui = b_ui + Σ_{j ∈ N^k_i(u)} s_ij (r_uj − b_uj) / Σ_{j ∈ N^k_i(u)} s_ij,   b_ui = μ + b_u + b_i
 *
 * where N^k_i(u) are the k movies rated by u most similar to i (by s_ij, shrunk pearson-baseline
 * over common raters), of which those with s_ij > 0 contribute. With fewer than minK such
 * neighbours the prediction is the baseline b_ui (reported as fallback `no-neighbours`); unknown
 * users or movies get μ + b_i or μ + b_u. Baselines by ALS (10 iterations, reg_u 5, reg_i 3).
 *
 * Defaults ({@link KNN_BASELINE_DEFAULTS}): k 40, min_k 10, shrinkage 200, min_support 1 (Surprise's
 * are k 40, min_k 1, shrinkage 100, reg_u 15, reg_i 10). Fit computes the full
 * movie × movie similarity matrix (Float32, nMovies² × 4 bytes: 1.26 GB at Netflix's 17,770 movies)
 * in O(Σ_u |I_u|²) through the by-user index.
 */
export class KnnBaselineModel extends BasePredictor {
  readonly kind = 'knn-baseline';
  readonly params: Readonly<KnnBaselineParams>;
  private baselines: Baselines | null = null;
  private sims: Float32Array | null = null;
  // Scratch for the per-prediction top-k selection (reused; no allocation per prediction).
  private candSim = new Float64Array(64);
  private candDev = new Float64Array(64);

  constructor(params: Partial<KnnBaselineParams> = {}) {
    super();
    const p = { ...KNN_BASELINE_DEFAULTS };
    for (const [key, value] of Object.entries(params)) if (value !== undefined) (p as Record<string, unknown>)[key] = value;
    // Every parameter within its bound (param-bounds.ts).
    checkParamBounds('knn-baseline', p as unknown as Record<string, unknown>, KNN_BASELINE_PARAM_BOUNDS);
    this.params = Object.freeze(p);
  }

  protected fitModel(train: RatingMatrix, options: FitOptions): void {
    const p = this.params;
    const started = performance.now();
    const baselines = fitBaselinesAls(train, { iterations: p.baselineIterations, regUser: p.regUser, regMovie: p.regMovie });
    const nM = train.nMovies;
    const scorer = new SimilarityScorer(train, {
      metric: 'pearson-baseline',
      shrinkage: p.shrinkage,
      minSupport: p.minSupport,
      baselines,
    });
    const sims = new Float32Array(nM * nM);
    const row = new Float64Array(nM);
    for (let m = 0; m < nM; m++) {
      scorer.similarityRow(m, row);
      sims.set(row, m * nM);
      if (options.onProgress && (m + 1) % 500 === 0) {
        options.onProgress({ epoch: m + 1, epochs: nM, seconds: (performance.now() - started) / 1000 });
      }
    }
    this.baselines = baselines;
    this.sims = sims;
  }

  /** Artifact: the baselines and the similarity matrix (the training ratings by fingerprint). */
  toArtifact(): ArtifactContent {
    const b = this.baselines!;
    return fittedArtifact(this, { globalMean: b.globalMean }, { userBias: b.userBias, movieBias: b.movieBias, similarities: this.sims! });
  }

  static fromArtifact(artifact: ModelArtifact, train: RatingMatrix): KnnBaselineModel {
    const model = new KnnBaselineModel(artifact.params as Partial<KnnBaselineParams>);
    model.baselines = {
      globalMean: requireMetaNumber(artifact, 'globalMean'),
      userBias: requireSection(artifact, 'userBias', Float64Array, train.nUsers),
      movieBias: requireSection(artifact, 'movieBias', Float64Array, train.nMovies),
    };
    model.sims = requireSection(artifact, 'similarities', Float32Array, train.nMovies * train.nMovies);
    model.restore(train);
    return model;
  }

  protected override fallbackEstimate(u: number, m: number): number {
    const b = this.baselines!;
    return b.globalMean + (u >= 0 ? b.userBias[u] : 0) + (m >= 0 ? b.movieBias[m] : 0);
  }

  protected estimate(u: number, i: number): number {
    const train = this.train;
    const b = this.baselines!;
    const sims = this.sims!;
    const nM = train.nMovies;
    const start = train.userPtr[u];
    const end = train.userPtr[u + 1];
    const count = end - start;
    if (this.candSim.length < count) {
      this.candSim = new Float64Array(count * 2);
      this.candDev = new Float64Array(count * 2);
    }
    const candSim = this.candSim;
    const candDev = this.candDev;
    const mu = b.globalMean;
    const bu = b.userBias[u];
    const rowBase = i * nM;
    let n = 0;
    for (let p = start; p < end; p++) {
      const j = train.userMovies[p];
      if (j === i) continue;
      candSim[n] = sims[rowBase + j];
      candDev[n] = train.userRatings[p] * 0.5 - (mu + bu + b.movieBias[j]);
      n++;
    }
    // The k largest similarities (Surprise takes the k nearest whatever their sign, then uses
    // the positive ones). Partial selection: move the best k to the front.
    const k = Math.min(this.params.k, n);
    if (k < n) selectTopK(candSim, candDev, n, k);
    let sumSim = 0;
    let sumDev = 0;
    let actualK = 0;
    for (let c = 0; c < k; c++) {
      const s = candSim[c];
      if (s > 0) {
        sumSim += s;
        sumDev += s * candDev[c];
        actualK++;
      }
    }
    if (actualK < this.params.minK || sumSim === 0) return NaN;
    return mu + bu + b.movieBias[i] + sumDev / sumSim;
  }
}

/** Quickselect-style partition so that the k largest values of sim[0..n) come first (dev moves along). */
function selectTopK(sim: Float64Array, dev: Float64Array, n: number, k: number): void {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = sim[(lo + hi) >>> 1];
    let a = lo;
    let z = hi;
    while (a <= z) {
      while (sim[a] > pivot) a++;
      while (sim[z] < pivot) z--;
      if (a <= z) {
        let t = sim[a];
        sim[a] = sim[z];
        sim[z] = t;
        t = dev[a];
        dev[a] = dev[z];
        dev[z] = t;
        a++;
        z--;
      }
    }
    if (k - 1 <= z) hi = z;
    else if (k - 1 >= a) lo = a;
    else return;
  }
}
