import { RatingMatrix } from '@recsys/data';
import { BasePredictor, Recommendation } from '../predictor';

/**
 * `popular`: the most-popular baseline for ranking. Every user's list is the movies with the most
 * training ratings, most first (ties: smaller movie id first), minus those the user rated:
 *
 *   score(u, i) = |U_i|, the number of training ratings of movie i
 *
 * `recommend` reports that count as the score. The same for every user, so it measures how much a
 * personalised model adds over popularity. So that the model can also be scored by RMSE/MAE, its
 * rating prediction is the movie's mean training rating r̄_i (μ for an unknown movie). No parameters.
 */
export class MostPopularModel extends BasePredictor {
  readonly kind = 'popular';
  readonly params = Object.freeze({});
  private movieMeans = new Float64Array(0);

  protected fitModel(train: RatingMatrix): void {
    const means = new Float64Array(train.nMovies);
    for (let m = 0; m < train.nMovies; m++) {
      let sum = 0;
      for (let p = train.moviePtr[m]; p < train.moviePtr[m + 1]; p++) sum += train.movieRatings[p];
      means[m] = (sum * 0.5) / (train.moviePtr[m + 1] - train.moviePtr[m]);
    }
    this.movieMeans = means;
  }

  protected estimate(_u: number, m: number): number {
    return this.movieMeans[m];
  }

  protected override fallbackEstimate(_u: number, m: number): number {
    return m >= 0 ? this.movieMeans[m] : this.globalMean;
  }

  /** Every user (known or not) scores each movie by its rating count. */
  protected override scoreAll(_u: number, out: Float64Array): void {
    const ptr = this.train.moviePtr;
    for (let m = 0; m < out.length; m++) out[m] = ptr[m + 1] - ptr[m];
  }

  /** The n most-rated movies the user has not rated (unless excludeRated is false); score = rating count. */
  override recommend(userId: number, n: number, options: { excludeRated?: boolean } = {}): Recommendation[] {
    const train = this.train;
    return super.recommend(userId, n, options).map((r) => ({ movieId: r.movieId, score: train.movieCount(train.movies.indexOf(r.movieId)) }));
  }
}

/** A new, unfitted {@link MostPopularModel}. */
export function mostPopularModel(): MostPopularModel {
  return new MostPopularModel();
}
