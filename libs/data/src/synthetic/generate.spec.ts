import { buildRatingMatrix } from '../build-matrix';
import { WHOLE_STARS_1_TO_5 } from '../rating-scale';
import {
  generateSynthetic,
  NETFLIX_FIRST_DAY,
  NETFLIX_LAST_DAY,
  NETFLIX_RATING_SHARES,
  normalCdf,
  plantedScore,
  resolveSyntheticOptions,
  SyntheticData,
} from './generate';

/** Distinct values of an id array (plain Set, independent of IdIndex). */
function distinct(a: Int32Array): Set<number> {
  return new Set(a);
}

/** Ratings per user id, with a plain Map. */
function countsByUser(data: SyntheticData): number[] {
  const counts = new Map<number, number>();
  for (const u of data.list.users) counts.set(u, (counts.get(u) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => a - b);
}

describe('generateSynthetic', () => {
  // Generating and writing thousands of files: allow for a busy machine.
  jest.setTimeout(60_000);
  const data = generateSynthetic({ ratings: 200_000, seed: 7 });
  const opts = data.options;

  it('fills in the documented defaults', () => {
    expect(opts.users).toBe(1000); // round(200000 / 200)
    expect(opts.movies).toBe(1600); // max(20, round(200000 / 5600) = 36, 8 · 200)
    expect(opts.factors).toBe(10);
    expect(opts.genres).toBe(12);
    expect(opts.noise).toBe(0.8);
    expect(resolveSyntheticOptions({ ratings: 1e8 }).movies).toBe(17770);
    expect(resolveSyntheticOptions({ ratings: 1e8 }).users).toBe(500_000);
    expect(resolveSyntheticOptions({ ratings: 1e7 }).movies).toBe(1786); // round(1e7 / 5600)
    expect(resolveSyntheticOptions({ ratings: 1000 }).users).toBe(10); // clamped up from 5
    expect(resolveSyntheticOptions({ ratings: 1000 }).movies).toBe(800);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateSynthetic({ ratings: 20_000, seed: 3 });
    const b = generateSynthetic({ ratings: 20_000, seed: 3 });
    const c = generateSynthetic({ ratings: 20_000, seed: 4 });
    expect(Buffer.compare(Buffer.from(a.list.users.buffer), Buffer.from(b.list.users.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.list.movies.buffer), Buffer.from(b.list.movies.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.list.ratings), Buffer.from(b.list.ratings))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.list.days!.buffer), Buffer.from(b.list.days!.buffer))).toBe(0);
    expect(a.catalog.list()).toEqual(b.catalog.list());
    expect(a.noiseFloorRmse).toBe(b.noiseFloorRmse);
    expect(Buffer.compare(Buffer.from(a.list.movies.buffer), Buffer.from(c.list.movies.buffer))).not.toBe(0);
    expect(Buffer.compare(Buffer.from(a.list.ratings), Buffer.from(c.list.ratings))).not.toBe(0);
  });

  it('produces exactly the requested number of distinct (user, movie) pairs', () => {
    for (const o of [{ ratings: 1000 }, { ratings: 5000 }, { ratings: 12_345, users: 40, movies: 700 }, { ratings: 3000, users: 10, movies: 300 }]) {
      const d = generateSynthetic(o);
      expect(d.list.length).toBe(o.ratings);
      expect(d.list.users.length).toBe(o.ratings);
      const pairs = new Set<number>();
      for (let k = 0; k < d.list.length; k++) pairs.add(d.list.users[k] * 100_000 + d.list.movies[k]);
      expect(pairs.size).toBe(o.ratings);
    }
    expect(buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).duplicates).toBe(0);
  });

  it('handles a dense corner: ratings = users × movies', () => {
    const d = generateSynthetic({ ratings: 600, users: 20, movies: 30 });
    expect(d.list.length).toBe(600);
    expect(buildRatingMatrix(d.list, WHOLE_STARS_1_TO_5).matrix.density()).toBe(1);
  });

  it('rates in whole stars 1..5 with dates in 1999-11-11 .. 2005-12-31', () => {
    let offScale = 0;
    for (const code of data.list.ratings) if (code !== 2 && code !== 4 && code !== 6 && code !== 8 && code !== 10) offScale++;
    expect(offScale).toBe(0);
    let minDay = Infinity;
    let maxDay = -Infinity;
    for (const d of data.list.days!) {
      minDay = Math.min(minDay, d);
      maxDay = Math.max(maxDay, d);
    }
    expect(minDay).toBeGreaterThanOrEqual(NETFLIX_FIRST_DAY);
    expect(maxDay).toBeLessThanOrEqual(NETFLIX_LAST_DAY);
    expect(new Date(NETFLIX_FIRST_DAY * 86_400_000).toISOString().slice(0, 10)).toBe('1999-11-11');
    expect(new Date(NETFLIX_LAST_DAY * 86_400_000).toISOString().slice(0, 10)).toBe('2005-12-31');
    expect(generateSynthetic({ ratings: 1000, withDates: false }).list.days).toBeNull();
  });

  it('gives every user and every movie at least one rating, with movie ids 1..movies', () => {
    expect(distinct(data.list.users).size).toBe(opts.users);
    const movies = distinct(data.list.movies);
    expect(movies.size).toBe(opts.movies);
    expect(Math.min(...movies)).toBe(1);
    expect(Math.max(...movies)).toBe(opts.movies);
    // Small data where Zipf popularity alone leaves many movies unrated.
    const small = generateSynthetic({ ratings: 1000, seed: 5 });
    expect(distinct(small.list.movies).size).toBe(small.options.movies);
    expect(distinct(small.list.users).size).toBe(small.options.users);
  });

  it('uses sparse Netflix-like user ids below 2^31, or dense ones on request', () => {
    const ids = [...distinct(data.list.users)].sort((a, b) => a - b);
    expect(ids[0]).toBeGreaterThanOrEqual(1);
    expect(ids[ids.length - 1]).toBeLessThan(2_649_430);
    expect(ids[ids.length - 1]).toBeGreaterThan(1_000_000); // spread over the range, not packed
    const dense = generateSynthetic({ ratings: 1000, sparseUserIds: false, startUserId: 100, startMovieId: 50 });
    expect([...distinct(dense.list.users)].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
    expect(Math.min(...distinct(dense.list.movies))).toBe(50);
    expect(dense.catalog.has(50)).toBe(true);
    expect(dense.catalog.has(49)).toBe(false);
  });

  it('has a heavy-tailed user activity and movie popularity', () => {
    const counts = countsByUser(data);
    const median = counts[counts.length >> 1];
    const max = counts[counts.length - 1];
    expect(counts[0]).toBeGreaterThanOrEqual(1);
    expect(max).toBeGreaterThan(8 * median);
    expect(median).toBeGreaterThan(20);
    expect(median).toBeLessThan(200); // most users rate tens of movies (mean 200)
    const movieCounts = new Map<number, number>();
    for (const m of data.list.movies) movieCounts.set(m, (movieCounts.get(m) ?? 0) + 1);
    const mc = [...movieCounts.values()].sort((a, b) => a - b);
    expect(mc[mc.length - 1]).toBeGreaterThan(3 * mc[mc.length >> 1]);
  });

  it('has a Netflix-like histogram: every share within 3 points of 5/10/29/34/22 %, mean 3.5..3.7', () => {
    const big = generateSynthetic({ ratings: 1_000_000 });
    const counts = [0, 0, 0, 0, 0];
    let sum = 0;
    for (const code of big.list.ratings) {
      counts[code / 2 - 1]++;
      sum += code / 2;
    }
    const shares = counts.map((c) => c / big.list.length);
    for (let r = 0; r < 5; r++) {
      expect(big.histogram[r]).toBeCloseTo(shares[r], 12);
      expect(Math.abs(shares[r] - NETFLIX_RATING_SHARES[r])).toBeLessThan(0.03);
    }
    expect(sum / big.list.length).toBeGreaterThan(3.5);
    expect(sum / big.list.length).toBeLessThan(3.7);
  });

  it('reports noise floors that a direct recomputation from the planted model confirms', () => {
    const check = (d: SyntheticData): { best: number; planted: number } => {
      const p = d.planted;
      const userIndex = new Map<number, number>();
      p.userIds.forEach((id, u) => userIndex.set(id, u));
      let best = 0;
      let planted = 0;
      for (let k = 0; k < d.list.length; k++) {
        const u = userIndex.get(d.list.users[k])!;
        const m = d.list.movies[k] - d.options.startMovieId;
        const s = plantedScore(p.mu, p.userBias, p.movieBias, p.userFactors, p.movieFactors, p.factors, u, m);
        const r = d.list.ratings[k] / 2;
        // E[r | s] straight from the definition: Σ_r r · P(round(s + ε) clamped = r).
        const sd = d.options.noise;
        const cdf = (x: number): number => (sd === 0 ? (s <= x ? 0 : 1) : normalCdf((s - x) / sd));
        const probs = [1 - cdf(1.5), cdf(1.5) - cdf(2.5), cdf(2.5) - cdf(3.5), cdf(3.5) - cdf(4.5), cdf(4.5)];
        const expected = probs.reduce((acc, q, i) => acc + q * (i + 1), 0);
        best += (expected - r) ** 2;
        planted += (s - r) ** 2;
      }
      return { best: Math.sqrt(best / d.list.length), planted: Math.sqrt(planted / d.list.length) };
    };
    const small = generateSynthetic({ ratings: 1000, seed: 5 }); // many moved ratings (unrated movies)
    for (const d of [data, small]) {
      const { best, planted } = check(d);
      expect(d.noiseFloorRmse).toBeCloseTo(best, 5);
      expect(d.plantedScoreRmse).toBeCloseTo(planted, 5);
      expect(d.noiseFloorRmse).toBeLessThanOrEqual(d.plantedScoreRmse);
    }
    // Noise 0.8 plus rounding: the floor sits near sqrt(0.8² + 1/12) ≈ 0.85 less the clamping gain.
    expect(data.noiseFloorRmse).toBeGreaterThan(0.7);
    expect(data.noiseFloorRmse).toBeLessThan(0.85);
    // Without noise the rating is a function of the planted score: the best predictor is exact.
    const exact = generateSynthetic({ ratings: 5000, noise: 0 });
    expect(exact.noiseFloorRmse).toBe(0);
  });

  it('rates round(planted score) clamped to 1..5 when there is no noise', () => {
    const d = generateSynthetic({ ratings: 5000, noise: 0, seed: 11 });
    const p = d.planted;
    const userIndex = new Map<number, number>();
    p.userIds.forEach((id, u) => userIndex.set(id, u));
    let mismatches = 0;
    for (let k = 0; k < d.list.length; k++) {
      const s = plantedScore(p.mu, p.userBias, p.movieBias, p.userFactors, p.movieFactors, p.factors, userIndex.get(d.list.users[k])!, d.list.movies[k] - 1);
      if (d.list.ratings[k] !== 2 * Math.min(5, Math.max(1, Math.round(s)))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('normalCdf matches tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 6);
    expect(normalCdf(3)).toBeCloseTo(0.998650102, 6);
  });

  it('builds a catalog with every movie, plausible years, planted genres and the file-format quirks', () => {
    const list = data.catalog.list();
    expect(list.length).toBe(opts.movies);
    expect(list.map((m) => m.id)).toEqual(Array.from({ length: opts.movies }, (_, i) => i + 1));
    for (const m of list) {
      if (m.year !== null) {
        expect(m.year).toBeGreaterThanOrEqual(1920);
        expect(m.year).toBeLessThanOrEqual(2005);
      }
      expect(m.genres[0]).toBe(data.genreNames[data.movieGenre[m.id - 1]]);
      expect(m.title.length).toBeGreaterThan(0);
      expect(/[^\x00-\xff]/.test(m.title)).toBe(false); // latin1-encodable
    }
    expect(list.some((m) => m.title.includes(','))).toBe(true);
    expect(list.some((m) => /[^\x20-\x7e]/.test(m.title))).toBe(true);
    expect(list.some((m) => m.title.includes('"'))).toBe(true);
    expect(data.genreNames.slice(0, 3)).toEqual(['Drama', 'Comedy', 'Action']);
    expect(new Set(data.movieGenre).size).toBe(12);
    // A few unknown years in a large catalog (share 0.3 %).
    const netflixSized = generateSynthetic({ ratings: 200_000, movies: 17_770 });
    const nulls = netflixSized.catalog.list().filter((m) => m.year === null).length;
    expect(nulls).toBeGreaterThan(10);
    expect(nulls).toBeLessThan(120);
  });

  it('plants genres that co-rating (Jaccard) and factors both recover', () => {
    const M = opts.movies;
    const U = opts.users;
    const userIndex = new Map<number, number>();
    data.planted.userIds.forEach((id, u) => userIndex.set(id, u));
    // Raters of each movie as a bitmap row.
    const raters = new Uint8Array(M * U);
    for (let k = 0; k < data.list.length; k++) raters[(data.list.movies[k] - 1) * U + userIndex.get(data.list.users[k])!] = 1;
    const jaccard = (a: number, b: number): number => {
      let inter = 0;
      let union = 0;
      for (let u = 0; u < U; u++) {
        const x = raters[a * U + u];
        const y = raters[b * U + u];
        inter += x & y;
        union += x | y;
      }
      return union === 0 ? 0 : inter / union;
    };
    const K = data.planted.factors;
    const q = data.planted.movieFactors;
    const cosine = (a: number, b: number): number => {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let f = 0; f < K; f++) {
        ab += q[a * K + f] * q[b * K + f];
        aa += q[a * K + f] ** 2;
        bb += q[b * K + f] ** 2;
      }
      return ab / Math.sqrt(aa * bb);
    };
    let same = 0;
    let sameN = 0;
    let diff = 0;
    let diffN = 0;
    let sameCos = 0;
    let diffCos = 0;
    // Deterministic pseudo-random pairs.
    let x = 12345;
    for (let t = 0; t < 20_000; t++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const a = x % M;
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const b = x % M;
      if (a === b) continue;
      if (data.movieGenre[a] === data.movieGenre[b]) {
        same += jaccard(a, b);
        sameCos += cosine(a, b);
        sameN++;
      } else {
        diff += jaccard(a, b);
        diffCos += cosine(a, b);
        diffN++;
      }
    }
    expect(sameN).toBeGreaterThan(500);
    expect(same / sameN).toBeGreaterThan(1.5 * (diff / diffN));
    expect(sameCos / sameN).toBeGreaterThan(0.6);
    expect(diffCos / diffN).toBeLessThan(0.1);

    // Top-10 Jaccard neighbours of the 100 most rated movies: mostly the same genre.
    const counts = new Int32Array(M);
    for (const m of data.list.movies) counts[m - 1]++;
    const top = Array.from(counts.keys()).sort((a, b) => counts[b] - counts[a]).slice(0, 100);
    let hits = 0;
    let chance = 0;
    const genreSize = new Int32Array(12);
    for (const g of data.movieGenre) genreSize[g]++;
    for (const a of top) {
      const scores: Array<[number, number]> = [];
      for (let b = 0; b < M; b++) if (b !== a) scores.push([jaccard(a, b), b]);
      scores.sort((p, r) => r[0] - p[0]);
      for (let j = 0; j < 10; j++) if (data.movieGenre[scores[j][1]] === data.movieGenre[a]) hits++;
      chance += (genreSize[data.movieGenre[a]] - 1) / (M - 1);
    }
    console.log(
      `genre signal: mean Jaccard same ${(same / sameN).toFixed(4)} vs different ${(diff / diffN).toFixed(4)}; ` +
        `cosine ${(sameCos / sameN).toFixed(3)} vs ${(diffCos / diffN).toFixed(3)}; top-10 same-genre ${hits / 1000} vs chance ${(chance / 100).toFixed(3)}`,
    );
    expect(hits / 1000).toBeGreaterThan(2 * (chance / 100));
  });

  it('refuses infeasible options with a RangeError', () => {
    expect(() => generateSynthetic({ ratings: 100, users: 10, movies: 5 })).toThrow(/exceed 10 users × 5 movies/);
    expect(() => generateSynthetic({ ratings: 10, users: 20, movies: 20 })).toThrow(RangeError);
    expect(() => generateSynthetic({ ratings: 1.5 })).toThrow(/positive integer/);
    expect(() => generateSynthetic({ ratings: 1000, noise: -1 })).toThrow(/noise/);
  });
});
