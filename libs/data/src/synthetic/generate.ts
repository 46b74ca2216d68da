import { derive, Random } from '@recsys/core';
import { Movie, MovieCatalog } from '../catalog';
import { RatingList } from '../rating-matrix';
import { generateTitles, syntheticGenreNames } from './titles';

/** 1999-11-11, the first day of the Netflix Prize training data, as days since 1970-01-01. */
export const NETFLIX_FIRST_DAY = 10906;
/** 2005-12-31, the last day of the Netflix Prize training data, as days since 1970-01-01. */
export const NETFLIX_LAST_DAY = 13148;
/** Movies in the Netflix Prize data. */
export const NETFLIX_MOVIES = 17770;
/** Largest customer id in the Netflix Prize data (480,189 customers with ids 6 … 2,649,429). */
export const NETFLIX_MAX_USER_ID = 2_649_429;

/**
 * Netflix Prize marginal rating histogram the generator is tuned to (share of 1 … 5 stars;
 * the prize's training data has about 4.6 / 10.1 / 28.7 / 33.6 / 23.0 %).
 */
export const NETFLIX_RATING_SHARES: readonly number[] = Object.freeze([0.05, 0.1, 0.29, 0.34, 0.22]);

/**
 * Planted-model constants (tuned once so that, with the default noise 0.8, the marginal
 * histogram comes out close to {@link NETFLIX_RATING_SHARES}; see `generateSynthetic`).
 */
export const SYNTHETIC_MODEL = Object.freeze({
  /** Global offset μ of the planted score. */
  mu: 3.5,
  /** Standard deviation of the user bias b_u. */
  userBiasSd: 0.4,
  /** Standard deviation of the movie bias b_i. */
  movieBiasSd: 0.5,
  /** Loading of each preferred genre's centroid in p_u: p_u·q_i ≈ this for a movie of a preferred genre. */
  preferredLoading: 0.4,
  /** Loading of the disliked genre's centroid in p_u (negative): p_u·q_i ≈ −this for a movie of it. */
  dislikedLoading: 0.5,
  /** Size of the movie-specific part of q_i relative to its genre centroid (unit length). */
  movieSpread: 0.35,
  /** Standard deviation of the user-specific part of p_u (its length, spread over the factors). */
  userSpread: 0.3,
  /** Weight of a movie's secondary genre centroid in q_i. */
  secondaryWeight: 0.3,
  /** Share of a user's ratings drawn from their preferred genres (the rest from all genres). */
  preferredShare: 0.7,
  /** Share of movies with a secondary genre. */
  secondaryGenreShare: 0.3,
  /** Lomax (Pareto II) shape α of user activity: median/mean ≈ 0.46 as on Netflix (96 / 209). */
  activityShape: 2.3,
  /** Share of movies with an unknown (null) year. */
  nullYearShare: 0.003,
});

/** Options of {@link generateSynthetic}; every field but `ratings` has a documented default. */
export interface SyntheticOptions {
  /** Exact number of ratings (distinct (user, movie) pairs) to produce, 1e3 … 1e8. */
  ratings: number;
  /** Number of users; default `max(10, round(ratings / 200))` (Netflix averages ~209 ratings per user). */
  users?: number;
  /**
   * Number of movies; default `min(17770, ratings, max(20, round(ratings / 5600), 8 · ceil(ratings / users)))`:
   * Netflix's ~5,600 ratings per movie at scale (100M → 17,770 movies, 10M → 1,786 like the Kaggle
   * subset's 1,350), but never so few that an average user would rate more than an eighth of them.
   */
  movies?: number;
  /** Rank of the planted factor model; default 10. */
  factors?: number;
  /** Number of planted genres; default 12 (names from {@link SYNTHETIC_GENRE_NAMES}). */
  genres?: number;
  /** Standard deviation of the Gaussian noise added to the planted score before rounding; default 0.8. */
  noise?: number;
  /** Seed; default 42. The same options always give the same data. */
  seed?: number;
  /** Generate rating days (1999-11-11 … 2005-12-31, as days since 1970-01-01); default true. */
  withDates?: boolean;
  /** Id of the first movie; movies are `startMovieId … startMovieId + movies - 1`; default 1. */
  startMovieId?: number;
  /** Smallest possible user id; default 1. */
  startUserId?: number;
  /**
   * Sparse user ids like Netflix (ascending ids with random gaps spread over
   * `max(2,649,429, 6 · users)` ids); default true. False gives `startUserId … startUserId + users - 1`.
   */
  sparseUserIds?: boolean;
  /**
   * Half stars: ratings 0.5 … 5 in steps of 0.5 (the noisy score rounded to the nearest half star,
   * as MovieLens 10M and later; build the matrix with `HALF_STARS_05_TO_5`) instead of whole stars
   * 1 … 5; default false. The Netflix Kaggle and Prize layouts hold whole stars only.
   */
  halfStars?: boolean;
}

/** The planted model behind the ratings, by internal index (user u = u-th smallest id, movie m = id − startMovieId). */
export interface PlantedModel {
  readonly mu: number;
  readonly factors: number;
  readonly noise: number;
  /** External user id of user index u (ascending). */
  readonly userIds: Int32Array;
  readonly userBias: Float32Array;
  readonly movieBias: Float32Array;
  /** users × factors, row-major. */
  readonly userFactors: Float32Array;
  /** movies × factors, row-major. */
  readonly movieFactors: Float32Array;
  /** Up to 3 preferred genre indices per user (users × 3, −1 = none). */
  readonly userGenres: Int8Array;
  /** The disliked genre index of each user (−1 = none). */
  readonly userDisliked: Int8Array;
  /** Number of ratings generated for each user. */
  readonly userCounts: Int32Array;
}

/** Output of {@link generateSynthetic}. */
export interface SyntheticData {
  /** The ratings with external ids, rating codes (stars × 2) and days, grouped by user. */
  readonly list: RatingList;
  /** Every movie with a generated title, a year (1920–2005, a few null) and its planted genre names (main first). */
  readonly catalog: MovieCatalog;
  /** Planted main genre index of each movie, by `movieId − startMovieId` (movie id − 1 by default). */
  readonly movieGenre: Int32Array;
  readonly genreNames: string[];
  /**
   * RMSE of the best possible predictor, E[rating | planted score] = 1 + Σ_{t∈{1.5,2.5,3.5,4.5}} Φ((s − t)/noise)
   * (the expectation of the rounded, clamped noisy score), against the generated ratings: no model can
   * beat this in expectation. With the defaults it is ≈ 0.785.
   */
  readonly noiseFloorRmse: number;
  /** RMSE of the raw planted score s = μ + b_u + b_i + p_u·q_i against the ratings (slightly above the floor, since clamping biases it near 1 and 5). */
  readonly plantedScoreRmse: number;
  /** Share of ratings with 1 … 5 stars (index 0 = 1 star); with `halfStars`, of 0.5, 1, … 5 stars (10 shares). */
  readonly histogram: number[];
  readonly planted: PlantedModel;
  /** The options with every default filled in. */
  readonly options: Required<SyntheticOptions>;
}

/** The options with defaults filled in (see {@link SyntheticOptions}). Throws a RangeError when they are infeasible. */
export function resolveSyntheticOptions(options: SyntheticOptions): Required<SyntheticOptions> {
  const ratings = options.ratings;
  if (!Number.isInteger(ratings) || ratings < 1 || ratings > 2 ** 31 - 1) {
    throw new RangeError(`generateSynthetic: ratings must be a positive integer below 2^31, got ${ratings}`);
  }
  const users = options.users ?? Math.max(10, Math.round(ratings / 200));
  const movies =
    options.movies ??
    Math.min(NETFLIX_MOVIES, ratings, Math.max(20, Math.round(ratings / 5600), 8 * Math.ceil(ratings / users)));
  const resolved: Required<SyntheticOptions> = {
    ratings,
    users,
    movies,
    factors: options.factors ?? 10,
    genres: options.genres ?? 12,
    noise: options.noise ?? 0.8,
    seed: options.seed ?? 42,
    withDates: options.withDates ?? true,
    startMovieId: options.startMovieId ?? 1,
    startUserId: options.startUserId ?? 1,
    sparseUserIds: options.sparseUserIds ?? true,
    halfStars: options.halfStars ?? false,
  };
  const positiveInt = (name: keyof SyntheticOptions, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`generateSynthetic: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  positiveInt('users', users, 1);
  positiveInt('movies', movies, 1);
  positiveInt('factors', resolved.factors, 1);
  positiveInt('genres', resolved.genres, 1);
  positiveInt('startMovieId', resolved.startMovieId, 0);
  positiveInt('startUserId', resolved.startUserId, 0);
  if (resolved.genres > 127) throw new RangeError(`generateSynthetic: genres must be ≤ 127, got ${resolved.genres}`);
  if (!(resolved.noise >= 0) || !Number.isFinite(resolved.noise)) {
    throw new RangeError(`generateSynthetic: noise must be a finite number ≥ 0, got ${resolved.noise}`);
  }
  if (ratings < users || ratings < movies) {
    throw new RangeError(
      `generateSynthetic: ${ratings} ratings cannot give every one of ${users} users and ${movies} movies a rating`,
    );
  }
  if (ratings > users * movies) {
    throw new RangeError(`generateSynthetic: ${ratings} ratings exceed ${users} users × ${movies} movies`);
  }
  if (resolved.startMovieId + movies - 1 > 2 ** 31 - 1) throw new RangeError('generateSynthetic: movie ids would exceed 2^31 - 1');
  return resolved;
}

/**
 * The purposes of the generator's streams, each drawn from `derive(seed, purpose)`: independent,
 * so that e.g. changing the titles never changes the ratings.
 */
const STREAM = Object.freeze({ movies: 1, users: 2, ratings: 3, fix: 4, titles: 5 });

/**
 * Generate a Netflix-shaped rating data set from a planted model, deterministically for a seed.
 *
 * **Who rates what.** Movie popularity is Zipf–Mandelbrot with exponent 1, w_m = 1/(rank_m + c) over a
 * seeded random ranking, with the offset c chosen so that the most popular movie draws about half of
 * the users (Netflix: 232,944 of 480,189). User activity follows a Lomax law with shape 2.3 (median ≈
 * 0.46 × mean, as Netflix's 96 vs 209), scaled so the counts sum to exactly `ratings`, each between 1
 * and the number of movies: most users rate tens of movies, a few thousands. Each user prefers 1–3
 * genres and draws 70 % of their movies from them (by popularity within the genre) and 30 % from the
 * whole catalog (genre by its popularity mass, then movie by popularity), without repetition. Movies
 * left unrated get one rating moved to them, so every user and every movie has ≥ 1 rating.
 *
 * **What they rate.** score s = μ + b_u + b_i + p_u·q_i with μ = 3.5, b_u ~ N(0, 0.4²),
 * b_i ~ N(0, 0.5²); `factors`-dimensional q_i = its genre's centroid (unit length; the centroids are
 * centred so different genres point apart) + 0.3 × its secondary genre's centroid + movie-specific
 * N(0, 0.35²/k) per coordinate; p_u = 0.4 × Σ preferred centroids − 0.5 × the centroid of one
 * disliked genre + N(0, 0.3²/k) per coordinate. So p_u·q_i ≈ +0.4 on a preferred genre, ≈ −0.5 on the
 * disliked one, ≈ 0 elsewhere. The rating is round(s + N(0, noise²)) clamped to 1 … 5 (stored × 2);
 * with `halfStars`, round(2(s + N(0, noise²)))/2 clamped to 0.5 … 5 (the same draws, so the same
 * users rate the same movies).
 *
 * **Histogram.** With the defaults the shares of 1 … 5 stars come out (mean rating in brackets)
 * 2.7 / 12.3 / 29.6 / 33.4 / 22.0 % (3.60) at 1M ratings, 2.3 / 11.8 / 29.8 / 34.0 / 22.0 % (3.62) at 10M
 * and 2.1 / 10.9 / 28.2 / 34.2 / 24.6 % at 100M, against Netflix's 4.6 / 10.1 / 28.7 / 33.6 / 23.0 %
 * (3.60): every share within 3 points of {@link NETFLIX_RATING_SHARES}. Gaussian biases and noise of
 * these sizes cannot give Netflix's long, thin left tail exactly (1 star twice as common as a
 * Gaussian predicts while 2 stars stay at 10 %); `histogram` reports the shares actually generated.
 *
 * **Noise floor.** `noiseFloorRmse` is the RMSE of E[r | s] (the best any model can do in expectation):
 * ≈ 0.785 with noise 0.8 (rounding adds variance ≈ 1/12, clamping at 1 and 5 removes some);
 * `plantedScoreRmse` (the raw s as the prediction) is ≈ 0.794.
 *
 * **Checking "similar movies".** Movies of the same planted main genre (`movieGenre`, also the first
 * genre in the catalog) share a factor centroid and are rated by the same genre fans, so both
 * factor-based similarity (cosine of q_i) and co-rating similarity (Jaccard of rater sets) rank
 * same-genre movies first: a similarity method is right about movie m when most of its top
 * neighbours have `movieGenre` equal to m's.
 *
 * **Dates** (when `withDates`): each user joins on a day skewed towards the end of 1999-11-11 …
 * 2005-12-31 (the service grew), and rates on uniform days from joining to 2005-12-31.
 *
 * Memory: 11 bytes per rating for the list (with dates) plus O(users × factors + movies × factors);
 * no object per rating. Measured on one core: 10M ratings in ≈ 2 s, 100M in ≈ 30 s with 1.2 GB resident.
 */
export function generateSynthetic(options: SyntheticOptions): SyntheticData {
  const opts = resolveSyntheticOptions(options);
  const R = opts.ratings;
  const U = opts.users;
  const M = opts.movies;
  const G = opts.genres;
  const K = opts.factors;
  const seed = opts.seed;
  const P = SYNTHETIC_MODEL;

  // ---- Movies: genres, popularity, factors, biases. ----
  const rngMovies = derive(seed, STREAM.movies);
  const genreNames = syntheticGenreNames(G);
  const movieGenre = new Int32Array(M);
  const secondGenre = new Int32Array(M).fill(-1);
  {
    const genreCum = new Float64Array(G);
    let acc = 0;
    for (let g = 0; g < G; g++) genreCum[g] = acc += 1 / (g + 2);
    const order = rngMovies.shuffle(Int32Array.from({ length: M }, (_, i) => i));
    for (let j = 0; j < M; j++) {
      // The first G movies (in random order) get one genre each, so no genre is empty when M ≥ G.
      movieGenre[order[j]] = j < G ? j : pickCumulative(genreCum, rngMovies.next() * acc);
    }
    if (G > 1) {
      for (let m = 0; m < M; m++) {
        if (rngMovies.next() < P.secondaryGenreShare) {
          const other = rngMovies.int(G - 1);
          secondGenre[m] = other >= movieGenre[m] ? other + 1 : other;
        }
      }
    }
  }
  const popularity = new Float64Array(M);
  {
    const rank = rngMovies.shuffle(Int32Array.from({ length: M }, (_, i) => i));
    const c = zipfOffset(M, (0.5 * U) / R);
    for (let m = 0; m < M; m++) popularity[m] = 1 / (rank[m] + c);
  }
  // Per-genre alias tables over the genre's movies, weighted by popularity.
  const genreStart = new Int32Array(G + 1);
  for (let m = 0; m < M; m++) genreStart[movieGenre[m] + 1]++;
  for (let g = 0; g < G; g++) genreStart[g + 1] += genreStart[g];
  const genreMovies = new Int32Array(M);
  {
    const next = genreStart.slice(0, G);
    for (let m = 0; m < M; m++) genreMovies[next[movieGenre[m]]++] = m;
  }
  const genreMass = new Float64Array(G);
  let totalMass = 0;
  for (let m = 0; m < M; m++) {
    genreMass[movieGenre[m]] += popularity[m];
    totalMass += popularity[m];
  }
  for (let g = 0; g < G; g++) genreMass[g] /= totalMass;
  const aliasProb = new Float64Array(M);
  const aliasIndex = new Int32Array(M);
  for (let g = 0; g < G; g++) buildAlias(genreMovies, popularity, genreStart[g], genreStart[g + 1], aliasProb, aliasIndex);

  const centroids = new Float64Array(G * K);
  {
    for (let j = 0; j < G * K; j++) centroids[j] = rngMovies.normal();
    if (G > 1) {
      // Centre the centroids so different genres point apart (mean pairwise cosine ≈ −1/(G−1)).
      for (let f = 0; f < K; f++) {
        let mean = 0;
        for (let g = 0; g < G; g++) mean += centroids[g * K + f];
        mean /= G;
        for (let g = 0; g < G; g++) centroids[g * K + f] -= mean;
      }
    }
    for (let g = 0; g < G; g++) {
      let norm = 0;
      for (let f = 0; f < K; f++) norm += centroids[g * K + f] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let f = 0; f < K; f++) centroids[g * K + f] /= norm;
    }
  }
  const movieFactors = new Float32Array(M * K);
  const movieBias = new Float32Array(M);
  {
    const spread = P.movieSpread / Math.sqrt(K);
    for (let m = 0; m < M; m++) {
      const g = movieGenre[m] * K;
      const h = secondGenre[m] * K;
      for (let f = 0; f < K; f++) {
        let v = centroids[g + f] + spread * rngMovies.normal();
        if (h >= 0) v += P.secondaryWeight * centroids[h + f];
        movieFactors[m * K + f] = v;
      }
      movieBias[m] = P.movieBiasSd * rngMovies.normal();
    }
  }

  // ---- Users: ids, activity, preferred and disliked genres, factors, biases, joining day. ----
  const rngUsers = derive(seed, STREAM.users);
  const userIds = makeUserIds(rngUsers, U, opts.startUserId, opts.sparseUserIds);
  const userCounts = userActivity(rngUsers, U, R, M);
  const userGenres = new Int8Array(U * 3).fill(-1);
  const userDisliked = new Int8Array(U).fill(-1);
  const userFactors = new Float32Array(U * K);
  const userBias = new Float32Array(U);
  const joinDay = new Uint16Array(U);
  {
    const spread = P.userSpread / Math.sqrt(K);
    const chosen = new Uint8Array(G);
    const nonEmpty: number[] = [];
    for (let g = 0; g < G; g++) if (genreMass[g] > 0) nonEmpty.push(g);
    // A genre not yet chosen for this user, drawn by popularity mass (−1 when none is left).
    const drawGenre = (): number => {
      let left = 0;
      for (const g of nonEmpty) if (!chosen[g]) left += genreMass[g];
      if (left === 0) return -1;
      let x = rngUsers.next() * left;
      let picked = -1;
      for (const g of nonEmpty) {
        if (chosen[g]) continue;
        picked = g;
        x -= genreMass[g];
        if (x < 0) break;
      }
      chosen[picked] = 1;
      return picked;
    };
    for (let u = 0; u < U; u++) {
      chosen.fill(0);
      const row = u * K;
      const nPref = Math.min(1 + rngUsers.int(3), nonEmpty.length);
      for (let j = 0; j < nPref; j++) {
        const g = drawGenre();
        userGenres[u * 3 + j] = g;
        for (let f = 0; f < K; f++) userFactors[row + f] += P.preferredLoading * centroids[g * K + f];
      }
      const disliked = drawGenre();
      userDisliked[u] = disliked;
      if (disliked >= 0) {
        for (let f = 0; f < K; f++) userFactors[row + f] -= P.dislikedLoading * centroids[disliked * K + f];
      }
      for (let f = 0; f < K; f++) userFactors[row + f] += spread * rngUsers.normal();
      userBias[u] = P.userBiasSd * rngUsers.normal();
      // Join day: density rising linearly over the period (sqrt of a uniform).
      joinDay[u] = NETFLIX_FIRST_DAY + Math.floor(Math.sqrt(rngUsers.next()) * (NETFLIX_LAST_DAY - NETFLIX_FIRST_DAY + 1));
    }
  }

  // ---- Ratings. ----
  const rng = derive(seed, STREAM.ratings);
  const listUsers = new Int32Array(R);
  const listMovies = new Int32Array(R);
  const listRatings = new Uint8Array(R);
  const listDays = opts.withDates ? new Uint16Array(R) : null;
  const userStart = new Float64Array(U + 1);
  const movieCount = new Int32Array(M);
  // Counts by rating code (stars × 2).
  const hist = new Float64Array(11);
  const mu = P.mu;
  const noise = opts.noise;
  const half = opts.halfStars;
  const expected = expectedRatingTable(noise, half ? 0.5 : 1);
  // Rating code (stars × 2) of a noisy score: whole stars 1 … 5, or half stars 0.5 … 5.
  const ratingCode = (x: number): number => {
    if (half) {
      const c = Math.round(2 * x);
      return c < 1 ? 1 : c > 10 ? 10 : c;
    }
    const r = Math.round(x);
    return 2 * (r < 1 ? 1 : r > 5 ? 5 : r);
  };
  let sumSqBest = 0;
  let sumSqPlanted = 0;

  const stamp = new Int32Array(M).fill(-1);
  const chosenMovies = new Int32Array(M);
  const keys = new Float64Array(M);
  const scratch = new Float64Array(M);
  const genreCumU = new Float64Array(G);
  const heavy = Math.max(16, M >>> 3);
  const startMovieId = opts.startMovieId;
  let pos = 0;
  for (let u = 0; u < U; u++) {
    userStart[u] = pos;
    const n = userCounts[u];
    // This user's genre distribution: preferredShare on the preferred genres (by mass), the rest on all.
    let prefMass = 0;
    for (let j = 0; j < 3; j++) {
      const g = userGenres[u * 3 + j];
      if (g >= 0) prefMass += genreMass[g];
    }
    {
      let acc = 0;
      for (let g = 0; g < G; g++) {
        let p = (1 - P.preferredShare) * genreMass[g];
        if (g === userGenres[u * 3] || g === userGenres[u * 3 + 1] || g === userGenres[u * 3 + 2]) {
          p += (P.preferredShare * genreMass[g]) / prefMass;
        }
        genreCumU[g] = acc += p;
      }
    }
    const total = genreCumU[G - 1];
    if (n > heavy) {
      // Weighted sampling without replacement (Efraimidis–Spirakis): the n smallest Exp(1)/w_m.
      for (let m = 0; m < M; m++) {
        const g = movieGenre[m];
        const pg = genreCumU[g] - (g > 0 ? genreCumU[g - 1] : 0);
        const w = (pg * popularity[m]) / (genreMass[g] * totalMass);
        let e = rng.next();
        while (e === 0) e = rng.next();
        keys[m] = -Math.log(e) / w;
      }
      scratch.set(keys);
      const threshold = nthSmallest(scratch, n - 1);
      let c = 0;
      for (let m = 0; m < M && c < n; m++) if (keys[m] < threshold) chosenMovies[c++] = m;
      for (let m = 0; m < M && c < n; m++) if (keys[m] === threshold) chosenMovies[c++] = m;
    } else {
      for (let c = 0; c < n; ) {
        const g = pickCumulative(genreCumU, rng.next() * total);
        const lo = genreStart[g];
        let j = lo + Math.floor(rng.next() * (genreStart[g + 1] - lo));
        if (rng.next() >= aliasProb[j]) j = aliasIndex[j];
        const m = genreMovies[j];
        if (stamp[m] === u) continue;
        stamp[m] = u;
        chosenMovies[c++] = m;
      }
    }
    const userId = userIds[u];
    const bu = mu + userBias[u];
    const ub = u * K;
    const join = joinDay[u];
    const daySpan = NETFLIX_LAST_DAY - join + 1;
    for (let c = 0; c < n; c++) {
      const m = chosenMovies[c];
      const mb = m * K;
      let dot = 0;
      for (let f = 0; f < K; f++) dot += userFactors[ub + f] * movieFactors[mb + f];
      const s = bu + movieBias[m] + dot;
      const code = ratingCode(s + noise * rng.normal());
      const r = code / 2;
      listUsers[pos] = userId;
      listMovies[pos] = startMovieId + m;
      listRatings[pos] = code;
      if (listDays !== null) listDays[pos] = join + Math.floor(rng.next() * daySpan);
      const eb = expected(s) - r;
      sumSqBest += eb * eb;
      sumSqPlanted += (s - r) * (s - r);
      hist[code]++;
      movieCount[m]++;
      pos++;
    }
  }
  userStart[U] = pos;

  // ---- Every movie rated: move one rating of a movie rated ≥ 2 times to each unrated movie. ----
  const rngFix = derive(seed, STREAM.fix);
  for (let z = 0; z < M; z++) {
    if (movieCount[z] > 0) continue;
    const g = movieGenre[z];
    let k = -1;
    let u = -1;
    for (let attempt = 0; attempt < 256; attempt++) {
      const cand = rngFix.int(R);
      if (movieCount[listMovies[cand] - startMovieId] < 2) continue;
      const cu = userAt(userStart, cand);
      // Prefer a fan of the movie's genre for the first attempts, to keep the genre signal.
      if (attempt < 128 && userGenres[cu * 3] !== g && userGenres[cu * 3 + 1] !== g && userGenres[cu * 3 + 2] !== g) continue;
      k = cand;
      u = cu;
      break;
    }
    if (k < 0) {
      // Rare: scan for any rating of a movie rated at least twice (one exists since R ≥ M).
      for (k = 0; movieCount[listMovies[k] - startMovieId] < 2; k++);
      u = userAt(userStart, k);
    }
    const old = listMovies[k] - startMovieId;
    const oldR = listRatings[k] / 2;
    const sOld = plantedScore(mu, userBias, movieBias, userFactors, movieFactors, K, u, old);
    sumSqBest -= (expected(sOld) - oldR) ** 2;
    sumSqPlanted -= (sOld - oldR) ** 2;
    hist[listRatings[k]]--;
    const s = plantedScore(mu, userBias, movieBias, userFactors, movieFactors, K, u, z);
    const code = ratingCode(s + noise * rngFix.normal());
    const r = code / 2;
    listMovies[k] = startMovieId + z;
    listRatings[k] = code;
    sumSqBest += (expected(s) - r) ** 2;
    sumSqPlanted += (s - r) ** 2;
    hist[code]++;
    movieCount[old]--;
    movieCount[z]++;
  }

  // ---- Catalog. ----
  const rngTitles = derive(seed, STREAM.titles);
  const titles = generateTitles(rngTitles, M);
  const catalog = new MovieCatalog();
  for (let m = 0; m < M; m++) {
    const year = rngTitles.next() < P.nullYearShare ? null : 2005 - Math.floor(86 * rngTitles.next() ** 3);
    const genres = secondGenre[m] >= 0 ? [genreNames[movieGenre[m]], genreNames[secondGenre[m]]] : [genreNames[movieGenre[m]]];
    const movie: Movie = { id: startMovieId + m, title: titles[m], year, genres };
    catalog.set(movie);
  }

  return {
    list: { length: R, users: listUsers, movies: listMovies, ratings: listRatings, days: listDays },
    catalog,
    movieGenre,
    genreNames,
    noiseFloorRmse: Math.sqrt(Math.max(0, sumSqBest) / R),
    plantedScoreRmse: Math.sqrt(Math.max(0, sumSqPlanted) / R),
    histogram: (half ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [2, 4, 6, 8, 10]).map((code) => hist[code] / R),
    planted: { mu, factors: K, noise, userIds, userBias, movieBias, userFactors, movieFactors, userGenres, userDisliked, userCounts },
    options: opts,
  };
}

/** Planted score s = μ + b_u + b_i + p_u·q_i of user index u for movie index m. */
export function plantedScore(
  mu: number,
  userBias: Float32Array,
  movieBias: Float32Array,
  userFactors: Float32Array,
  movieFactors: Float32Array,
  factors: number,
  u: number,
  m: number,
): number {
  let dot = 0;
  for (let f = 0; f < factors; f++) dot += userFactors[u * factors + f] * movieFactors[m * factors + f];
  return mu + userBias[u] + movieBias[m] + dot;
}

/** Index of the first entry of an ascending cumulative array greater than x (the last when none). */
function pickCumulative(cum: Float64Array, x: number): number {
  const last = cum.length - 1;
  for (let g = 0; g < last; g++) if (x < cum[g]) return g;
  return last;
}

/** User index owning list position k (userStart ascending, length U + 1). */
function userAt(userStart: Float64Array, k: number): number {
  let lo = 0;
  let hi = userStart.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (userStart[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Offset c of Zipf–Mandelbrot weights 1/(rank + c), rank 0 … n−1, such that the top share
 * (1/c) / Σ 1/(r + c) is at most `topShare` (c ≥ 1; c grows up to 1e9, i.e. nearly uniform).
 */
function zipfOffset(n: number, topShare: number): number {
  const share = (c: number): number => 1 / c / (Math.log((n - 0.5 + c) / (c - 0.5 + 1e-9)) || 1e-300);
  if (share(1) <= topShare) return 1;
  let lo = 1;
  let hi = 2;
  while (share(hi) > topShare && hi < 1e9) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (share(mid) > topShare) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Vose alias table over `items[lo..hi)` weighted by `weight[item]`; aliases are absolute positions. */
function buildAlias(
  items: Int32Array,
  weight: Float64Array,
  lo: number,
  hi: number,
  prob: Float64Array,
  alias: Int32Array,
): void {
  const n = hi - lo;
  if (n === 0) return;
  let sum = 0;
  for (let j = lo; j < hi; j++) sum += weight[items[j]];
  const small: number[] = [];
  const large: number[] = [];
  for (let j = lo; j < hi; j++) {
    prob[j] = (weight[items[j]] * n) / sum;
    alias[j] = j;
    (prob[j] < 1 ? small : large).push(j);
  }
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large[large.length - 1];
    alias[s] = l;
    prob[l] -= 1 - prob[s];
    if (prob[l] < 1) {
      large.pop();
      small.push(l);
    }
  }
  for (const j of small) prob[j] = 1;
  for (const j of large) prob[j] = 1;
}

/** Value of rank k (0-based) among a's values; reorders a (Hoare quickselect). */
function nthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Sorted distinct user ids: dense from `start`, or sparse like Netflix with random gaps averaging
 * max(2,649,429, 6·n)/n, kept below 2^31.
 */
function makeUserIds(rng: Random, n: number, start: number, sparse: boolean): Int32Array {
  const ids = new Int32Array(n);
  if (!sparse) {
    if (start + n - 1 > 2 ** 31 - 1) throw new RangeError('generateSynthetic: user ids would exceed 2^31 - 1');
    for (let u = 0; u < n; u++) ids[u] = start + u;
    return ids;
  }
  const span = Math.min(Math.max(NETFLIX_MAX_USER_ID, 6 * n), 2 ** 31 - 1 - start);
  const meanGap = span / n;
  if (meanGap < 1) throw new RangeError('generateSynthetic: too many users for sparse ids below 2^31');
  // Gaps uniform on 1 … 2·meanGap − 1 (mean ≈ meanGap); rescaled if the sum overshoots the span.
  const gaps = new Float64Array(n);
  let sum = 0;
  for (let u = 0; u < n; u++) sum += gaps[u] = 1 + Math.floor(rng.next() * Math.max(1, 2 * meanGap - 1));
  const shrink = sum > span ? (span - n) / (sum - n) : 1;
  let id = start - 1;
  for (let u = 0; u < n; u++) {
    id += 1 + Math.floor((gaps[u] - 1) * shrink);
    ids[u] = id;
  }
  return ids;
}

/**
 * Ratings per user: Lomax quantiles x = (1 − p)^(−1/α) − 1 at stratified p, assigned to users in
 * random order, n_u = clamp(1 + floor(λ x), 1, movies) with λ by bisection so Σ n_u ≤ R, then the
 * remainder spread one by one so Σ n_u = R exactly.
 */
function userActivity(rng: Random, U: number, R: number, M: number): Int32Array {
  const alpha = SYNTHETIC_MODEL.activityShape;
  const x = new Float64Array(U);
  const order = rng.shuffle(Int32Array.from({ length: U }, (_, i) => i));
  for (let r = 0; r < U; r++) {
    const p = (r + rng.next()) / U;
    x[order[r]] = Math.pow(1 - p, -1 / alpha) - 1;
  }
  const total = (lambda: number): number => {
    let s = 0;
    for (let u = 0; u < U; u++) {
      const n = 1 + Math.floor(lambda * x[u]);
      s += n > M ? M : n;
    }
    return s;
  };
  let lo = 0;
  let hi = 1;
  while (total(hi) < R && hi < 1e15) hi *= 2;
  for (let i = 0; i < 80 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (total(mid) <= R) lo = mid;
    else hi = mid;
  }
  const counts = new Int32Array(U);
  let sum = 0;
  for (let u = 0; u < U; u++) {
    const n = 1 + Math.floor(lo * x[u]);
    counts[u] = n > M ? M : n;
    sum += counts[u];
  }
  // Spread the remainder over users below the cap, in random order (R ≤ U·M guarantees room).
  while (sum < R) {
    for (let r = 0; r < U && sum < R; r++) {
      const u = order[r];
      if (counts[u] < M) {
        counts[u]++;
        sum++;
      }
    }
  }
  return counts;
}

/** Standard normal CDF via erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - 0.5 * r : 0.5 * r;
}

/**
 * E[clamp(round(s + ε), 1, 5)] for ε ~ N(0, noise²) = 1 + Σ_{t ∈ {1.5, 2.5, 3.5, 4.5}} Φ((s − t)/noise),
 * tabulated every 1/1024 on s ∈ [−4, 10] and interpolated linearly (error < 1e-6). With `step` 0.5
 * (half stars), E[clamp(round(2(s + ε))/2, 0.5, 5)] = 0.5 + 0.5 Σ_{t ∈ {0.75, 1.25, …, 4.75}} Φ((s − t)/noise).
 */
export function expectedRatingTable(noise: number, step: 1 | 0.5 = 1): (s: number) => number {
  const exact = (s: number): number => {
    if (step === 0.5) {
      if (noise === 0) {
        const c = Math.round(2 * s);
        return (c < 1 ? 1 : c > 10 ? 10 : c) / 2;
      }
      let e = 0.5;
      for (let t = 0.75; t < 5; t += 0.5) e += 0.5 * normalCdf((s - t) / noise);
      return e;
    }
    if (noise === 0) {
      const r = Math.round(s);
      return r < 1 ? 1 : r > 5 ? 5 : r;
    }
    return 1 + normalCdf((s - 1.5) / noise) + normalCdf((s - 2.5) / noise) + normalCdf((s - 3.5) / noise) + normalCdf((s - 4.5) / noise);
  };
  if (noise === 0) return exact;
  const lo = -4;
  const steps = 14 * 1024;
  const table = new Float64Array(steps + 2);
  for (let i = 0; i <= steps + 1; i++) table[i] = exact(lo + i / 1024);
  return (s: number): number => {
    if (s <= lo) return table[0];
    const x = (s - lo) * 1024;
    const i = Math.floor(x);
    if (i >= steps) return table[steps];
    const f = x - i;
    return table[i] + f * (table[i + 1] - table[i]);
  };
}
