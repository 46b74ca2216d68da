import { DataSummary, dataSummary, LoadedDataset, Movie as CatalogMovie, RatingScale, scaleHistogram, ValueCount } from '@recsys/data';
import type { SimilarityMetric } from '@recsys/similarity';
import { badInput, notFound } from '../errors';
import { MAX_SIMILAR_CACHED } from './model-registry';
import type { ModelRegistry, ServedModel, ServingModel } from './model-registry';
import type { ApiStore, StoredInteraction, StoredRating } from './store';
import type { SimilarMovies } from './similar-movies';

export interface MovieView {
  id: number;
  title: string;
  year: number | null;
  genres: readonly string[];
  /** Ratings in the active model's training data plus newer API ratings. */
  ratingCount: number;
  /** Mean of those ratings; null without ratings. */
  meanRating: number | null;
}

export interface UserView {
  id: number;
  ratingCount: number;
  meanRating: number | null;
}

/** A rating as listed under a user or a movie. */
export interface RatingView {
  userId: number;
  movieId: number;
  rating: number;
  /** Day of the rating in the data set (ISO date), when the data has dates. */
  date: string | null;
  /** DATA: from the loaded data set; API: given through rateMovie. */
  source: 'DATA' | 'API';
  /** When it was given through the API. */
  ratedAt: string | null;
}

export interface SimilarMovieView {
  movieId: number;
  similarity: number;
  support: number;
}

/**
 * What the resolvers list and count: movies, users, their ratings and similar movies, over the
 * loaded data set's catalog, the active model's training matrix and the API ratings. Ratings
 * given through the API after a model was trained are "pending" for that model: they count in
 * users' and movies' ratings at once (a pending rating replaces the training rating of the same
 * pair) until a retrain includes them. No model maths here: predictions are the
 * {@link PredictionService}'s.
 */
export class CatalogService {
  constructor(
    readonly dataset: LoadedDataset,
    readonly registry: ModelRegistry,
    readonly store: ApiStore,
    readonly similar: SimilarMovies,
  ) {}

  get scale(): RatingScale {
    return this.dataset.matrix.scale;
  }

  private summary: Promise<DataSummary> | null = null;

  /**
   * Counts and distributions of the loaded data set (not the API ratings), computed once, in
   * chunks with turns of the event loop between them (see `dataSummary` of @recsys/data), and
   * kept: the server starts it at ready, so a query finds it done or waits for the same pass.
   */
  dataSummary(): Promise<DataSummary> {
    this.summary ??= dataSummary(this.dataset.matrix);
    return this.summary;
  }

  /** Histograms counted so far, by movie index (the loaded data never changes). */
  private readonly histograms = new Map<number, readonly ValueCount[]>();

  /**
   * A movie's ratings in the loaded data set per value of the scale (its CSC slice); all zeros for a
   * movie without any. Counted once per movie and kept (a few entries each): a query naming the
   * most-rated movies under many aliases reads each movie's ratings once, not once per alias.
   */
  movieRatingHistogram(movieId: number): ValueCount[] {
    const t = this.dataset.matrix;
    const m = t.movies.indexOf(movieId);
    if (m < 0) return scaleHistogram(t.scale, t.movieRatings, 0, 0);
    let histogram = this.histograms.get(m);
    if (!histogram) this.histograms.set(m, (histogram = Object.freeze(scaleHistogram(t.scale, t.movieRatings, t.moviePtr[m], t.moviePtr[m + 1]).map((v) => Object.freeze(v)))));
    return histogram.slice();
  }

  /** The histogram of {@link movieRatingHistogram} when already counted (no pass over ratings), else null. */
  countedRatingHistogram(movieId: number): ValueCount[] | null {
    return this.histograms.get(this.dataset.matrix.movies.indexOf(movieId))?.slice() ?? null;
  }

  /** The active model (the API is not ready without one). */
  get active(): ServingModel {
    return this.registry.requireActive();
  }

  /** A user's API ratings newer than the model, in row order (later rows win). */
  pendingRatings(serving: ServingModel<ServedModel>, userId: number): StoredRating[] {
    const through = serving.record.ratingsThroughId;
    return this.store.byUser(userId).filter((r) => r.id > through);
  }

  /** A user's API interactions newer than the model (all of them for a rating model, which never trains on them), in row order. */
  pendingInteractions(serving: ServingModel<ServedModel>, userId: number): StoredInteraction[] {
    const through = serving.record.interactionsThroughId ?? 0;
    return this.store.interactionsOf(userId).filter((r) => r.id > through);
  }

  private pendingAll(serving: ServingModel): StoredRating[] {
    const all = this.store.list();
    const through = serving.record.ratingsThroughId;
    // Rows are in id order: binary search for the first newer one.
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid].id <= through) lo = mid + 1;
      else hi = mid;
    }
    return all.slice(lo);
  }

  /** The latest pending rating of each (user, movie) pair. */
  private latestPending(serving: ServingModel): StoredRating[] {
    const latest = new Map<string, StoredRating>();
    for (const r of this.pendingAll(serving)) latest.set(`${r.userId}:${r.movieId}`, r);
    return [...latest.values()];
  }

  /** Marks ratings in the training matrix that came from the API (same pair, same value, latest row). */
  private markApiSource(serving: ServingModel<ServedModel>, views: Map<number, RatingView>, match: (r: StoredRating) => boolean, key: (r: StoredRating) => number): void {
    const through = serving.record.ratingsThroughId;
    for (const r of this.store.list()) {
      if (r.id > through) break;
      if (!match(r)) continue;
      const v = views.get(key(r));
      if (v && v.source === 'DATA' && v.rating === r.rating) views.set(key(r), { ...v, source: 'API', ratedAt: r.ratedAt });
    }
  }

  // ---- movies ---------------------------------------------------------------------------------

  movieExists(movieId: number): boolean {
    return this.dataset.catalog.has(movieId) || this.active.train.movies.has(movieId);
  }

  /** Movie ids in the catalog or the training data, ascending (cached per model). */
  private movieIdList: { modelId: string; ids: Int32Array; titles: string[] } | null = null;

  allMovies(): { ids: Int32Array; titles: string[] } {
    const active = this.active;
    if (this.movieIdList?.modelId !== active.id) {
      const set = new Set<number>(this.dataset.catalog.list().map((m) => m.id));
      for (const id of active.train.movies.ids) set.add(id);
      const ids = Int32Array.from(set).sort();
      const titles = Array.from(ids, (id) => this.dataset.catalog.get(id).title.toLowerCase());
      this.movieIdList = { modelId: active.id, ids, titles };
    }
    return this.movieIdList;
  }

  /** Movie views by id (null for unknown ids), for the DataLoader. */
  movies(ids: readonly number[]): Array<MovieView | null> {
    const active = this.active;
    const totals = active.movieRatingTotals();
    const wanted = new Set(ids);
    // Adjust counts and sums by the pending ratings of the wanted movies.
    const adjust = new Map<number, { count: number; sum: number }>();
    for (const r of this.latestPending(active)) {
      if (!wanted.has(r.movieId)) continue;
      const a = adjust.get(r.movieId) ?? { count: 0, sum: 0 };
      const u = active.train.users.indexOf(r.userId);
      const m = active.train.movies.indexOf(r.movieId);
      const old = u >= 0 && m >= 0 ? active.train.rating(u, m) : NaN;
      if (Number.isNaN(old)) a.count += 1;
      else a.sum -= old;
      a.sum += r.rating;
      adjust.set(r.movieId, a);
    }
    return ids.map((id) => {
      if (!this.movieExists(id)) return null;
      const info: CatalogMovie = this.dataset.catalog.get(id);
      const m = active.train.movies.indexOf(id);
      let count = m >= 0 ? totals.count[m] : 0;
      let sum = m >= 0 ? totals.sum[m] : 0;
      const a = adjust.get(id);
      if (a) {
        count += a.count;
        sum += a.sum;
      }
      return { id, title: info.title, year: info.year, genres: info.genres, ratingCount: count, meanRating: count > 0 ? sum / count : null };
    });
  }

  /** A movie's ratings ordered by user id (training data merged with pending API ratings). */
  movieRatings(movieId: number): RatingView[] {
    const active = this.active;
    const t = active.train;
    const m = t.movies.indexOf(movieId);
    const byUser = new Map<number, RatingView>();
    if (m >= 0) {
      for (let p = t.moviePtr[m]; p < t.moviePtr[m + 1]; p++) {
        const u = t.movieUsers[p];
        const userId = t.users.ids[u];
        byUser.set(userId, { userId, movieId, rating: t.movieRatings[p] * 0.5, date: dayOf(t.userDays, t, u, m), source: 'DATA', ratedAt: null });
      }
    }
    for (const r of this.pendingAll(active)) {
      if (r.movieId === movieId) byUser.set(r.userId, apiRating(r));
    }
    // Ratings up to ratingsThroughId are in the matrix; mark those that came from the API.
    this.markApiSource(active, byUser, (r) => r.movieId === movieId, (r) => r.userId);
    return [...byUser.values()].sort((a, b) => a.userId - b.userId);
  }

  /**
   * The n movies most similar to a movie in the active model's training data (none when it has no
   * ratings there), computed off the event loop when the query is heavy (see {@link SimilarMovies});
   * rejects with `signal.reason` when `signal` aborts first.
   */
  async similarMovies(movieId: number, n: number, metric: SimilarityMetric | typeof MODEL_METRIC, minSupport: number, signal?: AbortSignal): Promise<SimilarMovieView[]> {
    if (!Number.isInteger(minSupport) || minSupport < 0) throw badInput('minSupport', minSupport, 'must be a non-negative integer');
    if (!this.movieExists(movieId)) throw notFound('movie', movieId);
    if (metric === MODEL_METRIC) return this.modelSimilarMovies(movieId, n, minSupport);
    const active = this.active;
    const m = active.train.movies.indexOf(movieId);
    if (m < 0) return [];
    const neighbours = await this.similar.mostSimilar(active, m, n, metric, minSupport, signal);
    return neighbours.map((nb) => ({ movieId: active.train.movies.ids[nb.movie], similarity: nb.similarity, support: nb.support }));
  }

  /**
   * The active ranking model's n movies most like `movieId` ({@link RankingModel.similar}: its own
   * weights or factors), each with its common raters |U_i ∩ U_j| in the model's training matrix
   * (a merge of the two sorted columns); those with fewer than `minSupport` are left out (the list
   * may then hold fewer than n).
   */
  private modelSimilarMovies(movieId: number, n: number, minSupport: number): SimilarMovieView[] {
    const serving = this.registry.requireActiveRanking();
    const { model, similarCache } = serving;
    const t = model.train;
    const i = t.movies.indexOf(movieId);
    if (i < 0) return [];
    let neighbours = similarCache.get(i);
    if (!neighbours) {
      // The most n may be (SimilarArgs: 1..100), once per movie and model.
      neighbours = model.similar(movieId, MAX_MODEL_NEIGHBOURS);
      if (similarCache.size >= MAX_SIMILAR_CACHED) similarCache.delete(similarCache.keys().next().value as number);
      similarCache.set(i, neighbours);
    }
    const out: SimilarMovieView[] = [];
    for (const nb of neighbours.slice(0, n)) {
      const support = commonUsers(t, i, t.movies.indexOf(nb.movieId));
      if (support >= minSupport) out.push({ movieId: nb.movieId, similarity: nb.similarity, support });
    }
    return out;
  }

  // ---- users ----------------------------------------------------------------------------------

  /** A user of the data, or one with ratings or interactions given through the API. */
  userExists(userId: number): boolean {
    return this.active.train.users.has(userId) || this.store.hasUser(userId);
  }

  /** User ids with ratings (training data or API), ascending. */
  allUsers(): Int32Array {
    const trainIds = this.active.train.users.ids;
    const extra = [...new Set([...this.store.users(), ...this.store.interactingUsers()])].filter((id) => !this.active.train.users.has(id));
    if (extra.length === 0) return trainIds;
    const out = new Int32Array(trainIds.length + extra.length);
    out.set(trainIds);
    out.set(extra, trainIds.length);
    return out.sort();
  }

  /** A user's ratings by movie id: the model's training row merged with the user's newer API ratings. */
  userRatingMap(serving: ServingModel<ServedModel>, userId: number): Map<number, RatingView> {
    const t = serving.train;
    const u = t.users.indexOf(userId);
    const byMovie = new Map<number, RatingView>();
    if (u >= 0) {
      for (let p = t.userPtr[u]; p < t.userPtr[u + 1]; p++) {
        const movieId = t.movies.ids[t.userMovies[p]];
        byMovie.set(movieId, { userId, movieId, rating: t.userRatings[p] * 0.5, date: t.userDays ? isoDay(t.userDays[p]) : null, source: 'DATA', ratedAt: null });
      }
    }
    for (const r of this.pendingRatings(serving, userId)) byMovie.set(r.movieId, apiRating(r));
    this.markApiSource(serving, byMovie, (r) => r.userId === userId, (r) => r.movieId);
    return byMovie;
  }

  userRatings(userId: number): RatingView[] {
    return [...this.userRatingMap(this.active, userId).values()].sort((a, b) => a.movieId - b.movieId);
  }

  users(ids: readonly number[]): Array<UserView | null> {
    const active = this.active;
    const t = active.train;
    return ids.map((id) => {
      if (!this.userExists(id)) return null;
      const u = t.users.indexOf(id);
      if (this.pendingRatings(active, id).length === 0 && u >= 0) {
        let sum = 0;
        for (let p = t.userPtr[u]; p < t.userPtr[u + 1]; p++) sum += t.userRatings[p];
        const count = t.userPtr[u + 1] - t.userPtr[u];
        return { id, ratingCount: count, meanRating: count > 0 ? (sum * 0.5) / count : null };
      }
      const ratings = [...this.userRatingMap(active, id).values()];
      const sum = ratings.reduce((s, r) => s + r.rating, 0);
      return { id, ratingCount: ratings.length, meanRating: ratings.length > 0 ? sum / ratings.length : null };
    });
  }
}

/** The `metric` of similar movies by the active ranking model's own similarity. */
export const MODEL_METRIC = 'model';

/** The longest list similarMovies(metric: MODEL) gives (its n is 1..100). */
const MAX_MODEL_NEIGHBOURS = 100;

/** |U_i ∩ U_j|: users with entries for both movies (a merge of the two ascending CSC columns; 0 when j < 0). */
export function commonUsers(t: { moviePtr: Uint32Array; movieUsers: Int32Array }, i: number, j: number): number {
  if (j < 0) return 0;
  let a = t.moviePtr[i];
  let b = t.moviePtr[j];
  const aEnd = t.moviePtr[i + 1];
  const bEnd = t.moviePtr[j + 1];
  let common = 0;
  while (a < aEnd && b < bEnd) {
    const x = t.movieUsers[a];
    const y = t.movieUsers[b];
    if (x === y) {
      common++;
      a++;
      b++;
    } else if (x < y) a++;
    else b++;
  }
  return common;
}

/** A rating given through the API, as listed. */
export function apiRating(r: StoredRating): RatingView {
  return { userId: r.userId, movieId: r.movieId, rating: r.rating, date: r.ratedAt.slice(0, 10), source: 'API', ratedAt: r.ratedAt };
}

function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** The date of user u's rating of movie m (binary search in u's row), when the data has dates. */
function dayOf(days: Uint16Array | null, t: { userPtr: Uint32Array; userMovies: Int32Array }, u: number, m: number): string | null {
  if (!days) return null;
  let lo = t.userPtr[u];
  let hi = t.userPtr[u + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = t.userMovies[mid];
    if (v < m) lo = mid + 1;
    else if (v > m) hi = mid - 1;
    else return isoDay(days[mid]);
  }
  return null;
}
