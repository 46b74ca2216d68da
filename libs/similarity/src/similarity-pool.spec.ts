import { matrixArraysInOneBuffer } from '@recsys/core';
import { buildRatingMatrix, matrixArraysOf, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { longTailDensity, randomRatings } from '@recsys/testing';
import { fitBaselinesAls } from './baselines';
import { mostSimilar, Neighbour, SimilarityMetric, SIMILARITY_METRICS } from './similarity';
import { movieWorkOf, POOL_PEARSON_BASELINE_TOLERANCE, SimilarityPool } from './similarity-pool';

/** Random matrix with a long tail: popularity falls with the movie number, every 4th user rates a lot. */
function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  const ratings = randomRatings({ seed, users, movies, density: longTailDensity(density, movies), userId: (u) => 10 + u, movieId: (m) => 5 + 2 * m });
  return buildRatingMatrix(ratings, WHOLE_STARS_1_TO_5).matrix;
}

/** A matrix from [externalUser, externalMovie, stars] rows. */
function matrixOf(rows: Array<[number, number, number]>): RatingMatrix {
  const b = new RatingListBuilder(rows.length);
  for (const [u, m, r] of rows) b.push(u, m, r * 2);
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/**
 * The pool's answer equals mostSimilar's: same movies and supports in the same order; the same
 * similarities bit for bit except pearson-baseline's, whose sums are added in another order.
 */
function expectSameNeighbours(actual: Neighbour[], expected: Neighbour[], metric: SimilarityMetric): void {
  expect(actual.map((x) => x.movie)).toEqual(expected.map((x) => x.movie));
  expect(actual.map((x) => x.support)).toEqual(expected.map((x) => x.support));
  if (metric === 'pearson-baseline') {
    for (let j = 0; j < expected.length; j++) expect(Math.abs(actual[j].similarity - expected[j].similarity)).toBeLessThanOrEqual(POOL_PEARSON_BASELINE_TOLERANCE);
  } else {
    expect(actual.map((x) => x.similarity)).toEqual(expected.map((x) => x.similarity));
  }
}

describe('SimilarityPool', () => {
  const matrix = randomMatrix(7, 400, 70, 0.12);
  const baselines = fitBaselinesAls(matrix);
  const movies = Array.from({ length: matrix.nMovies }, (_, m) => m);

  it("movieWorkOf: Σ over each movie's raters of their row lengths, computed once per matrix", async () => {
    // Plainly: for each movie, visit its raters by scanning every user's row.
    const expected = new Float64Array(matrix.nMovies);
    for (let u = 0; u < matrix.nUsers; u++) {
      const length = matrix.userPtr[u + 1] - matrix.userPtr[u];
      for (let p = matrix.userPtr[u]; p < matrix.userPtr[u + 1]; p++) expected[matrix.userMovies[p]] += length;
    }
    const first = movieWorkOf(matrix);
    expect(await first).toEqual(expected);
    expect(movieWorkOf(matrix)).toBe(first);
    expect(movieWorkOf(randomMatrix(8, 50, 10, 0.3))).not.toBe(first);
  });

  describe.each([
    [1, 'one worker'],
    [2, 'two workers'],
    [3, 'three workers (more than cores: ranges still cover every rater once)'],
  ])('%d thread(s): %s', (threads) => {
    let pool: SimilarityPool;
    beforeAll(async () => {
      // maxInlineWork 0: every query goes to the workers.
      pool = await SimilarityPool.start(matrix, { threads, baselines, maxInlineWork: 0 });
    });
    afterAll(() => pool.close());

    it.each<[SimilarityMetric, number, number]>([
      ['jaccard', 0, 10],
      ['jaccard', 3, 10],
      ['jaccard', 0, 1000],
      ['cosine', 0, 10],
      ['cosine', 2, 25],
      ['pearson', 0, 10],
      ['pearson', 4, 1000],
      ['pearson-baseline', 0, 10],
      ['pearson-baseline', 2, 1000],
    ])('%s, minSupport %d, k %d: every movie equals mostSimilar', async (metric, minSupport, k) => {
      const before = pool.stats.workers;
      for (const m of movies) {
        const actual = await pool.mostSimilar(m, k, { metric, minSupport });
        expectSameNeighbours(actual, mostSimilar(matrix, m, k, { metric, minSupport, baselines }), metric);
      }
      expect(pool.stats.workers - before).toBe(movies.length);
    });

    it('shrinkage per query', async () => {
      for (const shrinkage of [0, 7.5, 100]) {
        const actual = await pool.mostSimilar(0, 12, { metric: 'pearson-baseline', minSupport: 1, shrinkage });
        expectSameNeighbours(actual, mostSimilar(matrix, 0, 12, { metric: 'pearson-baseline', minSupport: 1, shrinkage, baselines }), 'pearson-baseline');
      }
    });
  });

  it('runs light queries on the calling thread with the same answers', async () => {
    const pool = await SimilarityPool.start(matrix, { threads: 2, baselines, maxInlineWork: Number.POSITIVE_INFINITY });
    try {
      for (const metric of SIMILARITY_METRICS) {
        for (const m of [0, 9, matrix.nMovies - 1]) {
          expectSameNeighbours(await pool.mostSimilar(m, 15, { metric }), mostSimilar(matrix, m, 15, { metric, baselines }), metric);
        }
      }
      expect(pool.stats).toEqual({ inline: 12, workers: 0 });
    } finally {
      await pool.close();
    }
  });

  it('serves many concurrent queries (a queue), light and heavy mixed, each with its own answer', async () => {
    const pool = await SimilarityPool.start(matrix, { threads: 2, baselines });
    // Pick a threshold between the lightest and heaviest query so that both paths run.
    const work = movies.map((m) => {
      let w = 0;
      for (let p = matrix.moviePtr[m]; p < matrix.moviePtr[m + 1]; p++) w += matrix.userCount(matrix.movieUsers[p]);
      return w;
    });
    const sorted = [...work].sort((a, b) => a - b);
    const threshold = sorted[Math.floor(sorted.length / 2)];
    await pool.close();
    const mixed = await SimilarityPool.start(matrix, { threads: 2, baselines, maxInlineWork: threshold });
    try {
      const asks = movies.flatMap((m) => SIMILARITY_METRICS.map((metric, i) => ({ m, metric, k: 3 + ((m + i) % 9), minSupport: (m + i) % 3 })));
      const answers = await Promise.all(asks.map((a) => mixed.mostSimilar(a.m, a.k, { metric: a.metric, minSupport: a.minSupport })));
      asks.forEach((a, i) => expectSameNeighbours(answers[i], mostSimilar(matrix, a.m, a.k, { ...a, baselines }), a.metric));
      const heavy = asks.filter((a) => work[a.m] > threshold).length;
      expect(mixed.stats).toEqual({ inline: asks.length - heavy, workers: heavy });
      expect(heavy).toBeGreaterThan(0);
      expect(heavy).toBeLessThan(asks.length);
    } finally {
      await mixed.close();
    }
  });

  it.each([
    ['the pool\'s own copy', false],
    ['the segmented u16 copy beside the matrix in its shared WebAssembly memory', true],
  ])('ties (%s): equal similarities rank the larger movie id first; minSupport drops movies without enough co-raters', async (_, inPlace) => {
    // Hand-computed. Raters: 10 {1,2,3}, 20 {1,2,3}, 30 {1,2,3}, 40 {1,2}, 50 {4}, 60 {4}.
    // Jaccard with 10: 20 → 3/3, 30 → 3/3, 40 → 2/3, 50 → 0, 60 → 0.
    const rows = matrixOf([
      [1, 10, 5], [2, 10, 3], [3, 10, 4],
      [1, 20, 1], [2, 20, 2], [3, 20, 2],
      [1, 30, 4], [2, 30, 4], [3, 30, 4],
      [1, 40, 2], [2, 40, 5],
      [4, 50, 3], [4, 60, 1],
    ]);
    const tiny = inPlace ? RatingMatrix.fromArrays(matrixArraysInOneBuffer(matrixArraysOf(rows))) : rows;
    const ids = (ns: Neighbour[]) => ns.map((x) => tiny.movies.ids[x.movie]);
    const pool = await SimilarityPool.start(tiny, { threads: 2, maxInlineWork: 0, narrowMovieIndices: inPlace });
    try {
      expect([pool.sharesMatrix, pool.segmented]).toEqual([inPlace, inPlace]);
      const m10 = tiny.movies.indexOf(10);
      const all = await pool.mostSimilar(m10, 10);
      expect(ids(all)).toEqual([30, 20, 40, 60, 50]);
      expect(all.map((x) => x.similarity)).toEqual([1, 1, 2 / 3, 0, 0]);
      expect(all.map((x) => x.support)).toEqual([3, 3, 2, 0, 0]);
      const supported = await pool.mostSimilar(m10, 10, { minSupport: 3 });
      expect(ids(supported)).toEqual([30, 20]);
      // cosine of 10 (5,3,4) with 30 (4,4,4): 48/√(50·48) ≈ 0.980; with 20 (1,2,2): 19/√(50·9) ≈ 0.896;
      // with 40 over users 1, 2, (5,3)·(2,5): 25/√(34·29) ≈ 0.796.
      const cosine = await pool.mostSimilar(m10, 3, { metric: 'cosine', minSupport: 1 });
      expect(ids(cosine)).toEqual([30, 20, 40]);
      expect(cosine[0].similarity).toBeCloseTo(48 / Math.sqrt(50 * 48), 14);
      expect(cosine[1].similarity).toBeCloseTo(19 / Math.sqrt(50 * 9), 14);
      expect(cosine[2].similarity).toBeCloseTo(25 / Math.sqrt(34 * 29), 14);
      expect(pool.stats.workers).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it('fits pearson-baseline baselines on first need when none were given', async () => {
    const pool = await SimilarityPool.start(matrix, { threads: 2, maxInlineWork: 0 });
    try {
      const actual = await pool.mostSimilar(3, 20, { metric: 'pearson-baseline' });
      expectSameNeighbours(actual, mostSimilar(matrix, 3, 20, { metric: 'pearson-baseline' }), 'pearson-baseline');
    } finally {
      await pool.close();
    }
  });

  it('fitBaselines() fits the ALS baselines on a worker (as fitBaselinesAls), setBaselines() replaces them', async () => {
    const pool = await SimilarityPool.start(matrix, { threads: 2, maxInlineWork: 0 });
    try {
      expect(pool.hasBaselines).toBe(false);
      await pool.fitBaselines();
      expect(pool.hasBaselines).toBe(true);
      // Bit-identical baselines: the answers equal mostSimilar's with fitBaselinesAls's (within the pool's tolerance).
      for (const m of [0, 5, 17]) {
        expectSameNeighbours(await pool.mostSimilar(m, 12, { metric: 'pearson-baseline' }), mostSimilar(matrix, m, 12, { metric: 'pearson-baseline', baselines }), 'pearson-baseline');
      }
      const other = fitBaselinesAls(matrix, { iterations: 2, regUser: 3, regMovie: 1 });
      pool.setBaselines(other);
      expectSameNeighbours(await pool.mostSimilar(5, 12, { metric: 'pearson-baseline' }), mostSimilar(matrix, 5, 12, { metric: 'pearson-baseline', baselines: other }), 'pearson-baseline');
      expect(() => pool.setBaselines({ globalMean: 3, userBias: new Float64Array(2), movieBias: new Float64Array(matrix.nMovies) })).toThrow('baselines do not fit the matrix');
    } finally {
      await pool.close();
    }
  });

  it('terminate() stops the workers without waiting: a queued baselines fit and later queries reject', async () => {
    const pool = await SimilarityPool.start(matrix, { threads: 2, maxInlineWork: 0 });
    const fit = pool.fitBaselines();
    await pool.terminate();
    await expect(fit).rejects.toThrow('SimilarityPool was terminated');
    await expect(pool.mostSimilar(0, 5)).rejects.toThrow('SimilarityPool is closed');
  });

  it('reads a matrix already in shared memory', async () => {
    const share = <T extends Uint32Array | Int32Array | Uint8Array>(a: T, make: (b: SharedArrayBuffer) => T): T => {
      const out = make(new SharedArrayBuffer(a.byteLength));
      out.set(a);
      return out;
    };
    const sharedMatrix = {
      nUsers: matrix.nUsers,
      nMovies: matrix.nMovies,
      userPtr: share(matrix.userPtr, (b) => new Uint32Array(b)),
      userMovies: share(matrix.userMovies, (b) => new Int32Array(b)),
      userRatings: share(matrix.userRatings, (b) => new Uint8Array(b)),
      moviePtr: share(matrix.moviePtr, (b) => new Uint32Array(b)),
      movieUsers: share(matrix.movieUsers, (b) => new Int32Array(b)),
      movieRatings: share(matrix.movieRatings, (b) => new Uint8Array(b)),
    };
    const pool = await SimilarityPool.start(sharedMatrix, { threads: 2, maxInlineWork: 0, metric: 'pearson', minSupport: 2 });
    try {
      expectSameNeighbours(await pool.mostSimilar(1, 8), mostSimilar(matrix, 1, 8, { metric: 'pearson', minSupport: 2 }), 'pearson');
    } finally {
      await pool.close();
    }
  });

  it('rejects bad arguments and queries after close(); close() waits for queued queries and is idempotent', async () => {
    await expect(SimilarityPool.start(matrix, { threads: 0 })).rejects.toThrow('threads must be a positive integer, got 0');
    const pool = await SimilarityPool.start(matrix, { threads: 2, maxInlineWork: 0 });
    await expect(pool.mostSimilar(matrix.nMovies, 5)).rejects.toThrow(`unknown internal movie index ${matrix.nMovies}`);
    await expect(pool.mostSimilar(0, -1)).rejects.toThrow('k must be a non-negative integer, got -1');
    await expect(pool.mostSimilar(0, 5, { metric: 'euclid' as SimilarityMetric })).rejects.toThrow("unknown similarity metric 'euclid'");
    await expect(pool.mostSimilar(0, 5, { minSupport: 1.5 })).rejects.toThrow('minSupport must be a non-negative integer');
    expect(await pool.mostSimilar(0, 0)).toEqual([]);
    // Queued before close: still answered.
    const pending = [pool.mostSimilar(0, 5), pool.mostSimilar(1, 5)];
    const closed = pool.close();
    expect(pool.close()).toBe(closed);
    const answers = await Promise.all(pending);
    expect(answers[0]).toEqual(mostSimilar(matrix, 0, 5));
    expect(answers[1]).toEqual(mostSimilar(matrix, 1, 5));
    await closed;
    await expect(pool.mostSimilar(0, 5)).rejects.toThrow('SimilarityPool is closed');
  });
});
