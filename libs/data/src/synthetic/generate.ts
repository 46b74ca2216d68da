import { derive } from '@recsys/core';
import { Movie, MovieCatalog } from '../catalog';
import { generateTitles, syntheticGenreNames } from './titles';
import { buildAlias, makeUserIds, nthSmallest, pickCumulative, userActivity, userAt, zipfOffset } from './distributions';
import { expectedRatingTable, plantedScore } from './planted-model';
import { NETFLIX_FIRST_DAY, NETFLIX_LAST_DAY, resolveSyntheticOptions, SYNTHETIC_MODEL, SyntheticData, SyntheticOptions } from './synthetic-options';

export * from './synthetic-options';
export * from './planted-model';

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
