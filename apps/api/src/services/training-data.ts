import { encodeRating, RatingMatrix } from '@recsys/data';
import { ApiInteractions, jobMatrix, TrainingJob } from './training-job';
import type { ApiStore } from './store';

/** The API ratings with row id ≤ `throughId`, oldest first, as the typed arrays a training job takes. */
export function apiRatingsThrough(store: ApiStore, throughId: number): TrainingJob['extra'] {
  const rows = store.list().filter((r) => r.id <= throughId);
  const extra = { users: new Int32Array(rows.length), movies: new Int32Array(rows.length), ratings: new Uint8Array(rows.length) };
  rows.forEach((r, j) => {
    extra.users[j] = r.userId;
    extra.movies[j] = r.movieId;
    extra.ratings[j] = encodeRating(r.rating);
  });
  return extra;
}

/** The API interactions with row id ≤ `throughId`, oldest first, as the typed arrays a training job takes. */
export function apiInteractionsThrough(store: ApiStore, throughId: number): ApiInteractions {
  const rows = store.interactions().filter((r) => r.id <= throughId);
  return { users: Int32Array.from(rows, (r) => r.userId), movies: Int32Array.from(rows, (r) => r.movieId), weights: Float32Array.from(rows, (r) => r.weight) };
}

/**
 * The ratings a model trained by this server saw: the loaded data set plus the API ratings up to
 * `throughId` and, for a ranking model, the API interactions up to `interactionsThroughId` (model
 * artifacts refer to them by fingerprint instead of storing them). The data set itself when
 * nothing of the API was included, so that restoring a model costs no copy of it.
 */
export function trainingDataThrough(base: RatingMatrix, baseArrays: TrainingJob['base'], store: ApiStore, throughId: number, interactionsThroughId = 0): RatingMatrix {
  const extra = apiRatingsThrough(store, throughId);
  const interactions = apiInteractionsThrough(store, interactionsThroughId);
  return extra.users.length === 0 && interactions.users.length === 0 ? base : jobMatrix({ base: baseArrays, extra, interactions });
}
