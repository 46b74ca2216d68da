import { buildRatingMatrix, RatingMatrix, SnapshotError, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { longTailDensity, randomRatings } from '@recsys/testing';
import { fitBaselinesAls } from './baselines';
import {
  buildNeighbourIndex,
  buildNeighbourIndexSync,
  deserializeNeighbourIndex,
  NeighbourIndex,
  serializeNeighbourIndex,
} from './neighbour-index';
import { mostSimilar, SimilarityMetric } from './similarity';

/** Random matrix with a long tail: popularity falls with the movie number, every 4th user rates a lot. */
function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  const ratings = randomRatings({ seed, users, movies, density: longTailDensity(density, movies), userId: (u) => 10 + u, movieId: (m) => 5 + 2 * m });
  return buildRatingMatrix(ratings, WHOLE_STARS_1_TO_5).matrix;
}

/** Every movie's neighbours in the index equal mostSimilar's (similarities rounded to float32). */
function expectMatchesMostSimilar(index: NeighbourIndex, matrix: RatingMatrix, options: Parameters<typeof mostSimilar>[3], k: number) {
  expect(index.nMovies).toBe(matrix.nMovies);
  for (let m = 0; m < matrix.nMovies; m++) {
    const expected = mostSimilar(matrix, m, k, options);
    const actual = index.neighboursOf(m);
    expect(actual.map((x) => x.movie)).toEqual(expected.map((x) => x.movie));
    expect(actual.map((x) => x.support)).toEqual(expected.map((x) => x.support));
    expect(actual.map((x) => x.similarity)).toEqual(expected.map((x) => Math.fround(x.similarity)));
  }
}

function expectSameIndex(a: NeighbourIndex, b: NeighbourIndex) {
  expect([a.metric, a.k, a.minSupport, a.shrinkage, a.nMovies]).toEqual([b.metric, b.k, b.minSupport, b.shrinkage, b.nMovies]);
  expect(a.ptr).toEqual(b.ptr);
  expect(a.neighbours).toEqual(b.neighbours);
  expect(a.similarities).toEqual(b.similarities);
  expect(a.supports).toEqual(b.supports);
}

describe('neighbour index', () => {
  const matrix = randomMatrix(11, 150, 60, 0.15);
  const baselines = fitBaselinesAls(matrix);

  it.each<[SimilarityMetric, number, number]>([
    ['jaccard', 0, 8],
    ['jaccard', 2, 8],
    ['cosine', 1, 5],
    ['pearson', 0, 60],
    ['pearson-baseline', 1, 8],
  ])('%s, minSupport %d, k %d: 1 and 2 threads equal per-movie mostSimilar and the sync build', async (metric, minSupport, k) => {
    const options = { metric, minSupport, baselines };
    const progress: number[] = [];
    const one = await buildNeighbourIndex(matrix, { ...options, k, threads: 1, onProgress: (done, total) => progress.push(done / total) });
    const two = await buildNeighbourIndex(matrix, { ...options, k, threads: 2 });
    const sync = buildNeighbourIndexSync(matrix, { ...options, k });
    expectMatchesMostSimilar(one, matrix, options, k);
    expectSameIndex(one, two);
    expectSameIndex(one, sync);
    expect(progress[progress.length - 1]).toBe(1);
    expect(one.k).toBe(k);
  }, 30_000);

  it('fits baselines itself for pearson-baseline when none are given, and uses K = 50 by default', async () => {
    const index = await buildNeighbourIndex(matrix, { metric: 'pearson-baseline', threads: 2 });
    expect(index.k).toBe(50);
    expect(index.shrinkage).toBe(100);
    expectMatchesMostSimilar(index, matrix, { metric: 'pearson-baseline', baselines }, 50);
  }, 30_000);

  it('neighboursOf rejects an unknown movie', () => {
    const index = buildNeighbourIndexSync(matrix, { k: 3 });
    expect(() => index.neighboursOf(matrix.nMovies)).toThrow(`unknown internal movie index ${matrix.nMovies}`);
  });

  it('round-trips through bytes, also from an unaligned offset, and rejects damaged bytes', () => {
    const index = buildNeighbourIndexSync(matrix, { metric: 'pearson', k: 7, minSupport: 2, shrinkage: 10 });
    const bytes = serializeNeighbourIndex(index);
    expectSameIndex(deserializeNeighbourIndex(bytes), index);
    // Embedded at an odd offset of a larger buffer, as inside a model artifact.
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const back = deserializeNeighbourIndex(host.subarray(3));
    expectSameIndex(back, index);
    expect(back.neighboursOf(5)).toEqual(index.neighboursOf(5));

    expect(() => deserializeNeighbourIndex(bytes.subarray(0, bytes.length - 4))).toThrow(SnapshotError);
    expect(() => deserializeNeighbourIndex(bytes.subarray(0, bytes.length - 4))).toThrow(/bytes, expected/);
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0;
    expect(() => deserializeNeighbourIndex(wrongMagic)).toThrow(/not a neighbour index/);
    // A flipped byte fails the checksum; an index whose first neighbour is out of range (written
    // with a valid checksum) fails the range check.
    const flipped = bytes.slice();
    flipped[flipped.length - 5] ^= 0x20;
    expect(() => deserializeNeighbourIndex(flipped)).toThrow(/checksum mismatch/);
    const outOfRange = index.neighbours.slice();
    outOfRange[0] = index.nMovies;
    const badNeighbour = serializeNeighbourIndex(
      new NeighbourIndex(index.metric, index.k, index.minSupport, index.shrinkage, index.nMovies, index.ptr, outOfRange, index.similarities, index.supports),
    );
    expect(() => deserializeNeighbourIndex(badNeighbour)).toThrow(`neighbour ${index.nMovies} out of range at entry 0`);
  });

  it('handles an empty matrix', async () => {
    const empty = RatingMatrix.empty();
    const index = await buildNeighbourIndex(empty, { threads: 2 });
    expect(index.nMovies).toBe(0);
    expectSameIndex(deserializeNeighbourIndex(serializeNeighbourIndex(index)), index);
  });
});
