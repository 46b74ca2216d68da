import { SeededRandom } from './random';

/**
 * Ratings as plain typed arrays, the layout `@recsys/data` stores them in (structurally a
 * `RatingList`): external user and movie ids, ratings as stars × 2, optional days. Each lib's specs
 * turn them into their own structures (`buildRatingMatrix(triplets, scale)` in most of them).
 */
export interface RatingTriplets {
  readonly length: number;
  readonly users: Int32Array;
  readonly movies: Int32Array;
  /** stars × 2 (1..10 for half stars 0.5..5) */
  readonly ratings: Uint8Array;
  /** days since 1970-01-01, or null without dates */
  readonly days: Uint16Array | null;
}

/** What the two generators share: the stream, the external ids, the stars and the days of a rating. */
export interface RandomRatingSource {
  /** Seed of a fresh SeededRandom (default 42); ignored when `random` is given. */
  seed?: number;
  /** Draw from this generator instead (to share one stream with draws made before or after). */
  random?: SeededRandom;
  /** External id of internal user `u` (0-based). Default `u + 1`. */
  userId?: (u: number) => number;
  /** External id of internal movie `m` (0-based). Default `m + 1`. */
  movieId?: (m: number) => number;
  /** Stars of the rating of (u, m), drawn from `random`. Default whole stars `1 + random.int(5)`. */
  stars?: (u: number, m: number, random: SeededRandom) => number;
  /** With dates: day `first + random.int(span)`, drawn after the stars. Default: no days. */
  days?: { first: number; span: number };
}

export interface RandomRatingsOptions extends RandomRatingSource {
  users: number;
  movies: number;
  /** Probability that user u rated movie m (0-based): a constant, or a function for long tails and heavy raters. */
  density: number | ((u: number, m: number) => number);
}

export interface RandomRatingDrawsOptions extends RandomRatingSource {
  /** Number of draws; (user, movie) pairs may repeat (the matrix builder keeps one of them). */
  count: number;
  users: number;
  movies: number;
}

/**
 * A density for {@link randomRatings} with a long tail: popularity falls linearly with the movie
 * index (`density` × 1.5 for the first movie down to × 0.5 for the last) and every
 * `heavyEvery`-th user (0, heavyEvery, …) rates `heavy` times as often, the others `light` times.
 */
export function longTailDensity(density: number, movies: number, users: { heavyEvery?: number; heavy?: number; light?: number } = {}): (u: number, m: number) => number {
  const { heavyEvery = 4, heavy = 2.5, light = 0.5 } = users;
  return (u, m) => density * (1.5 - m / movies) * (u % heavyEvery === 0 ? heavy : light);
}

/**
 * A small random rating matrix: for each user u = 0..users−1 and each movie m = 0..movies−1 in
 * that order, one uniform draw decides whether u rated m (probability `density`), then the stars
 * and the day are drawn. The same seed gives the same triplets on every platform.
 *
 * @example buildRatingMatrix(randomRatings({ seed: 4, users: 25, movies: 18, density: 0.4 }), WHOLE_STARS_1_TO_5).matrix
 */
export function randomRatings(options: RandomRatingsOptions): RatingTriplets {
  const { users, movies, density } = options;
  const random = options.random ?? new SeededRandom(options.seed ?? 42);
  const out = new TripletWriter(options, Math.max(16, Math.ceil(users * movies * (typeof density === 'number' ? density : 0.5))));
  for (let u = 0; u < users; u++) {
    for (let m = 0; m < movies; m++) {
      const p = typeof density === 'number' ? density : density(u, m);
      if (random.next() < p) out.push(u, m, random);
    }
  }
  return out.finish();
}

/**
 * `count` random ratings: each draws a user in [0, users), a movie in [0, movies), the stars and
 * the day, in that order. Pairs may repeat. The same seed gives the same triplets everywhere.
 */
export function randomRatingDraws(options: RandomRatingDrawsOptions): RatingTriplets {
  const random = options.random ?? new SeededRandom(options.seed ?? 42);
  const out = new TripletWriter(options, options.count);
  for (let k = 0; k < options.count; k++) {
    const u = random.int(options.users);
    const m = random.int(options.movies);
    out.push(u, m, random);
  }
  return out.finish();
}

/** Growable typed arrays for the generators (doubling, trimmed at the end). */
class TripletWriter {
  private users: Int32Array;
  private movies: Int32Array;
  private ratings: Uint8Array;
  private days: Uint16Array | null;
  private n = 0;

  constructor(
    private readonly source: RandomRatingSource,
    capacity: number,
  ) {
    const cap = Math.max(16, capacity);
    this.users = new Int32Array(cap);
    this.movies = new Int32Array(cap);
    this.ratings = new Uint8Array(cap);
    this.days = source.days ? new Uint16Array(cap) : null;
  }

  push(u: number, m: number, random: SeededRandom): void {
    const { userId, movieId, stars, days } = this.source;
    const s = stars ? stars(u, m, random) : 1 + random.int(5);
    const code = Math.round(2 * s);
    if (code !== 2 * s || code < 1 || code > 10) throw new RangeError(`stars must be a multiple of 0.5 in [0.5, 5], got ${s}`);
    const day = days ? days.first + random.int(days.span) : 0;
    if (this.n === this.users.length) this.grow();
    const k = this.n++;
    this.users[k] = userId ? userId(u) : u + 1;
    this.movies[k] = movieId ? movieId(m) : m + 1;
    this.ratings[k] = code;
    if (this.days) this.days[k] = day;
  }

  finish(): RatingTriplets {
    const n = this.n;
    return { length: n, users: this.users.slice(0, n), movies: this.movies.slice(0, n), ratings: this.ratings.slice(0, n), days: this.days ? this.days.slice(0, n) : null };
  }

  private grow(): void {
    const cap = this.users.length * 2;
    const users = new Int32Array(cap);
    users.set(this.users);
    this.users = users;
    const movies = new Int32Array(cap);
    movies.set(this.movies);
    this.movies = movies;
    const ratings = new Uint8Array(cap);
    ratings.set(this.ratings);
    this.ratings = ratings;
    if (this.days) {
      const days = new Uint16Array(cap);
      days.set(this.days);
      this.days = days;
    }
  }
}
