import * as fs from 'node:fs';
import * as path from 'node:path';
import { Random } from '@recsys/core';
import { buildRatingMatrix, IdIndex, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { Baselines, fitBaselinesAls } from './baselines';
import { mostSimilar, SimilarityMetric, SimilarityScorer, similarity, SIMILARITY_METRICS } from './similarity';

// ---- Plain reference implementation (sets / maps, per-pair intersections, full sort) ----

/** A matrix from [externalUser, externalMovie, stars] rows. */
function matrixOf(rows: Array<[number, number, number]>): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/** Random sparse matrix with a long tail: some movies popular, some rated once. */
function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  const rng = new Random(seed);
  const rows: Array<[number, number, number]> = [];
  for (let u = 0; u < users; u++) {
    for (let m = 0; m < movies; m++) {
      // Popularity falls with the movie number; every third user is a heavy rater.
      const p = density * (1.5 - m / movies) * (u % 3 === 0 ? 2 : 0.6);
      if (rng.next() < p) rows.push([100 + 7 * u, 10 + 3 * m, 1 + rng.int(5)]);
    }
  }
  return matrixOf(rows);
}

interface ReferenceNeighbour {
  movie: number;
  similarity: number;
  support: number;
}

/** Ratings of each internal movie as a Map user → stars (the plain way: a dict per movie). */
function ratingsByMovie(matrix: RatingMatrix): Array<Map<number, number>> {
  const out: Array<Map<number, number>> = [];
  for (let m = 0; m < matrix.nMovies; m++) {
    const map = new Map<number, number>();
    for (let p = matrix.moviePtr[m]; p < matrix.moviePtr[m + 1]; p++) map.set(matrix.movieUsers[p], matrix.movieRatings[p] / 2);
    out.push(map);
  }
  return out;
}

/** Similarity of one pair straight from the definitions, sums over common users in ascending order. */
function referenceSimilarity(
  byMovie: Array<Map<number, number>>,
  m: number,
  n: number,
  metric: SimilarityMetric,
  minSupport: number,
  shrinkage: number,
  baselines: Baselines | null,
): ReferenceNeighbour {
  const a = byMovie[m];
  const b = byMovie[n];
  const common = [...a.keys()].filter((u) => b.has(u)).sort((x, y) => x - y);
  const support = common.length;
  const union = new Set([...a.keys(), ...b.keys()]).size;
  let similarity = 0;
  if (support >= minSupport && support > 0) {
    if (metric === 'jaccard') similarity = support / union;
    else if (metric === 'cosine') {
      let xy = 0;
      let xx = 0;
      let yy = 0;
      for (const u of common) {
        xy += a.get(u)! * b.get(u)!;
        xx += a.get(u)! ** 2;
        yy += b.get(u)! ** 2;
      }
      similarity = xy / Math.sqrt(xx * yy);
    } else if (metric === 'pearson') {
      let x = 0;
      let y = 0;
      let xy = 0;
      let xx = 0;
      let yy = 0;
      for (const u of common) {
        const ru = a.get(u)!;
        const rv = b.get(u)!;
        x += ru;
        y += rv;
        xy += ru * rv;
        xx += ru * ru;
        yy += rv * rv;
      }
      const den = Math.sqrt((support * xx - x * x) * (support * yy - y * y));
      similarity = den === 0 ? 0 : (support * xy - x * y) / den;
    } else {
      const bl = baselines!;
      let xy = 0;
      let xx = 0;
      let yy = 0;
      for (const u of common) {
        const base = bl.globalMean + bl.userBias[u];
        const dx = a.get(u)! - (base + bl.movieBias[m]);
        const dy = b.get(u)! - (base + bl.movieBias[n]);
        xy += dx * dy;
        xx += dx * dx;
        yy += dy * dy;
      }
      const den = Math.sqrt(xx * yy);
      similarity = support < 2 || den === 0 ? 0 : (xy / den) * ((support - 1) / (support - 1 + shrinkage));
    }
  }
  return { movie: n, similarity, support };
}

/** MostSimilar by the plain definition: score every other rated movie, sort all, take k. */
function referenceMostSimilar(
  matrix: RatingMatrix,
  m: number,
  k: number,
  metric: SimilarityMetric,
  minSupport: number,
  shrinkage: number,
  baselines: Baselines | null,
): ReferenceNeighbour[] {
  const byMovie = ratingsByMovie(matrix);
  const all: ReferenceNeighbour[] = [];
  for (let n = 0; n < matrix.nMovies; n++) {
    if (n === m || byMovie[n].size === 0) continue;
    const r = referenceSimilarity(byMovie, m, n, metric, minSupport, shrinkage, baselines);
    if (r.support >= minSupport) all.push(r);
  }
  all.sort((p, q) => q.similarity - p.similarity || q.movie - p.movie);
  return all.slice(0, k);
}

// ---- Tests ----

/** External ids of a result, for readable expectations. */
function idsOf(matrix: RatingMatrix, result: Array<{ movie: number }>): number[] {
  return result.map((r) => matrix.movies.ids[r.movie]);
}

// Users 1..4, movies 10, 20, 30, 40 (internal 0..3):
//   user 1: 10→5, 20→3, 30→4     U_10 = {1,2,3}
//   user 2: 10→3, 20→1, 40→2     U_20 = {1,2,4}
//   user 3: 10→4, 30→5           U_30 = {1,3,4}
//   user 4: 20→2, 30→1           U_40 = {2}
const A_ROWS: Array<[number, number, number]> = [
  [1, 10, 5],
  [1, 20, 3],
  [1, 30, 4],
  [2, 10, 3],
  [2, 20, 1],
  [2, 40, 2],
  [3, 10, 4],
  [3, 30, 5],
  [4, 20, 2],
  [4, 30, 1],
];
const A = matrixOf(A_ROWS);
const idx = (matrix: RatingMatrix, id: number) => matrix.movies.indexOf(id);

describe('jaccard', () => {
  it('gives |U_m ∩ U_n| / |U_m ∪ U_n| and orders ties by larger external id', () => {
    // 10~20: ∩ {1,2}, ∪ {1,2,3,4} → 2/4;  10~30: ∩ {1,3}, ∪ {1,2,3,4} → 2/4;  10~40: ∩ {2}, ∪ {1,2,3} → 1/3.
    const r = mostSimilar(A, idx(A, 10), 3);
    expect(idsOf(A, r)).toEqual([30, 20, 40]);
    expect(r.map((x) => x.similarity)).toEqual([0.5, 0.5, 1 / 3]);
    expect(r.map((x) => x.support)).toEqual([2, 2, 1]);
    expect(idsOf(A, mostSimilar(A, idx(A, 10), 2))).toEqual([30, 20]);
    expect(mostSimilar(A, idx(A, 10), 0)).toEqual([]);
    // k larger than the candidates: all 3 others.
    expect(mostSimilar(A, idx(A, 10), 50)).toHaveLength(3);
  });

  it('keeps movies without common raters as candidates with similarity 0 (default minSupport 0)', () => {
    // 40~20: ∩ {2}, ∪ {1,2,4} → 1/3;  40~10: 1/3;  40~30: no common rater → 0.
    const r = mostSimilar(A, idx(A, 40), 3);
    expect(idsOf(A, r)).toEqual([20, 10, 30]);
    expect(r.map((x) => x.similarity)).toEqual([1 / 3, 1 / 3, 0]);
    expect(r.map((x) => x.support)).toEqual([1, 1, 0]);
  });

  it('applies minSupport', () => {
    expect(idsOf(A, mostSimilar(A, idx(A, 40), 3, { minSupport: 1 }))).toEqual([20, 10]);
    // 10~40 has one common rater: below minSupport 2 it is no neighbour, and its similarity is 0.
    expect(idsOf(A, mostSimilar(A, idx(A, 10), 3, { minSupport: 2 }))).toEqual([30, 20]);
    expect(similarity(A, idx(A, 10), idx(A, 40), { minSupport: 2 })).toEqual({ similarity: 0, support: 1 });
    expect(similarity(A, idx(A, 10), idx(A, 40))).toEqual({ similarity: 1 / 3, support: 1 });
    expect(mostSimilar(A, idx(A, 10), 3, { minSupport: 3 })).toEqual([]);
  });

  it('ranks all other movies at 0 by descending id when the raters rated nothing else', () => {
    // User 9 rated only movie 99.
    const B = matrixOf([...A_ROWS, [9, 99, 4]]);
    for (const metric of SIMILARITY_METRICS) {
      const r = mostSimilar(B, idx(B, 99), 10, { metric });
      expect(idsOf(B, r)).toEqual([40, 30, 20, 10]);
      expect(r.every((x) => x.similarity === 0 && x.support === 0)).toBe(true);
      expect(idsOf(B, mostSimilar(B, idx(B, 99), 2, { metric }))).toEqual([40, 30]);
      expect(mostSimilar(B, idx(B, 99), 10, { metric, minSupport: 1 })).toEqual([]);
    }
  });
  it('never offers a movie without ratings as a candidate', () => {
    // Built directly: movie 20 is in the id index but has no rating (users 1, 2; 1 rated 10 and 30, 2 rated 10).
    const M = new RatingMatrix(
      IdIndex.fromSorted(Int32Array.from([1, 2])),
      IdIndex.fromSorted(Int32Array.from([10, 20, 30])),
      WHOLE_STARS_1_TO_5,
      Uint32Array.from([0, 2, 3]),
      Int32Array.from([0, 2, 0]),
      Uint8Array.from([8, 6, 4]),
      null,
      Uint32Array.from([0, 2, 2, 3]),
      Int32Array.from([0, 1, 0]),
      Uint8Array.from([8, 4, 6]),
    );
    // 10~30: ∩ {1}, ∪ {1,2} → 1/2.
    expect(mostSimilar(M, 0, 5)).toEqual([{ movie: 2, similarity: 0.5, support: 1 }]);
    expect(idsOf(M, mostSimilar(M, 1, 5))).toEqual([30, 10]);
  });
});

describe('cosine', () => {
  it('gives Σxy / √(Σx²·Σy²) over common raters', () => {
    // 10~20: common {1,2}: x=(5,3), y=(3,1): Σxy = 15+3 = 18, Σx² = 34, Σy² = 10 → 18/√340 ≈ 0.97619
    // 10~30: common {1,3}: x=(5,4), y=(4,5): Σxy = 40, Σx² = 41, Σy² = 41 → 40/41 ≈ 0.97561
    // 10~40: common {2}: 3·2 / √(9·4) = 1
    const r = mostSimilar(A, idx(A, 10), 3, { metric: 'cosine' });
    expect(idsOf(A, r)).toEqual([40, 20, 30]);
    expect(r[0].similarity).toBeCloseTo(1, 14);
    expect(r[1].similarity).toBeCloseTo(18 / Math.sqrt(340), 14);
    expect(r[2].similarity).toBeCloseTo(40 / 41, 14);
    expect(r.map((x) => x.support)).toEqual([1, 2, 2]);
  });
});

describe('pearson', () => {
  it('centres on the means over common raters; 0 when a denominator is 0', () => {
    // 10~20: n=2, x=(5,3), y=(3,1): num = 2·18 − 8·4 = 4, den = √((68−64)(20−16)) = 4 → 1
    // 10~30: x=(5,4), y=(4,5): num = 2·40 − 9·9 = −1, den = √((82−81)(82−81)) = 1 → −1
    // 10~40: n=1: den = 0 → 0
    const r = mostSimilar(A, idx(A, 10), 3, { metric: 'pearson' });
    expect(idsOf(A, r)).toEqual([20, 40, 30]);
    expect(r.map((x) => x.similarity)).toEqual([1, 0, -1]);
  });

  it('on three common raters', () => {
    // Users 1,2,3; movie 1: x=(2,4,3), movie 2: y=(1,5,4), movie 3: 4,4,4 (constant).
    // n=3, Σx=9, Σy=10, Σxy=2+20+12=34, Σx²=29, Σy²=42:
    //   num = 3·34 − 9·10 = 12, den = √((87−81)(126−100)) = √156 → 12/√156 ≈ 0.96077
    // movie 3 is constant: 3·48 − 12² = 0 → 0. Cosine 1~2: 34/√(29·42) = 34/√1218.
    const P = matrixOf([
      [1, 1, 2],
      [2, 1, 4],
      [3, 1, 3],
      [1, 2, 1],
      [2, 2, 5],
      [3, 2, 4],
      [1, 3, 4],
      [2, 3, 4],
      [3, 3, 4],
    ]);
    expect(similarity(P, 0, 1, { metric: 'pearson' }).similarity).toBeCloseTo(12 / Math.sqrt(156), 14);
    expect(similarity(P, 0, 2, { metric: 'pearson' })).toEqual({ similarity: 0, support: 3 });
    expect(similarity(P, 0, 1, { metric: 'cosine' }).similarity).toBeCloseTo(34 / Math.sqrt(1218), 14);
  });

  it('ranks an untouched movie (similarity 0) above negative correlations, ties by larger id', () => {
    // Movie 99 has no rater in common with 10: similarity 0, larger id than 40 (also 0).
    const B = matrixOf([...A_ROWS, [9, 99, 4]]);
    const r = mostSimilar(B, idx(B, 10), 10, { metric: 'pearson' });
    expect(idsOf(B, r)).toEqual([20, 99, 40, 30]);
    expect(r.map((x) => x.similarity)).toEqual([1, 0, 0, -1]);
    expect(r.map((x) => x.support)).toEqual([2, 0, 1, 2]);
  });
});

describe('pearson-baseline', () => {
  // Users 1,2,3 (internal 0,1,2), movies 1..4: movie 1 x=(2,4,3), movie 2 y=(1,5,4), movie 3
  // rated 4 by all, movie 4 rated 5 by user 1 only. Baselines given: μ = 3,
  // b_u = (1, 0, −1), b_i = (0.5, −0.5, 0, 0).
  const P = matrixOf([
    [1, 1, 2],
    [2, 1, 4],
    [3, 1, 3],
    [1, 2, 1],
    [2, 2, 5],
    [3, 2, 4],
    [1, 3, 4],
    [2, 3, 4],
    [3, 3, 4],
    [1, 4, 5],
  ]);
  const baselines: Baselines = {
    globalMean: 3,
    userBias: Float64Array.from([1, 0, -1]),
    movieBias: Float64Array.from([0.5, -0.5, 0, 0]),
  };

  it('correlates the residuals r − b_ui and shrinks by (n−1)/(n−1+shrinkage)', () => {
    // r − b_ui on movie 1: 2−4.5 = −2.5, 4−3.5 = 0.5, 3−2.5 = 0.5
    //              movie 2: 1−3.5 = −2.5, 5−2.5 = 2.5, 4−1.5 = 2.5
    // Σ dx·dy = 6.25+1.25+1.25 = 8.75; Σdx² = 6.75; Σdy² = 18.75; √(6.75·18.75) = 11.25
    // ρ = 8.75/11.25 = 7/9; shrunk with 100: 7/9 · 2/102 = 7/459.
    expect(similarity(P, 0, 1, { metric: 'pearson-baseline', baselines }).similarity).toBeCloseTo(7 / 459, 15);
    expect(similarity(P, 0, 1, { metric: 'pearson-baseline', baselines, shrinkage: 0 }).similarity).toBeCloseTo(7 / 9, 15);
    const r = mostSimilar(P, 0, 3, { metric: 'pearson-baseline', baselines, shrinkage: 0 });
    expect(r[0]).toEqual({ movie: 1, similarity: r[0].similarity, support: 3 });
    expect(r[0].similarity).toBeCloseTo(7 / 9, 15);
  });

  it('is 0 with fewer than 2 common raters, even without shrinkage', () => {
    // 1~4 share only user 1.
    expect(similarity(P, 0, 3, { metric: 'pearson-baseline', baselines, shrinkage: 0 })).toEqual({ similarity: 0, support: 1 });
  });

  it('fits baselines with fitBaselinesAls defaults when none are given', () => {
    const fitted = fitBaselinesAls(P);
    expect(similarity(P, 0, 1, { metric: 'pearson-baseline' })).toEqual(
      similarity(P, 0, 1, { metric: 'pearson-baseline', baselines: fitted }),
    );
    expect(() => similarity(P, 0, 1, { metric: 'pearson-baseline', baselines: { ...baselines, userBias: new Float64Array(2) } })).toThrow(
      /baselines do not fit the matrix: 2 user and 4 movie biases for 3 users and 4 movies/,
    );
  });
});

describe('argument checks', () => {
  it('rejects unknown movie indices, bad k and bad options clearly', () => {
    expect(() => mostSimilar(A, 4, 3)).toThrow('unknown internal movie index 4: the matrix has 4 movies (indices 0..3)');
    expect(() => mostSimilar(A, -1, 3)).toThrow(/unknown internal movie index -1/);
    expect(() => mostSimilar(A, 1.5, 3)).toThrow(/unknown internal movie index 1.5/);
    expect(() => similarity(A, 0, 9)).toThrow(/unknown internal movie index 9/);
    expect(() => new SimilarityScorer(A).mostSimilar(7, 1)).toThrow(/unknown internal movie index 7/);
    expect(() => new SimilarityScorer(A).similarityRow(0, new Float64Array(3))).toThrow('similarityRow: row has 3 entries, the matrix has 4 movies');
    expect(() => mostSimilar(A, 0, -1)).toThrow(/k must be a non-negative integer, got -1/);
    expect(() => mostSimilar(A, 0, 3, { minSupport: -2 })).toThrow(/minSupport must be a non-negative integer, got -2/);
    expect(() => mostSimilar(A, 0, 3, { shrinkage: -1 })).toThrow(/shrinkage must be a finite number ≥ 0, got -1/);
    expect(() => mostSimilar(A, 0, 3, { metric: 'msd' as SimilarityMetric })).toThrow(
      "unknown similarity metric 'msd' (expected one of: jaccard, cosine, pearson, pearson-baseline)",
    );
  });
});

describe('against the plain reference implementation on random matrices', () => {
  const cases: Array<{ seed: number; users: number; movies: number; density: number }> = [
    { seed: 1, users: 60, movies: 30, density: 0.25 },
    { seed: 2, users: 25, movies: 40, density: 0.08 },
    { seed: 3, users: 80, movies: 12, density: 0.5 },
  ];
  for (const c of cases) {
    const matrix = randomMatrix(c.seed, c.users, c.movies, c.density);
    const baselines = fitBaselinesAls(matrix);
    for (const metric of SIMILARITY_METRICS) {
      for (const minSupport of [0, 1, 3]) {
        it(`seed ${c.seed}, ${metric}, minSupport ${minSupport}: every movie's top-k and every pair`, () => {
          const shrinkage = metric === 'pearson-baseline' ? (minSupport === 1 ? 5 : 100) : 100;
          const options = { metric, minSupport, shrinkage, baselines };
          // One scorer for all queries: also checks that the accumulators are cleared between queries.
          const scorer = new SimilarityScorer(matrix, options);
          const byMovie = ratingsByMovie(matrix);
          for (const k of [1, 7, matrix.nMovies]) {
            for (let m = 0; m < matrix.nMovies; m++) {
              const expected = referenceMostSimilar(matrix, m, k, metric, minSupport, shrinkage, baselines);
              const actual = scorer.mostSimilar(m, k);
              expect(actual.map((x) => x.movie)).toEqual(expected.map((x) => x.movie));
              expect(actual.map((x) => x.support)).toEqual(expected.map((x) => x.support));
              for (let j = 0; j < actual.length; j++) expect(Math.abs(actual[j].similarity - expected[j].similarity)).toBeLessThanOrEqual(1e-12);
            }
          }
          for (let m = 0; m < matrix.nMovies; m++) {
            for (let n = 0; n < matrix.nMovies; n++) {
              const r = referenceSimilarity(byMovie, m, n, metric, minSupport, shrinkage, baselines);
              const s = similarity(matrix, m, n, options);
              expect(s.support).toBe(r.support);
              expect(Math.abs(s.similarity - r.similarity)).toBeLessThanOrEqual(1e-12);
            }
          }
          // similarityRow: every pair at once, 0 below minSupport and on the diagonal.
          const row = new Float64Array(matrix.nMovies);
          for (let m = 0; m < matrix.nMovies; m++) {
            scorer.similarityRow(m, row);
            for (let n = 0; n < matrix.nMovies; n++) {
              const expected = n === m ? 0 : referenceSimilarity(byMovie, m, n, metric, minSupport, shrinkage, baselines).similarity;
              expect(Math.abs(row[n] - expected)).toBeLessThanOrEqual(1e-12);
            }
          }
          // The pair function and the scorer share the summation order: identical values.
          const top = scorer.mostSimilar(0, matrix.nMovies);
          for (const t of top) expect(similarity(matrix, 0, t.movie, options).similarity).toBe(t.similarity);
        });
      }
    }
  }
});

// ---- The notebook's own data ----
const sharedData = path.resolve(__dirname, '../../..', '../shared/data');
const netflixRatings = path.join(sharedData, 'netflix-kaggle-sample', 'Netflix_Dataset_Rating.csv');
const haveNetflix = fs.existsSync(netflixRatings);
if (!haveNetflix) console.log(`SKIPPED the Netflix sample tests: ${netflixRatings} is absent`);

(haveNetflix ? describe : describe.skip)('Netflix Kaggle sample (the notebook)', () => {
  it('mostSimilar(movie 3, 5, jaccard) equals the notebook-style set implementation', () => {
    // Parse User_ID,Rating,Movie_ID with a small local reader (test only).
    const lines = fs.readFileSync(netflixRatings, 'utf8').split(/\r?\n/);
    expect(lines[0]).toBe('User_ID,Rating,Movie_ID');
    const builder = new RatingListBuilder(100_000);
    const usersPerMovie = new Map<number, Set<number>>();
    for (let i = 1; i < lines.length; i++) {
      if (lines[i] === '') continue;
      const [user, rating, movie] = lines[i].split(',').map(Number);
      builder.push(user, movie, rating * 2);
      if (!usersPerMovie.has(movie)) usersPerMovie.set(movie, new Set());
      usersPerMovie.get(movie)!.add(user);
    }
    const matrix = buildRatingMatrix(builder.finish(), WHOLE_STARS_1_TO_5).matrix;

    // The notebook: Jaccard over UsersPerMovie sets, pairs (similarity, movie) sorted descending.
    const jaccard = (a: Set<number>, b: Set<number>) => {
      let inter = 0;
      for (const u of a) if (b.has(u)) inter++;
      return inter / new Set([...a, ...b]).size;
    };
    const pairs: Array<[number, number]> = [];
    for (const [n, users] of usersPerMovie) if (n !== 3) pairs.push([jaccard(usersPerMovie.get(3)!, users), n]);
    pairs.sort((p, q) => q[0] - p[0] || q[1] - p[1]);
    const expected = pairs.slice(0, 5);

    const actual = mostSimilar(matrix, matrix.movies.indexOf(3), 5, { metric: 'jaccard' });
    expect(idsOf(matrix, actual)).toEqual(expected.map((p) => p[1]));
    for (let j = 0; j < 5; j++) expect(Math.abs(actual[j].similarity - expected[j][0])).toBeLessThanOrEqual(1e-12);
  });
});
