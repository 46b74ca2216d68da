import { isOnScale, MAX_CODED_VALUE } from '@recsys/data';
import type { Contribution, FallbackReason, FoldedUser, Interaction, RankingModel, RankingUser } from '@recsys/models';
import { badInput, notFound } from '../errors';
import type { CatalogService } from './catalog-service';
import type { ModelRegistry, ServedModel, ServingModel } from './model-registry';
import type { ApiStore, StoredInteraction, StoredRating } from './store';

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

/** The largest weight of one interaction (`interact`). */
export const MAX_INTERACTION_WEIGHT = 100;

/** The largest sum of one user's API interactions with one movie: the most a training matrix holds (code 255). */
export const MAX_PAIR_INTERACTION_WEIGHT = MAX_CODED_VALUE;

/** Adds `value` to a bounded cache (past MAX_FOLD_INS users the oldest entry is dropped, and refitted when needed). */
function cache<V>(map: Map<number, V>, userId: number, value: V): V {
  if (map.size >= MAX_FOLD_INS) map.delete(map.keys().next().value as number);
  map.set(userId, value);
  return value;
}

export interface RecommendationView {
  movieId: number;
  score: number;
  rank: number;
  /** Whose list it is, and the model that made it (what its explanation needs). */
  userId: number;
  modelId: string;
}

/**
 * Predictions and explanations of the registry's active rating model (or a named one),
 * recommendation lists of its active ranking model (or a named model of either role), and new
 * ratings and interactions. A user with API ratings (or, for a ranking model, interactions) newer
 * than the model is folded in (the model's `foldIn` over the user's entries from the
 * {@link CatalogService}, cached per model until the user rates or interacts again); the maths
 * are the model's verbs (`predictFolded`, `explain`, `recommendForFactors`; for ranking models
 * `foldIn`, `recommendFolded`).
 */
export class PredictionService {
  constructor(
    readonly registry: ModelRegistry,
    readonly store: ApiStore,
    readonly catalog: CatalogService,
  ) {}

  /** The active model (the API is not ready without one). */
  get active(): ServingModel {
    return this.registry.requireActive();
  }

  /** The active ranking model. */
  get activeRanking(): ServingModel<RankingModel> {
    return this.registry.requireActiveRanking();
  }

  /** The active rating model, or the one named (NOT_FOUND when unknown; BAD_USER_INPUT when it is a ranking model). */
  async model(id?: string | null): Promise<ServingModel> {
    const serving = await this.registry.serving(id, 'rating');
    if (!serving) throw notFound('model', id ?? '(active)');
    if (serving.role !== 'rating') throw badInput('model', id, 'names a ranking model: predictions and explanations need a rating model (see activeModels)');
    return serving as ServingModel;
  }

  /** The model of recommendation lists: the active ranking model, or the one named (of either role; NOT_FOUND when unknown). */
  async listModel(id?: string | null): Promise<ServingModel<ServedModel>> {
    const serving = await this.registry.serving(id, 'ranking');
    if (!serving) throw notFound('model', id ?? '(active ranking)');
    return serving;
  }

  /** The user's ratings for the model: its training row merged with their newer API ratings. */
  private ratingsOf(serving: ServingModel<ServedModel>, userId: number): Array<{ movieId: number; rating: number }> {
    return [...this.catalog.userRatingMap(serving, userId).values()].map((r) => ({ movieId: r.movieId, rating: r.rating }));
  }

  /**
   * The user folded in from their ratings when they have API ratings newer than the model (an API
   * rating replaces the training rating of the same movie), with the model's fold-in λ; cached per
   * model until the user rates again. Null otherwise (the model's own factors apply).
   */
  foldedUser(serving: ServingModel, userId: number): FoldedUser | null {
    if (this.catalog.pendingRatings(serving, userId).length === 0) return null;
    return serving.foldIns.get(userId) ?? cache(serving.foldIns, userId, serving.model.foldIn(this.ratingsOf(serving, userId)));
  }

  /**
   * The user as the ranking model folds them in when they have API ratings or interactions newer
   * than the model: their entries (training row, an API rating replacing the entry of its movie)
   * with weight = the value, plus each newer interaction with its weight (the model sums repeats);
   * cached per model until the user rates or interacts again. Null otherwise (the model's own row applies).
   */
  rankingUser(serving: ServingModel<RankingModel>, userId: number): RankingUser | null {
    const interactions = this.catalog.pendingInteractions(serving, userId);
    if (interactions.length === 0 && this.catalog.pendingRatings(serving, userId).length === 0) return null;
    const cached = serving.rankingUsers.get(userId);
    if (cached) return cached;
    return cache(serving.rankingUsers, userId, serving.model.foldIn(this.rankingEntries(serving, userId)));
  }

  /**
   * The user's entries as a ranking model folds them in: their row of its training matrix (an API
   * rating replacing the entry of its movie) with weight = the value, plus each newer interaction.
   */
  private rankingEntries(serving: ServingModel<RankingModel>, userId: number): Interaction[] {
    const entries: Interaction[] = this.ratingsOf(serving, userId).map((r) => ({ movieId: r.movieId, weight: r.rating }));
    for (const i of this.catalog.pendingInteractions(serving, userId)) entries.push({ movieId: i.movieId, weight: i.weight });
    return entries;
  }

  predict(serving: ServingModel, userId: number, movieId: number): PredictionView {
    const p = serving.model.predictFolded(this.foldedUser(serving, userId), userId, movieId);
    return { userId, movieId, rating: p.rating, unclipped: p.unclipped, baseline: p.baseline, fallbackReason: p.fallback, foldedIn: p.foldedIn, modelId: serving.id };
  }

  /** The n rated movies that weigh most in the prediction (see {@link LatentModel.explain}). */
  explain(serving: ServingModel, userId: number, movieId: number, n: number): ExplanationItem[] {
    return serving.model.explain(this.ratingsOf(serving, userId), movieId, n);
  }

  /**
   * The user's list by `serving`: a ranking model's raw scores (after fold-in of newer API ratings
   * and interactions), or a rating model's clipped predictions (after fold-in of newer ratings).
   * With `excludeRated` every movie the user has rated or interacted with is left out.
   */
  recommend(serving: ServingModel<ServedModel>, userId: number, n: number, excludeRated: boolean): RecommendationView[] {
    const recs = serving.role === 'ranking' ? this.rankingList(serving as ServingModel<RankingModel>, userId, n, excludeRated) : this.ratingList(serving as ServingModel, userId, n, excludeRated);
    return recs.map((r, i) => ({ movieId: r.movieId, score: r.score, rank: i + 1, userId, modelId: serving.id }));
  }

  /**
   * The n movies of the user that weigh most in `movieId`'s score by `serving`, largest
   * |contribution| first: a ranking model's `explain` over the same entries its list folds in
   * (`rating` = the entry's weight; empty for popular), or a rating model's prediction explanation.
   */
  explainRecommendation(serving: ServingModel<ServedModel>, userId: number, movieId: number, n: number): ExplanationItem[] {
    if (serving.role !== 'ranking') return this.explain(serving as ServingModel, userId, movieId, n);
    const ranking = serving as ServingModel<RankingModel>;
    return ranking.model
      .explain(this.rankingEntries(ranking, userId), movieId, n)
      .map((c) => ({ movieId: c.movieId, rating: c.weight, contribution: c.contribution, factorSimilarity: null }));
  }

  private ratingList(serving: ServingModel, userId: number, n: number, excludeRated: boolean) {
    const folded = this.foldedUser(serving, userId);
    return folded
      ? serving.model.recommendForFactors(folded.vector, n, excludeRated ? this.catalog.userRatingMap(serving, userId).keys() : [])
      : serving.model.recommend(userId, n, { excludeRated });
  }

  private rankingList(serving: ServingModel<RankingModel>, userId: number, n: number, excludeRated: boolean) {
    const user = this.rankingUser(serving, userId);
    if (!user) return serving.model.recommend(userId, n, { excludeRated });
    // Besides the folded user's own movies: those a model with minWeight > 0 left out of them.
    const exclude = excludeRated ? [...this.catalog.userRatingMap(serving, userId).keys(), ...this.catalog.pendingInteractions(serving, userId).map((i) => i.movieId)] : [];
    return serving.model.recommendFolded(user, n, { excludeInteracted: excludeRated, excludeMovieIds: exclude });
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
    this.refold(userId);
    return row;
  }

  /**
   * Stores an interaction (a view, click or play of `weight` > 0, at most
   * {@link MAX_INTERACTION_WEIGHT}; the user's interactions with one movie sum to at most
   * {@link MAX_PAIR_INTERACTION_WEIGHT}) durably, then folds the user into the active ranking
   * model at once: their next list reflects it. Rating models do not see interactions. The movie
   * must exist; the user may be new. Nothing is stored when the input is refused.
   */
  async interact(userId: number, movieId: number, weight: number): Promise<StoredInteraction> {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > MAX_INTERACTION_WEIGHT) {
      throw badInput('weight', weight, `must be a finite number with 0 < weight ≤ ${MAX_INTERACTION_WEIGHT}`);
    }
    if (!this.catalog.movieExists(movieId)) throw notFound('movie', movieId);
    let total = weight;
    for (const i of this.store.interactionsOf(userId)) if (i.movieId === movieId) total += i.weight;
    if (total > MAX_PAIR_INTERACTION_WEIGHT) {
      throw badInput('weight', weight, `would take user ${userId}'s interactions with movie ${movieId} to ${total}, above the most one pair holds (${MAX_PAIR_INTERACTION_WEIGHT})`);
    }
    const row = await this.store.addInteraction(userId, movieId, weight);
    this.refold(userId);
    return row;
  }

  /** Drops the user's fold-ins in every loaded model and folds them into both active models again. */
  private refold(userId: number): void {
    for (const serving of this.registry.loadedModels()) serving.forget(userId);
    this.foldedUser(this.active, userId);
    this.rankingUser(this.activeRanking, userId);
  }
}
