import { IdIndex, RatingList, RatingMatrix, RatingScale } from '@recsys/data';
import { Predictor } from '@recsys/models';

export interface RankingOptions {
  /** Length of each recommendation list (the cutoff k). Default 10. */
  k?: number;
  /**
   * A held-out rating r is relevant when r ≥ relevantThreshold (stars, or a weight for
   * interactions). Default {@link defaultRelevantThreshold} of the training scale: 4 stars for
   * ratings, every held-out interaction for implicit feedback.
   */
  relevantThreshold?: number;
  /** Which users get a list: every user with at least one test rating (the only choice so far). */
  users?: 'all-test-users';
  /** Called after each test user with (users done, test users). */
  onProgress?: (done: number, total: number) => void;
}

/** Top-k ranking quality of a model on held-out ratings; see {@link rankingMetrics} for the definitions. */
export interface RankingMetrics {
  k: number;
  relevantThreshold: number;
  /** Distinct users in the test ratings; each got a top-k list. */
  testUsers: number;
  /** Test users with at least one relevant test rating: the users the averages run over. */
  usersEvaluated: number;
  /** Test users without a relevant test rating (left out of every average except coverage). */
  usersSkipped: number;
  /** Relevant (user, movie) pairs among the evaluated users' test ratings. */
  relevantPairs: number;
  /** Mean over evaluated users of hits / k. */
  precision: number;
  /** Mean over evaluated users of hits / |relevant|. */
  recall: number;
  /** Mean over evaluated users of DCG@k / IDCG@k with binary gains. */
  ndcg: number;
  /** Mean over evaluated users of AP@k. */
  map: number;
  /** Mean over evaluated users of 1 / (rank of the first hit in the list), 0 without a hit. */
  mrr: number;
  /** Fraction of evaluated users with at least one hit. */
  hitRate: number;
  /** Distinct movies recommended to any test user / movies in the training matrix. */
  coverage: number;
  /** Distinct movies recommended to any test user. */
  recommendedMovies: number;
  /** Movies in the training matrix. */
  catalogueMovies: number;
  seconds: number;
}

/**
 * The relevance threshold when none is given: 4 (stars) for rating data, the scale's least value
 * for implicit feedback (`scale.implicit`), so that every held-out interaction is relevant.
 */
export function defaultRelevantThreshold(scale: RatingScale): number {
  return scale.implicit === true ? scale.min : 4;
}

/**
 * Top-k ranking metrics of a fitted model on held-out ratings.
 *
 * For every distinct user u of `test`: L_u = `model.recommend(u, k, { excludeRated: true })`, the
 * k best-scored movies u did not rate in `train` (the model's own training matrix decides what is
 * rated; it should be `train`). Rel_u = the movies u rated ≥ `relevantThreshold` in `test` (a
 * movie listed twice counts once; a movie unknown to `train` is still relevant, so it can only
 * lower recall). hits_u = |L_u ∩ Rel_u|, rel_i = 1 when the i-th movie of L_u is in Rel_u.
 *
 * Users with Rel_u = ∅ are skipped (`usersSkipped`); over the other `usersEvaluated` users the
 * unweighted means of:
 *
 * - precision@k = hits_u / k (k even when fewer than k movies could be recommended)
 * - recall@k = hits_u / |Rel_u|
 * - NDCG@k = DCG / IDCG with DCG = Σ_{i=1..|L_u|} rel_i / log2(i + 1) and
 *   IDCG = Σ_{i=1..min(k, |Rel_u|)} 1 / log2(i + 1)
 * - MAP@k: AP@k = (1 / min(k, |Rel_u|)) Σ_{i=1..|L_u|} rel_i · hits among the first i / i
 * - MRR@k = 1 / i for the smallest i with rel_i = 1 (the first hit's rank), 0 without a hit
 * - hit rate@k = 1 if hits_u > 0 else 0
 *
 * and, over the lists of all test users (skipped ones included), catalogue coverage = distinct
 * recommended movies / movies in `train`. Defaults: k 10, relevantThreshold 4 stars (implicit data:
 * every held-out interaction, {@link defaultRelevantThreshold}). Averages are
 * NaN when no user has a relevant test rating.
 */
export function rankingMetrics(model: Predictor, train: RatingMatrix, test: RatingList, options: RankingOptions = {}): RankingMetrics {
  const k = options.k ?? 10;
  const threshold = options.relevantThreshold ?? defaultRelevantThreshold(train.scale);
  const users = options.users ?? 'all-test-users';
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`rankingMetrics: k must be an integer of at least 1, got ${k}`);
  if (!Number.isFinite(threshold)) throw new RangeError(`rankingMetrics: relevantThreshold must be a finite number, got ${threshold}`);
  if (users !== 'all-test-users') throw new RangeError(`rankingMetrics: users must be 'all-test-users', got ${JSON.stringify(users)}`);
  const started = performance.now();

  // Group the test positions by user with a counting sort over dense test-user indices.
  const n = test.length;
  const testUserIndex = IdIndex.fromValues(test.users, n);
  const nUsers = testUserIndex.size;
  const userOf = testUserIndex.mapAll(test.users, n);
  const ptr = new Uint32Array(nUsers + 1);
  for (let j = 0; j < n; j++) ptr[userOf[j] + 1]++;
  for (let u = 0; u < nUsers; u++) ptr[u + 1] += ptr[u];
  const next = ptr.slice(0, nUsers);
  const byUser = new Uint32Array(n);
  for (let j = 0; j < n; j++) byUser[next[userOf[j]]++] = j;

  // IDCG prefix sums: idcg[c] = Σ_{i=1..c} 1 / log2(i + 1).
  const idcg = new Float64Array(k + 1);
  for (let i = 1; i <= k; i++) idcg[i] = idcg[i - 1] + 1 / Math.log2(i + 1);

  const recommended = new Uint8Array(train.nMovies);
  let recommendedMovies = 0;
  let evaluated = 0;
  let relevantPairs = 0;
  let sumPrecision = 0;
  let sumRecall = 0;
  let sumNdcg = 0;
  let sumAp = 0;
  let sumHit = 0;
  let sumRr = 0;
  const thresholdCode = threshold * 2;
  const relevant = new Set<number>();

  for (let u = 0; u < nUsers; u++) {
    const userId = testUserIndex.ids[u];
    relevant.clear();
    for (let p = ptr[u]; p < ptr[u + 1]; p++) {
      const j = byUser[p];
      if (test.ratings[j] >= thresholdCode) relevant.add(test.movies[j]);
    }
    const list = model.recommend(userId, k, { excludeRated: true });
    for (const r of list) {
      const m = train.movies.indexOf(r.movieId);
      if (m >= 0 && recommended[m] === 0) {
        recommended[m] = 1;
        recommendedMovies++;
      }
    }
    if (relevant.size > 0) {
      evaluated++;
      relevantPairs += relevant.size;
      let hits = 0;
      let dcg = 0;
      let precisionSum = 0;
      for (let i = 0; i < list.length && i < k; i++) {
        if (!relevant.has(list[i].movieId)) continue;
        if (hits === 0) sumRr += 1 / (i + 1);
        hits++;
        dcg += 1 / Math.log2(i + 2);
        precisionSum += hits / (i + 1);
      }
      const ideal = Math.min(k, relevant.size);
      sumPrecision += hits / k;
      sumRecall += hits / relevant.size;
      sumNdcg += dcg / idcg[ideal];
      sumAp += precisionSum / ideal;
      if (hits > 0) sumHit++;
    }
    options.onProgress?.(u + 1, nUsers);
  }

  return {
    k,
    relevantThreshold: threshold,
    testUsers: nUsers,
    usersEvaluated: evaluated,
    usersSkipped: nUsers - evaluated,
    relevantPairs,
    precision: sumPrecision / evaluated,
    recall: sumRecall / evaluated,
    ndcg: sumNdcg / evaluated,
    map: sumAp / evaluated,
    mrr: sumRr / evaluated,
    hitRate: sumHit / evaluated,
    coverage: train.nMovies === 0 ? NaN : recommendedMovies / train.nMovies,
    recommendedMovies,
    catalogueMovies: train.nMovies,
    seconds: (performance.now() - started) / 1000,
  };
}
