import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { matrixArraysInOneBuffer, wasmMemoryOf } from '@recsys/core';
import { buildRatingMatrix, matrixArraysOf, MovieCatalog, RatingListBuilder, RatingMatrix, readSnapshot, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { longTailDensity, randomRatings } from '@recsys/testing';
import { fitBaselinesAls } from './baselines';
import { mostSimilar, SIMILARITY_METRICS } from './similarity';
import { POOL_PEARSON_BASELINE_TOLERANCE, SimilarityPool } from './similarity-pool';
import { zeroInChunks } from './similarity-wasm';

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

/** The matrix with its arrays copied into one shared WebAssembly memory (as the API shares an imported matrix). */
function inOneWasmMemory(matrix: RatingMatrix): RatingMatrix {
  return RatingMatrix.fromArrays(matrixArraysInOneBuffer(matrixArraysOf(matrix)));
}

describe('SimilarityPool over a matrix in a shared WebAssembly memory (zero copy)', () => {
  const plain = randomMatrix(11, 300, 60, 0.15);

  it.each([
    ['the matrix\'s own i32 movie indices', false],
    ['a u16 copy of the movie indices (narrowMovieIndices)', true],
  ])('reads %s in place: every metric and movie equals mostSimilar, and a rating changed in the matrix is seen', async (_, narrowMovieIndices) => {
    const matrix = inOneWasmMemory(plain);
    const baselines = fitBaselinesAls(matrix);
    const memory = wasmMemoryOf(matrix.userRatings.buffer)!;
    expect(memory).toBeDefined();
    const pool = await SimilarityPool.start(matrix, { threads: 2, baselines, maxInlineWork: 0, narrowMovieIndices });
    try {
      expect(pool.sharesMatrix).toBe(true);
      expect(pool.movieIndexBytes).toBe(narrowMovieIndices ? 2 : 4);
      expect(pool.segmented).toBe(narrowMovieIndices);
      for (const metric of SIMILARITY_METRICS) {
        for (let m = 0; m < matrix.nMovies; m++) {
          const actual = await pool.mostSimilar(m, 8, { metric });
          const expected = mostSimilar(matrix, m, 8, { metric, baselines });
          expect(actual.map((x) => [x.movie, x.support])).toEqual(expected.map((x) => [x.movie, x.support]));
          for (let j = 0; j < expected.length; j++) expect(Math.abs(actual[j].similarity - expected[j].similarity)).toBeLessThanOrEqual(POOL_PEARSON_BASELINE_TOLERANCE);
        }
      }
      // No copy: the workers read the matrix's own ratings. Change one rating (both orientations)
      // of a rater of movie 0 in the matrix's arrays; the pool's next answer follows. (The
      // segmented u16 copy holds the rows' codes by position, so there the change is seen through
      // the by-movie side only, the query's own column, as here; a served matrix never changes.)
      const p = matrix.moviePtr[0];
      const u = matrix.movieUsers[p];
      const old = matrix.movieRatings[p];
      const q = matrix.userPtr[u] + matrix.userMovies.subarray(matrix.userPtr[u], matrix.userPtr[u + 1]).indexOf(0);
      expect(matrix.userRatings[q]).toBe(old);
      const before = mostSimilar(matrix, 0, 8, { metric: 'cosine' });
      const changed = old === 2 ? 10 : 2;
      matrix.movieRatings[p] = changed;
      matrix.userRatings[q] = changed;
      const after = mostSimilar(matrix, 0, 8, { metric: 'cosine' });
      expect(after).not.toEqual(before);
      expect(await pool.mostSimilar(0, 8, { metric: 'cosine' })).toEqual(after);
    } finally {
      await pool.close();
    }
  });

  it('the segmented u16 copy: every metric, movie, minSupport and shrinkage equals mostSimilar, the last movie and movies without co-raters included', async () => {
    // A long-tail matrix plus two movies rated only by users who rated nothing else (no co-raters),
    // one of them the last movie index, and a user who rated every movie.
    const extra: Array<[number, number, number]> = [];
    for (let m = 0; m < plain.nMovies; m++) {
      const p = plain.moviePtr[m];
      for (let q = p; q < plain.moviePtr[m + 1]; q++) extra.push([plain.users.ids[plain.movieUsers[q]], plain.movies.ids[m], plain.movieRatings[q] / 2]);
      extra.push([9_999, plain.movies.ids[m], 1 + (m % 5)]);
    }
    extra.push([10_001, 1, 4], [10_002, 1, 2], [10_003, 999_999, 5]);
    const matrix = inOneWasmMemory(matrixOf(extra));
    const baselines = fitBaselinesAls(matrix);
    const pool = await SimilarityPool.start(matrix, { threads: 2, baselines, maxInlineWork: 0, narrowMovieIndices: true });
    try {
      expect(pool.segmented).toBe(true);
      const lonely = [matrix.movies.indexOf(1), matrix.movies.indexOf(999_999)];
      expect(lonely[1]).toBe(matrix.nMovies - 1);
      for (const metric of SIMILARITY_METRICS) {
        for (const [minSupport, shrinkage, k] of [[0, 100, 8], [2, 0, matrix.nMovies], [5, 7.5, 12]]) {
          for (let m = 0; m < matrix.nMovies; m++) {
            const actual = await pool.mostSimilar(m, k, { metric, minSupport, shrinkage });
            const expected = mostSimilar(matrix, m, k, { metric, minSupport, shrinkage, baselines });
            expect(actual.map((x) => [x.movie, x.support])).toEqual(expected.map((x) => [x.movie, x.support]));
            for (let j = 0; j < expected.length; j++) {
              const tolerance = metric === 'pearson-baseline' ? POOL_PEARSON_BASELINE_TOLERANCE : 0;
              expect(Math.abs(actual[j].similarity - expected[j].similarity)).toBeLessThanOrEqual(tolerance);
            }
          }
        }
        // Without co-raters: with minSupport 0 every other movie at similarity 0, support 0.
        for (const m of lonely) {
          const all = await pool.mostSimilar(m, matrix.nMovies, { metric });
          expect(all.every((x) => x.similarity === 0 && x.support === 0)).toBe(true);
          expect(await pool.mostSimilar(m, 5, { metric, minSupport: 1 })).toEqual([]);
        }
      }
    } finally {
      await pool.close();
    }
  });

  it('grows the memory by its working space only, and the next pool reuses it once the first has closed', async () => {
    const matrix = inOneWasmMemory(plain);
    const memory = wasmMemoryOf(matrix.userRatings.buffer)!;
    const dataBytes = memory.buffer.byteLength;
    const first = await SimilarityPool.start(matrix, { threads: 2 });
    const grown = memory.buffer.byteLength;
    // Baselines (8 B per user and movie), accumulators (2 × 48 B per movie), packed slots, scratch: well under the data's size here too.
    expect(grown - dataBytes).toBeGreaterThan(0);
    expect(grown - dataBytes).toBeLessThanOrEqual(64 * 1024 * Math.ceil((8 * (1 + plain.nUsers + plain.nMovies) + 2 * (48 + 80) * plain.nMovies + 30 * 1024 + 4096) / 65536));
    await first.close();
    // Workers exit asynchronously after close resolves their exit promises; give the release a turn.
    await new Promise((resolve) => setImmediate(resolve));
    const second = await SimilarityPool.start(matrix, { threads: 2 });
    try {
      expect(memory.buffer.byteLength).toBe(grown);
      expect(second.sharesMatrix).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('a region given back holding garbage is zeroed before the next pool uses it (answers equal a pool over a copy)', async () => {
    const matrix = inOneWasmMemory(plain);
    const memory = wasmMemoryOf(matrix.userRatings.buffer)!;
    const dataBytes = memory.buffer.byteLength;
    const first = await SimilarityPool.start(matrix, { threads: 2, maxInlineWork: 0 });
    const grown = memory.buffer.byteLength;
    await first.close();
    await new Promise((resolve) => setImmediate(resolve));
    // What a pool terminated mid-query could leave: anything, here every byte 0xff.
    new Uint8Array(memory.buffer, dataBytes, grown - dataBytes).fill(0xff);
    const second = await SimilarityPool.start(matrix, { threads: 2, maxInlineWork: 0 });
    const copied = await SimilarityPool.start(plain, { threads: 2, maxInlineWork: 0 });
    try {
      expect(memory.buffer.byteLength).toBe(grown);
      for (const metric of SIMILARITY_METRICS) {
        for (const m of [0, 1, plain.nMovies - 1]) expect(await second.mostSimilar(m, 8, { metric })).toEqual(await copied.mostSimilar(m, 8, { metric }));
      }
    } finally {
      await Promise.all([second.close(), copied.close()]);
    }
  });

  it('zeroInChunks clears every byte, across chunk edges and a ragged end', async () => {
    const bytes = new Uint8Array((8 << 20) + 3).fill(7);
    await zeroInChunks(bytes);
    expect(bytes.every((b) => b === 0)).toBe(true);
    const none = new Uint8Array(0);
    await zeroInChunks(none);
    expect(none.length).toBe(0);
  });

  it('a snapshot is read into such a memory, so a pool over it copies nothing; a plain matrix is copied', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-pool-'));
    try {
      const file = path.join(dir, 'm.snap');
      writeSnapshot(file, { matrix: plain, catalog: new MovieCatalog() });
      const read = readSnapshot(file).matrix;
      const pool = await SimilarityPool.start(read, { threads: 1, maxInlineWork: 0 });
      const copied = await SimilarityPool.start(plain, { threads: 1, maxInlineWork: 0 });
      try {
        expect([pool.sharesMatrix, copied.sharesMatrix]).toEqual([true, false]);
        expect(await pool.mostSimilar(3, 5, { metric: 'pearson' })).toEqual(await copied.mostSimilar(3, 5, { metric: 'pearson' }));
      } finally {
        await Promise.all([pool.close(), copied.close()]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
