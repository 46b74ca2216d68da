// What a synthetic data set is made of: its options and their defaults, the Netflix-like
// constants, and the shapes of the generated data and of its planted model.
import { MovieCatalog } from '../catalog';
import { RatingList } from '../rating-matrix';

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
