// The shared shape of the ranking models (`ease`, `ials`, `bpr`): what serving and evaluation hold
// them by. A ranking model scores movies for a user's list; its scores are not ratings.
import type { RatingMatrix } from '@recsys/data';
import type { ArtifactContent } from '../artifact';
import { BasePredictor, Recommendation } from '../predictor';
import { topN } from '../top-n';

/** One interaction of a user with a movie, as serving hands it to fold-in: a rating, a count or 1. */
export interface Interaction {
  readonly movieId: number;
  /** The stored value: a rating for rating data, a count or weight for interaction data. */
  readonly weight: number;
}

/**
 * A user as a ranking model sees them, made by {@link RankingModel.foldIn} from interactions the
 * model was not necessarily trained on: the known movies (internal indices, ascending, no
 * repeats) with their weights, and, for factor models, the folded-in user vector.
 */
export interface RankingUser {
  /** Internal indices of the interacted movies the model knows, ascending and distinct. */
  readonly movies: Int32Array;
  /** The weight of each of `movies` (repeated interactions summed). */
  readonly weights: Float32Array;
  /** The user's factor vector for factor models (`ials`, `bpr`); null for item–item models (`ease`). */
  readonly vector: Float32Array | null;
  /** How many of the given interactions were of movies the model knows (0: nothing is known of the user). */
  readonly knownInteractions: number;
}

/** A movie like another by a ranking model's own weights or factors ({@link RankingModel.similar}). */
export interface ModelNeighbour {
  readonly movieId: number;
  /** The model's item–item similarity (its definition is the kind's: see each model's TSDoc). */
  readonly similarity: number;
}

/** One interacted movie's additive share of a ranking score ({@link RankingModel.explain}). */
export interface RankingContribution {
  readonly movieId: number;
  /** The interaction's weight (a rating or a count). */
  readonly weight: number;
  /** c_j: the contributions of all interacted movies sum to the folded-in user's score of the movie. */
  readonly contribution: number;
}

/** Parameters every ranking model takes for turning stored values into positive interactions. */
export interface InteractionViewParams {
  /**
   * A stored value v counts as a positive interaction when v ≥ minWeight (for rating data: the
   * ratings ≥ minWeight stars; 0, the default, keeps every rating: on MovieLens 100k "rated at
   * all" predicts held-out ≥ 4-star ratings better than "rated ≥ 4").
   */
  minWeight: number;
}

/**
 * A model whose output is a ranked list, not a rating: `recommend` reports its raw score (not
 * clipped to a rating scale), `predict` answers that score too (clipped like every prediction,
 * so RMSE means nothing for these models). Besides training and `recommend` every ranking model
 * offers, for serving:
 *
 * - {@link foldIn}: a new or updated user from their interactions, without retraining;
 * - {@link recommendFolded} / {@link scoreFolded}: that user's list and scores;
 * - {@link similar}: the movies most like a movie by the model's own weights or factors;
 * - {@link explain}: the additive split of a score over the user's interacted movies;
 * - {@link toArtifact}: save (the kind's `fromArtifact` loads).
 */
export abstract class RankingModel extends BasePredictor {
  /** Tells ranking models from rating models where only a Predictor is at hand. */
  readonly ranks = true as const;

  /** A user folded in from `interactions` (unknown movies ignored, repeats summed). */
  abstract foldIn(interactions: ReadonlyArray<Interaction>): RankingUser;

  /** The score of every movie (internal index) for a folded-in user, written into `out` (nMovies long). */
  abstract scoreFolded(user: RankingUser, out: Float64Array): void;

  /** The n movies most like `movieId` by the model, itself excluded; none for a movie the model does not know. */
  abstract similar(movieId: number, n: number): ModelNeighbour[];

  /** The n interacted movies whose shares in `movieId`'s score are largest in |c_j| (ties by movie id). */
  abstract explain(interactions: ReadonlyArray<Interaction>, movieId: number, n?: number): RankingContribution[];

  abstract toArtifact(): ArtifactContent;

  /**
   * The n best-scored movies for a folded-in user, without `excludeMovieIds` (and without the
   * user's own interacted movies when `excludeInteracted`, the default). Scores are raw.
   */
  recommendFolded(user: RankingUser, n: number, options: { excludeMovieIds?: Iterable<number>; excludeInteracted?: boolean } = {}): Recommendation[] {
    const train = this.train;
    const scores = this.scoreScratch();
    this.scoreFolded(user, scores);
    if (options.excludeInteracted ?? true) for (const m of user.movies) scores[m] = NaN;
    for (const id of options.excludeMovieIds ?? []) {
      const m = train.movies.indexOf(id);
      if (m >= 0) scores[m] = NaN;
    }
    return topN(scores, n).map((m) => ({ movieId: train.movies.ids[m], score: scores[m] }));
  }

  /** Raw scores (see the class comment): rated movies are skipped unless excludeRated is false. */
  override recommend(userId: number, n: number, options: { excludeRated?: boolean } = {}): Recommendation[] {
    const train = this.train;
    const u = train.users.indexOf(userId);
    const scores = this.scoreScratch();
    this.scoreAll(u, scores);
    if (u >= 0 && (options.excludeRated ?? true)) {
      for (let k = train.userPtr[u]; k < train.userPtr[u + 1]; k++) scores[train.userMovies[k]] = NaN;
    }
    return topN(scores, n).map((m) => ({ movieId: train.movies.ids[m], score: scores[m] }));
  }
}

/** True for a model that ranks ({@link RankingModel}); works across module copies (jest). */
export function isRankingModel(model: unknown): model is RankingModel {
  return typeof model === 'object' && model !== null && (model as { ranks?: unknown }).ranks === true;
}

/**
 * The known, distinct movies of `interactions` for `train` (internal indices ascending, weights of
 * repeats summed) and how many interactions were of known movies: the common first step of every
 * {@link RankingModel.foldIn}. Interactions whose weight is below `minWeight` are left out.
 */
export function knownInteractions(train: RatingMatrix, interactions: ReadonlyArray<Interaction>, minWeight = 0): { movies: Int32Array; weights: Float32Array; known: number } {
  const byMovie = new Map<number, number>();
  let known = 0;
  for (const { movieId, weight } of interactions) {
    if (!Number.isFinite(weight)) throw new RangeError(`interaction with movie ${movieId}: weight must be a finite number, got ${weight}`);
    const m = train.movies.indexOf(movieId);
    if (m < 0 || weight < minWeight) continue;
    known++;
    byMovie.set(m, (byMovie.get(m) ?? 0) + weight);
  }
  const movies = Int32Array.from(byMovie.keys()).sort();
  const weights = Float32Array.from(movies, (m) => byMovie.get(m) as number);
  return { movies, weights, known };
}
