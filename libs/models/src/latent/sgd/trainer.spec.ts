import { Worker } from 'node:worker_threads';
import { buildRatingMatrix, generateSynthetic, holdoutSplit, RatingList, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { BlockSgdTrainer, createSgdTrainer, gatherRowsInPlace, SgdTrainerOptions } from './trainer';
import type { FactorState } from '../factor-trainer';

function matrixOf(triples: Array<[number, number, number]>): RatingMatrix {
  const list = new RatingListBuilder(triples.length);
  for (const [u, m, r] of triples) list.push(u, m, r * 2);
  return buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
}

const synthetic = generateSynthetic({ ratings: 30_000, users: 600, movies: 300, seed: 11, withDates: false });
const split = holdoutSplit(buildRatingMatrix(synthetic.list, WHOLE_STARS_1_TO_5).matrix, { testFraction: 0.1, seed: 3 });
const train = split.train;

/** RMSE on held-out pairs; unknown users/movies predicted by μ + known biases. */
function testRmse(matrix: RatingMatrix, state: FactorState, test: RatingList, k: number): number {
  let sse = 0;
  for (let j = 0; j < test.length; j++) {
    const u = matrix.users.indexOf(test.users[j]);
    const m = matrix.movies.indexOf(test.movies[j]);
    let pred = state.globalMean;
    if (u >= 0) pred += state.userBias[u];
    if (m >= 0) pred += state.movieBias[m];
    if (u >= 0 && m >= 0) for (let f = 0; f < k; f++) pred += state.userFactors[u * k + f] * state.movieFactors[m * k + f];
    const e = test.ratings[j] * 0.5 - Math.min(5, Math.max(1, pred));
    sse += e * e;
  }
  return Math.sqrt(sse / test.length);
}

const HYPER = { lr: 0.01, reg: 0.05, lrBias: 0.01, regBias: 0.02 };

async function run(options: Omit<SgdTrainerOptions, 'lr' | 'reg'>, epochs: number, matrix = train): Promise<{ rmse: number[]; state: FactorState; trainer: BlockSgdTrainer }> {
  const trainer = await createSgdTrainer(matrix, { ...HYPER, ...options });
  try {
    const rmse: number[] = [];
    for (let e = 0; e < epochs; e++) rmse.push(await trainer.step());
    return { rmse, state: trainer.state(), trainer };
  } finally {
    await trainer.dispose();
  }
}

function maxAbsDiff(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function expectStatesEqual(a: FactorState, b: FactorState, tolerance: number): void {
  expect(a.globalMean).toBe(b.globalMean);
  expect(maxAbsDiff(a.userBias, b.userBias)).toBeLessThanOrEqual(tolerance);
  expect(maxAbsDiff(a.movieBias, b.movieBias)).toBeLessThanOrEqual(tolerance);
  expect(maxAbsDiff(a.userFactors, b.userFactors)).toBeLessThanOrEqual(tolerance);
  expect(maxAbsDiff(a.movieFactors, b.movieFactors)).toBeLessThanOrEqual(tolerance);
}

describe('SGD trainer: one user, two ratings, computed by hand', () => {
  // User 1 rates movie 10 five stars, movie 20 one star: μ = 3. k = 1 (padded to 4 lanes), all
  // factors start at 0.5 (initStd 0), lr = reg = 0.1. Ratings go in ascending movie order.
  //  rating 1: e = 5 − (3 + 0 + 0 + 0.25) = 1.75 → b_u = 0.175, b_10 = 0.175,
  //            p = 0.5 + 0.1(1.75·0.5 − 0.05) = 0.5825, q_10 = 0.5825
  //  rating 2: e = 1 − (3 + 0.175 + 0 + 0.5825·0.5) = −2.46625
  //            b_u = 0.175 + 0.1(−2.46625 − 0.0175) = −0.073375, b_20 = −0.246625,
  //            p = 0.5825 + 0.1(−2.46625·0.5 − 0.05825) = 0.4533625,
  //            q_20 = 0.5 + 0.1(−2.46625·0.5825 − 0.05) = 0.3513409375
  //  train RMSE = √((1.75² + 2.46625²)/2) = √4.57244453125
  const tiny = matrixOf([
    [1, 10, 5],
    [1, 20, 1],
  ]);
  for (const backend of ['wasm', 'js'] as const) {
    it(`matches the hand computation (${backend === 'wasm' ? 'WebAssembly' : 'TypeScript reference'})`, async () => {
      const trainer = await createSgdTrainer(tiny, { factors: 1, initStd: 0, initMean: 0.5, backend, lr: 0.1, reg: 0.1 });
      expect(trainer.wasm).toBe(backend === 'wasm');
      const trainRmse = await trainer.step();
      const s = trainer.state();
      await trainer.dispose();
      expect(trainRmse).toBeCloseTo(Math.sqrt(4.57244453125), 5);
      expect(s.globalMean).toBe(3);
      expect(s.userBias[0]).toBeCloseTo(-0.073375, 6);
      expect(Array.from(s.movieBias)).toEqual([expect.closeTo(0.175, 6), expect.closeTo(-0.246625, 6)]);
      expect(s.userFactors.length).toBe(1);
      expect(s.userFactors[0]).toBeCloseTo(0.4533625, 6);
      expect(Array.from(s.movieFactors)).toEqual([expect.closeTo(0.5825, 6), expect.closeTo(0.3513409375, 6)]);
    });
  }
});

describe('SGD trainer: WebAssembly kernel against the TypeScript reference', () => {
  // 8, 10, 3: rows of fewer than 16 floats (the kernels' 4-chunk loop never runs); 16, 22, 100:
  // whole 4-chunk groups, then 0, 2 and 1 chunks left over.
  for (const factors of [8, 10, 3, 16, 22, 100]) {
    it(`gives the same epochs with ${factors} factors (${factors % 4 === 0 ? 'no padding' : 'padded rows'})`, async () => {
      const wasm = await run({ factors, seed: 5, backend: 'wasm' }, 4);
      const reference = await run({ factors, seed: 5, backend: 'js' }, 4);
      // Same f32 operations in the same order: bit-identical, not merely close.
      expect(wasm.rmse).toEqual(reference.rmse);
      expectStatesEqual(wasm.state, reference.state, 0);
      expect(wasm.state.userFactors.length).toBe(train.nUsers * factors);
      expect(wasm.state.movieFactors.length).toBe(train.nMovies * factors);
    });
  }

  it('learns: the training error falls every epoch and held-out RMSE beats the global mean', async () => {
    const { rmse, state } = await run({ factors: 10, seed: 1 }, 10);
    for (let e = 1; e < rmse.length; e++) expect(rmse[e]).toBeLessThan(rmse[e - 1]);
    const meanOnly: FactorState = {
      globalMean: state.globalMean,
      userBias: new Float64Array(train.nUsers),
      movieBias: new Float64Array(train.nMovies),
      userFactors: new Float32Array(train.nUsers * 10),
      movieFactors: new Float32Array(train.nMovies * 10),
      k: 10,
    };
    expect(testRmse(train, state, split.test, 10)).toBeLessThan(testRmse(train, meanOnly, split.test, 10) - 0.05);
  });

  it('changes with the seed (the order and the initial factors are seeded)', async () => {
    const a = await run({ factors: 4, seed: 1 }, 1);
    const b = await run({ factors: 4, seed: 2 }, 1);
    expect(maxAbsDiff(a.state.userFactors, b.state.userFactors)).toBeGreaterThan(1e-3);
  });
});

describe('SGD trainer: worker threads over blocks', () => {
  it('two threads equal the serial reference run of the same 8 × 8 block schedule, and repeat exactly', async () => {
    const parallel = await run({ factors: 10, threads: 2, seed: 9, backend: 'wasm' }, 3);
    expect(parallel.trainer.blocks).toBe(8);
    expect(parallel.trainer.workers).toBe(2);
    const again = await run({ factors: 10, threads: 2, seed: 9 }, 3);
    expect(again.rmse).toEqual(parallel.rmse);
    expectStatesEqual(again.state, parallel.state, 0);
    const serial = await run({ factors: 10, threads: 2, seed: 9, backend: 'js' }, 3);
    expect(serial.trainer.workers).toBe(0);
    // Blocks of a round share no rows, so the parallel epoch is exactly the serial one.
    expect(serial.rmse).toEqual(parallel.rmse);
    expectStatesEqual(serial.state, parallel.state, 0);
  }, 30_000);

  it('two threads reach the quality of one', async () => {
    const one = await run({ factors: 10, threads: 1, seed: 4 }, 12);
    const two = await run({ factors: 10, threads: 2, seed: 4 }, 12);
    const rmseOne = testRmse(train, one.state, split.test, 10);
    const rmseTwo = testRmse(train, two.state, split.test, 10);
    expect(Math.abs(rmseOne - rmseTwo)).toBeLessThan(0.01);
    expect(Math.abs(one.rmse[11] - two.rmse[11])).toBeLessThan(0.01);
  }, 30_000);

  it('finalState() equals state() (rows put back in matrix order in place, as views) and ends the stepping', async () => {
    const trainer = await createSgdTrainer(train, { factors: 8, threads: 2, lr: 0.01, reg: 0.02 });
    try {
      await trainer.step();
      const copy = trainer.state();
      const final = trainer.finalState();
      expect(final).toEqual(copy);
      expect(final.userFactors.byteOffset + final.userFactors.byteLength).toBeLessThanOrEqual(final.userFactors.buffer.byteLength);
      expect(final.userFactors.buffer).toBe(final.movieFactors.buffer);
      await expect(trainer.step()).rejects.toThrow('after finalState');
    } finally {
      await trainer.dispose();
    }
  });

  it('gatherRowsInPlace: row r becomes row index[r], for a permutation with several cycles and fixed points', () => {
    const index = Uint32Array.from([3, 1, 0, 5, 2, 4, 6]);
    const k = 2;
    const rows = Float32Array.from({ length: index.length * k }, (_, i) => i);
    const expected = Float32Array.from({ length: rows.length }, (_, i) => rows[index[Math.floor(i / k)] * k + (i % k)]);
    expect(gatherRowsInPlace(rows, index, k)).toEqual(expected);
  });

  it('dispose terminates every worker and refuses further epochs', async () => {
    const terminate = jest.spyOn(Worker.prototype, 'terminate');
    try {
      const trainer = await createSgdTrainer(train, { factors: 4, threads: 2, lr: 0.01, reg: 0.02 });
      await trainer.step();
      await trainer.dispose();
      expect(terminate).toHaveBeenCalledTimes(2);
      await expect(trainer.step()).rejects.toThrow('after dispose');
      expect(() => trainer.state()).toThrow('after dispose');
    } finally {
      terminate.mockRestore();
    }
  });
});

describe('SGD trainer: argument checks', () => {
  it('refuses bad options and hyper-parameters with the offending value', async () => {
    const hyper = { lr: 0.01, reg: 0.02 };
    await expect(createSgdTrainer(train, { factors: 0, ...hyper })).rejects.toThrow('factors must be an integer ≥ 1, got 0');
    await expect(createSgdTrainer(train, { factors: 4, threads: 1.5, ...hyper })).rejects.toThrow('threads must be an integer ≥ 1, got 1.5');
    await expect(createSgdTrainer(RatingMatrix.empty(), { factors: 4, ...hyper })).rejects.toThrow('no ratings');
    await expect(createSgdTrainer(train, { factors: 4, lr: Number.NaN, reg: 0.02 })).rejects.toThrow('lr must be a finite number ≥ 0, got NaN');
    await expect(createSgdTrainer(train, { factors: 4, lr: 0.01, reg: -1 })).rejects.toThrow('reg must be a finite number ≥ 0, got -1');
  });
});
