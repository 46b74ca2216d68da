import { RatingMatrix } from '@recsys/data';
import { fingerprintMatrix, type ArtifactContent } from '../artifact';
import { topN } from '../top-n';
import { Interaction, knownInteractions, ModelNeighbour, RankingContribution, RankingModel, RankingUser } from './ranking-model';

/**
 * `popular`: the most-popular baseline for ranking, and the ranking model the API serves before
 * any other is trained. Every user's list is the movies with the most training ratings (or
 * interactions), most first (ties: smaller internal index, i.e. smaller movie id, first), minus
 * those the user has:
 *
 *   score(u, i) = |U_i|, the number of training entries of movie i
 *
 * `recommend` and `recommendFolded` report that count as the score. It is the same for every user,
 * so it measures how much a personalised model adds over popularity.
 *
 * As a {@link RankingModel}:
 * - `foldIn(interactions)` = the user's known interactions ({@link knownInteractions}, every weight
 *   counts, repeats summed), no vector: they only decide what is excluded from the list;
 * - `scoreFolded` = the counts |U_i| (the user's interactions do not change them);
 * - `similar(i, n)` = the n movies j ≠ i with the largest co-occurrence |U_i ∩ U_j| ("people who
 *   watched this also watched"; ties by smaller internal index; movies with no common user left out),
 *   similarity = that count;
 * - `explain` = [] always: the score does not depend on the user's interactions, so no interacted
 *   movie has a share in it.
 *
 * So that the model can also be scored by RMSE/MAE, its rating prediction is the movie's mean
 * training rating r̄_i (μ for an unknown movie). No parameters; the artifact holds no section (its
 * whole state is the training matrix, recounted on load).
 */
export class MostPopularModel extends RankingModel {
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

  /** The user's known interactions (every weight counts); no vector. */
  foldIn(interactions: ReadonlyArray<Interaction>): RankingUser {
    const { movies, weights, known } = knownInteractions(this.train, interactions, 0);
    return { movies, weights, vector: null, knownInteractions: known };
  }

  /** The counts |U_i|, whoever the user is. */
  scoreFolded(_user: RankingUser, out: Float64Array): void {
    this.scoreAll(-1, out);
  }

  /**
   * The n movies most often co-interacted with `movieId`: c_j = |U_i ∩ U_j| over the training
   * entries, one pass over the rows of i's users (O(Σ_{u∈U_i} |I_u|)).
   */
  similar(movieId: number, n: number): ModelNeighbour[] {
    const train = this.train;
    const i = train.movies.indexOf(movieId);
    if (i < 0 || n < 1) return [];
    const counts = new Float64Array(train.nMovies);
    for (let p = train.moviePtr[i]; p < train.moviePtr[i + 1]; p++) {
      const u = train.movieUsers[p];
      for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) counts[train.userMovies[k]]++;
    }
    for (let m = 0; m < counts.length; m++) if (counts[m] === 0) counts[m] = NaN;
    counts[i] = NaN;
    return topN(counts, n).map((m) => ({ movieId: train.movies.ids[m], similarity: counts[m] }));
  }

  /** Always empty: the score |U_i| does not depend on the user's interactions. */
  explain(_interactions: ReadonlyArray<Interaction>, _movieId: number, _n?: number): RankingContribution[] {
    return [];
  }

  /** No sections: the counts and means are recounted from the training matrix on load. */
  toArtifact(): ArtifactContent {
    const train = this.train;
    return { kind: 'popular', params: {}, history: [], fingerprint: fingerprintMatrix(train), scale: train.scale, meta: {}, sections: {} };
  }
}

/** A new, unfitted {@link MostPopularModel}. */
export function mostPopularModel(): MostPopularModel {
  return new MostPopularModel();
}
