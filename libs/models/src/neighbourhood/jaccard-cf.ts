import { RatingMatrix } from '@recsys/data';
import { similarity, SimilarityScorer } from '@recsys/similarity';
import { BasePredictor, IdPairs } from '../predictor';

/**
 * `jaccard-cf`: the notebook's `PredictRating`, exactly. For user u and movie m, over the
 * user's ratings of other movies i ≠ m,
 *
 *   r̂_um = Σ_i J(m, i) · r_ui / Σ_i J(m, i),   J(m, i) = |U_m ∩ U_i| / |U_m ∪ U_i|
 *
 * and the global mean μ of the training ratings when the weights sum to 0 (or the user has no
 * other rating; reported as fallback `no-neighbours`). No parameters.
 *
 * A single prediction merges the sorted rater lists of m and each i; `predictMany` groups the
 * pairs by movie and computes J(m, ·) against every movie once per movie through the by-user
 * index, which is what makes evaluation over many pairs fast.
 */
export class JaccardCfModel extends BasePredictor {
  readonly kind = 'jaccard-cf';
  readonly params = Object.freeze({});
  private scorer: SimilarityScorer | null = null;

  protected fitModel(train: RatingMatrix): void {
    this.scorer = new SimilarityScorer(train, { metric: 'jaccard', minSupport: 0 });
  }

  protected estimate(u: number, m: number): number {
    const train = this.train;
    let num = 0;
    let den = 0;
    for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) {
      const i = train.userMovies[k];
      if (i === m) continue;
      const w = similarity(train, m, i, { metric: 'jaccard' }).similarity;
      num += w * train.userRatings[k] * 0.5;
      den += w;
    }
    return den > 0 ? num / den : NaN;
  }

  /** Same values as `predict`, one similarity row per distinct movie. */
  override predictMany(pairs: IdPairs, out: Float64Array = new Float64Array(pairs.length)): Float64Array {
    const train = this.train;
    const scorer = this.scorer!;
    const n = pairs.length;
    const movieOf = new Int32Array(n);
    const userOf = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      movieOf[k] = train.movies.indexOf(pairs.movies[k]);
      userOf[k] = train.users.indexOf(pairs.users[k]);
    }
    // Order the pairs by movie so each movie's row is computed once.
    const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => movieOf[a] - movieOf[b]);
    const row = new Float64Array(train.nMovies);
    let current = -2;
    for (const k of order) {
      const m = movieOf[k];
      const u = userOf[k];
      if (m < 0 || u < 0) {
        out[k] = this.predict(pairs.users[k], pairs.movies[k]).rating;
        continue;
      }
      if (m !== current) {
        scorer.similarityRow(m, row);
        current = m;
      }
      let num = 0;
      let den = 0;
      for (let p = train.userPtr[u]; p < train.userPtr[u + 1]; p++) {
        const i = train.userMovies[p];
        if (i === m) continue;
        const w = row[i];
        num += w * train.userRatings[p] * 0.5;
        den += w;
      }
      const value = den > 0 ? num / den : this.globalMean;
      out[k] = value < train.scale.min ? train.scale.min : value > train.scale.max ? train.scale.max : value;
    }
    return out;
  }
}
