import { isOnScale } from '@recsys/data';
import type { Contribution, FallbackReason, FoldedUser } from '@recsys/models';
import { badInput, notFound } from '../errors';
import type { CatalogService } from './catalog-service';
import type { ModelRegistry, ServingModel } from './model-registry';
import type { RatingStore, StoredRating } from './rating-store';

export interface PredictionView {
  userId: number;
  movieId: number;
  rating: number;
  unclipped: number;
  /** μ + b_u + b_i (the parts that are known). */
  baseline: number;
  fallbackReason: FallbackReason | null;
  /** True when the user's factors were refitted from ratings given through the API. */
  foldedIn: boolean;
  modelId: string;
}

/** A rated movie's share of a prediction: {@link LatentModel.explain}'s definition. */
export type ExplanationItem = Contribution;

/** Fold-ins kept per model (a folded user is ~1 kB at 100 factors; refitting one takes well under 1 ms). */
export const MAX_FOLD_INS = 20_000;

export interface RecommendationView {
  movieId: number;
  score: number;
  rank: number;
}

/**
 * Predictions, recommendations and explanations of the registry's active model (or a named one),
 * and new ratings. A user with API ratings newer than the model is folded in (the model's
 * `foldIn` over the user's ratings from the {@link CatalogService}, cached per model until the
 * user rates again); the maths are the model's verbs (`predictFolded`, `explain`,
 * `recommendForFactors`).
 */
export class PredictionService {
  constructor(
    readonly registry: ModelRegistry,
    readonly store: RatingStore,
    readonly catalog: CatalogService,
  ) {}

  /** The active model (the API is not ready without one). */
  get active(): ServingModel {
    return this.registry.requireActive();
  }

  /** The active model, or the one named (NOT_FOUND when unknown). */
  async model(id?: string | null): Promise<ServingModel> {
    const serving = await this.registry.serving(id);
    if (!serving) throw notFound('model', id ?? '(active)');
    return serving;
  }

  /** The user's ratings for the model: its training row merged with their newer API ratings. */
  private ratingsOf(serving: ServingModel, userId: number): Array<{ movieId: number; rating: number }> {
    return [...this.catalog.userRatingMap(serving, userId).values()].map((r) => ({ movieId: r.movieId, rating: r.rating }));
  }

  /**
   * The user folded in from their ratings when they have API ratings newer than the model (an API
   * rating replaces the training rating of the same movie), with the model's fold-in λ; cached per
   * model until the user rates again. Null otherwise (the model's own factors apply).
   */
  foldedUser(serving: ServingModel, userId: number): FoldedUser | null {
    if (this.catalog.pendingRatings(serving, userId).length === 0) return null;
    let folded = serving.foldIns.get(userId);
    if (!folded) {
      folded = serving.model.foldIn(this.ratingsOf(serving, userId));
      // A bounded cache: past MAX_FOLD_INS users the oldest fold-in is dropped (and refitted when needed).
      if (serving.foldIns.size >= MAX_FOLD_INS) serving.foldIns.delete(serving.foldIns.keys().next().value as number);
      serving.foldIns.set(userId, folded);
    }
    return folded;
  }

  predict(serving: ServingModel, userId: number, movieId: number): PredictionView {
    const p = serving.model.predictFolded(this.foldedUser(serving, userId), userId, movieId);
    return { userId, movieId, rating: p.rating, unclipped: p.unclipped, baseline: p.baseline, fallbackReason: p.fallback, foldedIn: p.foldedIn, modelId: serving.id };
  }

  /** The n rated movies that weigh most in the prediction (see {@link LatentModel.explain}). */
  explain(serving: ServingModel, userId: number, movieId: number, n: number): ExplanationItem[] {
    return serving.model.explain(this.ratingsOf(serving, userId), movieId, n);
  }

  recommend(serving: ServingModel, userId: number, n: number, excludeRated: boolean): RecommendationView[] {
    const folded = this.foldedUser(serving, userId);
    const recs = folded
      ? serving.model.recommendForFactors(folded.vector, n, excludeRated ? this.catalog.userRatingMap(serving, userId).keys() : [])
      : serving.model.recommend(userId, n, { excludeRated });
    return recs.map((r, i) => ({ movieId: r.movieId, score: r.score, rank: i + 1 }));
  }

  /**
   * Stores a rating durably, then refits the user for every loaded model at once (the next
   * prediction for the user reflects it). The movie must exist; the user may be new.
   */
  async rate(userId: number, movieId: number, rating: number): Promise<StoredRating> {
    const scale = this.catalog.scale;
    if (!isOnScale(scale, rating)) throw badInput('rating', rating, `must be on the rating scale ${scale.min}..${scale.max} in steps of ${scale.step}`);
    if (!this.catalog.movieExists(movieId)) throw notFound('movie', movieId);
    const row = await this.store.add(userId, movieId, rating);
    for (const serving of this.registry.loadedModels()) serving.foldIns.delete(userId);
    this.foldedUser(this.active, userId);
    return row;
  }
}
