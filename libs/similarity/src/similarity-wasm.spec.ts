import type { MatrixArrays } from '@recsys/core';
import { buildRatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { longTailDensity, randomRatings } from '@recsys/testing';
import { fitBaselinesAls } from './baselines';
import { SimilarityMetric } from './similarity';
import { accumulateDense, MAX_STRIDE, strideOf } from './similarity-kernels';
import {
  canSegment,
  codeCount,
  codeWindows,
  copyMatrix,
  copySegmented,
  MOMENT_SLOTS,
  momentsChunk,
  PEARSON_BASELINE_FLUSH_RATERS,
  poolMatrix,
  similarityKernels,
  similarityLayout,
  similarityMemory,
  presentCodes,
} from './similarity-wasm';

/** A random long-tail matrix as plain arrays, its rating codes passed through `code`. */
function randomArrays(seed: number, users: number, movies: number, code: (c: number) => number): MatrixArrays {
  const ratings = randomRatings({ seed, users, movies, density: longTailDensity(0.2, movies) });
  const m = buildRatingMatrix(ratings, WHOLE_STARS_1_TO_5).matrix;
  // Both layouts hold the same ratings, so mapping each code keeps them consistent.
  return {
    nUsers: m.nUsers,
    nMovies: m.nMovies,
    userPtr: m.userPtr,
    userMovies: m.userMovies,
    userRatings: m.userRatings.map(code),
    moviePtr: m.moviePtr,
    movieUsers: m.movieUsers,
    movieRatings: m.movieRatings.map(code),
  };
}

/** Movie indices the kernels read: u16 or i32 in the rows' order, or the segmented copy. */
type Indices = 2 | 4 | 'segmented';

/** The kernels over a copy of `matrix` in their memory, with one worker region. */
async function setUp(matrix: MatrixArrays, indices: Indices = 2) {
  const present = await presentCodes(matrix.movieRatings);
  const codes = indices === 'segmented' ? codeCount(present) : 0;
  const layout = similarityLayout(matrix.nUsers, matrix.nMovies, matrix.userMovies.length, 1, MAX_STRIDE, indices === 4 ? 4 : 2, {}, 0, codes);
  const memory = similarityMemory(layout);
  expect(await copyMatrix(matrix, poolMatrix(memory, layout))).toEqual(present);
  if (layout.segmented) await copySegmented(matrix, memory, layout, present);
  const windows = codeWindows(memory, layout, present);
  return { layout, memory, present, windows, kernels: similarityKernels(memory, layout) };
}

describe('similarity WebAssembly kernels', () => {
  it('poolMatrix holds the same arrays, the movie indices as u16 up to 65,536 movies', async () => {
    const matrix = randomArrays(4, 50, 30, (c) => c);
    const { layout, memory } = await setUp(matrix);
    expect(layout.movieIndexBytes).toBe(2);
    const copy = poolMatrix(memory, layout);
    expect(copy.userMovies).toBeInstanceOf(Uint16Array);
    for (const name of ['userPtr', 'userMovies', 'userRatings', 'moviePtr', 'movieUsers', 'movieRatings'] as const) {
      expect(Array.from(copy[name])).toEqual(Array.from(matrix[name]));
    }
    expect(similarityLayout(10, 70_000, 100, 2, MAX_STRIDE).movieIndexBytes).toBe(4);
    expect(() => similarityLayout(10, 70_000, 100, 2, MAX_STRIDE, 2)).toThrow('u16 movie indices cannot hold 70000 movies');
  });

  it('the segmented copy: each row ordered by code then movie, the runs\' ends per user, poolMatrix in the rows\' order', async () => {
    const matrix = randomArrays(6, 80, 35, (c) => c * 3); // codes 6, 12, 18, 24, 30
    const { layout: l, memory } = await setUp(matrix, 'segmented');
    expect([l.segmented, l.nCodes, l.movieIndexBytes]).toEqual([true, 5, 2]);
    const b = memory.buffer;
    expect(Array.from(new Uint32Array(b, l.codeList, 5))).toEqual([6, 12, 18, 24, 30]);
    const movies = new Uint16Array(b, l.segmentedMovies, l.nRatings);
    const ends = new Uint16Array(b, l.segmentEnds, 5 * l.nUsers);
    for (let u = 0; u < matrix.nUsers; u++) {
      const from = matrix.userPtr[u];
      // A plain loop: the row's (code, movie) pairs sorted, against the runs read back.
      const expected: [number, number][] = [];
      for (let q = from; q < matrix.userPtr[u + 1]; q++) expected.push([matrix.userRatings[q], matrix.userMovies[q]]);
      expected.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      const actual: [number, number][] = [];
      let start = 0;
      for (let k = 0; k < 5; k++) {
        const end = ends[u * 5 + k];
        for (let i = start; i < end; i++) actual.push([6 * (k + 1), movies[from + i]]);
        start = end;
      }
      expect(start).toBe(matrix.userPtr[u + 1] - from);
      expect(actual).toEqual(expected);
    }
    // The matrix's own arrays in their order, for the ALS fit on a worker.
    const copy = poolMatrix(memory, l);
    expect(copy.userMovies).toBeInstanceOf(Int32Array);
    for (const name of ['userMovies', 'userRatings', 'movieUsers', 'movieRatings'] as const) expect(Array.from(copy[name])).toEqual(Array.from(matrix[name]));
    expect([canSegment(65_535, MOMENT_SLOTS), canSegment(65_536, 5), canSegment(100, MOMENT_SLOTS + 1), canSegment(100, 0)]).toEqual([true, false, false, false]);
    expect(() => similarityLayout(10, 100, 100, 1, MAX_STRIDE, 2, {}, 0, 11)).toThrow('a segmented copy holds up to 10 codes');
    expect(() => similarityLayout(10, 100, 100, 1, MAX_STRIDE, 4, {}, 0, 5)).toThrow('a segmented copy streams u16 movie indices');
    const wrong = new Uint8Array(256);
    wrong[6] = 1;
    await expect(copySegmented(matrix, memory, l, wrong)).rejects.toThrow('the matrix holds 1 codes, the layout 5');
  });

  it('pearson-baseline over the segmented copy with runs of many ratings (four a step, then the rest): exact counts, sums within f32 rounding', async () => {
    // Two codes, so that each row splits into two long runs.
    const matrix = randomArrays(11, 80, 40, (c) => (c < 4 ? 4 : 8));
    const { layout: l, memory, kernels } = await setUp(matrix, 'segmented');
    const ends = new Uint16Array(memory.buffer, l.segmentEnds, l.nCodes * l.nUsers);
    const runs = Array.from({ length: l.nUsers }, (_, u) => [ends[2 * u], ends[2 * u + 1] - ends[2 * u]]).flat();
    expect(l.nCodes).toBe(2);
    expect(Math.max(...runs)).toBeGreaterThanOrEqual(9);
    const baselines = fitBaselinesAls(matrix);
    const b = new Float64Array(memory.buffer, l.baselines, 1 + l.nUsers + l.nMovies);
    b[0] = baselines.globalMean;
    b.set(baselines.userBias, 1);
    b.set(baselines.movieBias, 1 + l.nUsers);
    const sums = new Float64Array(memory.buffer, l.accumulators, l.nMovies * 4);
    const refSums = new Float64Array(l.nMovies * 4);
    for (let m = 0; m < matrix.nMovies; m++) {
      sums.fill(0);
      refSums.fill(0);
      accumulateDense('pearson-baseline', matrix, baselines, m, matrix.moviePtr[m], matrix.moviePtr[m + 1], new Int32Array(0), refSums);
      kernels.accumulatePearsonBaselineF32(l.matrix, matrix.moviePtr[m], matrix.moviePtr[m + 1], m, b[0], l.baselines + 8, l.baselines + 8 * (1 + l.nUsers), l.accumulators, l.packed, l.nMovies, PEARSON_BASELINE_FLUSH_RATERS);
      for (let n = 0; n < l.nMovies; n++) {
        expect(sums[4 * n]).toBe(refSums[4 * n]);
        const scale = refSums[4 * n + 2] + refSums[4 * n + 3];
        for (let i = 1; i < 4; i++) expect(Math.abs(sums[4 * n + i] - refSums[4 * n + i])).toBeLessThanOrEqual(1e-5 * scale);
      }
    }
  });

  it('momentsChunk: the most raters whose packed fields cannot overflow (21, 21 and 22 bits)', () => {
    const flags = (...codes: number[]) => {
      const present = new Uint8Array(256);
      for (const c of codes) present[c] = 1;
      return present;
    };
    // Whole stars (codes 2..10): 10·c < 2²¹ and 100·c < 2²² → c = ⌊4,194,303 / 100⌋.
    expect(momentsChunk(flags(2, 4, 6, 8, 10))).toBe(41943);
    expect(momentsChunk(flags(255))).toBe(Math.floor((2 ** 22 - 1) / (255 * 255)));
    expect(momentsChunk(flags())).toBe(2 ** 21 - 1);
  });

  it('codeWindows: MOMENT_SLOTS codes per window, ascending, slot + 1 in each table', async () => {
    const matrix = randomArrays(3, 30, 12, (c) => c * 12 + 1); // 5 whole-star codes → 25, 49, 73, 97, 121
    const { layout, memory, windows } = await setUp(matrix);
    expect(windows).toBe(1);
    const table = new Uint32Array(memory.buffer, layout.codeSlots, 256);
    expect([25, 49, 73, 97, 121].map((c) => table[c])).toEqual([1, 2, 3, 4, 5]);
    expect(table.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0)).toBe(5);
    const many = new Uint8Array(256);
    for (let c = 1; c <= 25; c++) many[c] = 1;
    expect(codeWindows(memory, layout, many)).toBe(Math.ceil(25 / MOMENT_SLOTS));
    const second = new Uint32Array(memory.buffer, layout.codeSlots + 1024, 256);
    expect(second[MOMENT_SLOTS + 1]).toBe(1);
    expect(second[MOMENT_SLOTS]).toBe(0);
  });

  describe.each<[string, (c: number) => number, number | null]>([
    ['whole stars', (c) => c, null],
    ['codes up to 250 (small flush chunks)', (c) => c * 25, null],
    ['chunk of 3 raters (many flushes)', (c) => c, 3],
    ['30 distinct codes (three windows)', (c) => c, null],
  ])('%s: the sums equal the TypeScript reference bit for bit', (name, code, chunkOverride) => {
    const manyCodes = name.startsWith('30');
    const matrix = manyCodes ? spreadCodes(randomArrays(9, 120, 40, (c) => c)) : randomArrays(5, 120, 40, code);
    const baselines = fitBaselinesAls(matrix);

    it.each<[SimilarityMetric, Indices]>([
      ['jaccard', 2],
      ['cosine', 2],
      ['pearson', 2],
      ['jaccard', 4],
      ['cosine', 4],
      ['pearson', 4],
      ['jaccard', 'segmented'],
      ['cosine', 'segmented'],
      ['pearson', 'segmented'],
    ])('%s with movie indices %s, every movie, whole and split ranges', async (metric, indices) => {
      if (indices === 'segmented' && manyCodes) {
        // 30 codes: more than one window, so no segmented copy (the pool keeps the plain u16 one).
        expect(canSegment(matrix.nMovies, 30)).toBe(false);
        return;
      }
      const { layout: l, memory, present, windows, kernels } = await setUp(matrix, indices);
      const buffer = memory.buffer;
      const counts = new Int32Array(buffer, l.accumulators, l.nMovies);
      const sums = new Float64Array(buffer, l.accumulators, l.regionBytes / 8);
      const chunk = chunkOverride ?? momentsChunk(present);
      const stride = strideOf(metric);
      const refCounts = new Int32Array(l.nMovies);
      const refSums = new Float64Array(l.nMovies * stride);
      const packedSlots = new BigUint64Array(buffer, l.packed, (MOMENT_SLOTS * l.packedBytes) / 8);
      for (let m = 0; m < matrix.nMovies; m++) {
        const from = matrix.moviePtr[m];
        const to = matrix.moviePtr[m + 1];
        // The whole range, and the first half then the second (as two workers' ranges into one region).
        for (const cuts of [[from, to], [from, (from + to) >> 1, to]]) {
          counts.fill(0);
          sums.fill(0);
          refCounts.fill(0);
          refSums.fill(0);
          for (let c = 0; c + 1 < cuts.length; c++) {
            const [pFrom, pTo] = [cuts[c], cuts[c + 1]];
            accumulateDense(metric, matrix, baselines, m, pFrom, pTo, refCounts, refSums);
            if (metric === 'jaccard') kernels.accumulateJaccard(l.matrix, pFrom, pTo, l.accumulators);
            else {
              for (let w = 0; w < windows; w++) {
                kernels.accumulateMoments(l.matrix, pFrom, pTo, l.packed, l.packedBytes, l.accumulators, stride, l.nMovies, chunk, l.codeSlots + 1024 * w, l.scratch);
              }
            }
          }
          if (metric === 'jaccard') expect(Array.from(counts)).toEqual(Array.from(refCounts));
          else expect(Array.from(sums.subarray(0, l.nMovies * stride))).toEqual(Array.from(refSums));
          // The packed slots are left zeroed for the next query.
          expect(packedSlots.every((v) => v === 0n)).toBe(true);
        }
      }
      if (manyCodes) expect(windows).toBe(3);
    });

    it.each<[Indices, number]>([
      [2, PEARSON_BASELINE_FLUSH_RATERS],
      [4, PEARSON_BASELINE_FLUSH_RATERS],
      [2, 3],
      ['segmented', PEARSON_BASELINE_FLUSH_RATERS],
      ['segmented', 3],
      ['segmented', 1],
    ])('pearson-baseline in f32 (movie indices %s, flush every %d raters): exact counts, sums within f32 rounding', async (indices, flushEvery) => {
      if (indices === 'segmented' && manyCodes) return;
      const { layout: l, memory, kernels } = await setUp(matrix, indices);
      const buffer = memory.buffer;
      const b = new Float64Array(buffer, l.baselines, 1 + l.nUsers + l.nMovies);
      b[0] = baselines.globalMean;
      b.set(baselines.userBias, 1);
      b.set(baselines.movieBias, 1 + l.nUsers);
      const sums = new Float64Array(buffer, l.accumulators, l.nMovies * 4);
      const partial = new Float32Array(buffer, l.packed, l.nMovies * (l.segmented ? 8 : 4));
      const refSums = new Float64Array(l.nMovies * 4);
      for (let m = 0; m < matrix.nMovies; m++) {
        const [from, to] = [matrix.moviePtr[m], matrix.moviePtr[m + 1]];
        sums.fill(0);
        refSums.fill(0);
        accumulateDense('pearson-baseline', matrix, baselines, m, from, to, new Int32Array(0), refSums);
        for (const [pFrom, pTo] of [[from, (from + to) >> 1], [(from + to) >> 1, to]]) {
          kernels.accumulatePearsonBaselineF32(l.matrix, pFrom, pTo, m, b[0], l.baselines + 8, l.baselines + 8 * (1 + l.nUsers), l.accumulators, l.packed, l.nMovies, flushEvery);
        }
        for (let n = 0; n < l.nMovies; n++) {
          const at = 4 * n;
          // Slot 0 counts common raters (exact). The others are f32 sums: their error is relative to
          // the terms' magnitudes, Σ dx² + Σ dy² (which bounds 2·Σ |dx·dy| too).
          expect(sums[at]).toBe(refSums[at]);
          const scale = refSums[at + 2] + refSums[at + 3];
          for (let i = 1; i < 4; i++) expect(Math.abs(sums[at + i] - refSums[at + i])).toBeLessThanOrEqual(1e-5 * scale);
        }
        expect(partial.every((v) => v === 0)).toBe(true);
      }
    });
  });
});

/** The matrix with each rating's code replaced by one of 30 codes (1..30), the same in both layouts. */
function spreadCodes(matrix: MatrixArrays): MatrixArrays {
  const userRatings = new Uint8Array(matrix.userRatings.length);
  const movieRatings = new Uint8Array(matrix.movieRatings.length);
  // Code of (u, n): a hash of both, so that CSR and CSC agree.
  const codeOf = (u: number, n: number) => 1 + ((u * 7 + n * 13) % 30);
  for (let u = 0; u < matrix.nUsers; u++) {
    for (let q = matrix.userPtr[u]; q < matrix.userPtr[u + 1]; q++) userRatings[q] = codeOf(u, matrix.userMovies[q]);
  }
  for (let n = 0; n < matrix.nMovies; n++) {
    for (let p = matrix.moviePtr[n]; p < matrix.moviePtr[n + 1]; p++) movieRatings[p] = codeOf(matrix.movieUsers[p], n);
  }
  return { ...matrix, userRatings, movieRatings };
}
