import { Random } from '@recsys/core';
import * as fs from 'node:fs';
import { buildRatingMatrix, RatingListBuilder, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { setBackendLogger } from './backend';
import { createModel } from './model-kinds';
import type { RankingModel } from './ranking/ranking-model';
import { MovieScorer, referenceScores, SCORE_WASM_PATH, ScoreSums } from './score-kernel';

const itWasm = fs.existsSync(SCORE_WASM_PATH) ? it : it.skip;

/** Values of f32 precision in [-1, 1) and some with large exponents, so sums round differently by order. */
function factors(random: Random, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (random.next() * 2 - 1) * (i % 7 === 0 ? 1e3 : i % 5 === 0 ? 1e-3 : 1));
}

/** Bits of a Float64Array, for an exact comparison that also tells -0 from 0. */
const bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length));

describe('recommendation scoring kernel', () => {
  beforeAll(() => setBackendLogger(() => {}));
  afterAll(() => setBackendLogger(null));

  it('referenceScores: hand-computed scores for both orders', () => {
    // 3 movies × 2 factors; p = [2, -1] from offset 1 of [9, 2, -1].
    const Q = [1, 0, 0.5, 4, -3, 2];
    const start = [0.25, -1, 10];
    const out = new Float64Array(3);
    referenceScores(1, Q, 2, start, [9, 2, -1], 1, 100, out);
    // start + 2·q0 − q1 (base ignored)
    expect(Array.from(out)).toEqual([0.25 + 2, -1 + 1 - 4, 10 - 6 - 2]);
    referenceScores(4, Q, 2, start, [9, 2, -1], 1, 100, out);
    // base + start + p·q
    expect(Array.from(out)).toEqual([100.25 + 2, 99 - 3, 110 - 8]);
    referenceScores(1, Q, 2, null, [2, -1], 0, 0, out);
    expect(Array.from(out)).toEqual([2, -3, -8]);
  });

  itWasm('equals referenceScores bit for bit: both orders, k from 0 to 13 and 100, movie counts not a multiple of 4', () => {
    const random = new Random(11);
    for (const sums of [1, 4] as ScoreSums[]) {
      for (const k of [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 100]) {
        for (const n of [1, 3, 4, 5, 6, 7, 9, 37]) {
          const Q = factors(random, n * k);
          const start = Float64Array.from({ length: n }, () => random.next() * 4 - 2);
          const offset = 3;
          const p = factors(random, k + offset);
          const base = random.next() * 5;
          for (const s of [start, null]) {
            const scorer = MovieScorer.create(sums, Q, k, n, s)!;
            const expected = new Float64Array(n);
            referenceScores(sums, Q, k, s, p, offset, base, expected);
            const got = new Float64Array(n);
            scorer.score(p, offset, base, got);
            expect({ sums, k, n, bits: bits(got) }).toEqual({ sums, k, n, bits: bits(expected) });
            // Again with another user on the same scorer: no state carried over.
            const p2 = factors(random, k);
            referenceScores(sums, Q, k, s, p2, 0, -base, expected);
            scorer.score(p2, 0, -base, got);
            expect(bits(got)).toEqual(bits(expected));
          }
        }
      }
    }
  });

  itWasm('the models score with it: svd lists and ials lists equal plain loops over their own factors', async () => {
    const random = new Random(5);
    const b = new RatingListBuilder(64);
    for (let u = 1; u <= 60; u++) for (let m = 1; m <= 45; m++) if (random.next() < 0.3) b.push(u, m, 2 * (1 + random.int(5)));
    const train = buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
    const svd = await createModel('svd', { factors: 7, epochs: 3, backend: 'js' }).fit(train);
    const state = (svd as unknown as { state(): { globalMean: number; userBias: Float64Array; movieBias: Float64Array; userFactors: Float32Array; movieFactors: Float32Array; k: number } }).state();
    const ials = (await createModel('ials', { factors: 6, epochs: 2 }).fit(train)) as RankingModel;
    const ialsFactors = (ials as unknown as { factors: { k: number; userFactors: Float32Array; itemFactors: Float32Array } }).factors;
    for (const userId of [1, 17, 60]) {
      const u = train.users.indexOf(userId);
      // The plain loops of before the kernel: one sum per movie for ials; for svd μ + b_u + b_i + Σ by f mod 4.
      const svdScores = Array.from({ length: train.nMovies }, (_, m) => {
        const d = [0, 0, 0, 0];
        for (let f = 0; f < state.k; f++) d[f < (state.k & ~3) ? f % 4 : 0] += state.userFactors[u * state.k + f] * state.movieFactors[m * state.k + f];
        return state.globalMean + state.userBias[u] + state.movieBias[m] + (d[0] + d[1] + d[2] + d[3]);
      });
      const ialsScores = Array.from({ length: train.nMovies }, (_, m) => {
        let s = 0;
        for (let f = 0; f < ialsFactors.k; f++) s += ialsFactors.userFactors[u * ialsFactors.k + f] * ialsFactors.itemFactors[m * ialsFactors.k + f];
        return s;
      });
      const best = (scores: number[], clip: (x: number) => number) =>
        scores
          .map((score, m) => ({ m, score }))
          .filter(({ m }) => !Array.from(train.userMovies.subarray(train.userPtr[u], train.userPtr[u + 1])).includes(m))
          .sort((x, y) => y.score - x.score || x.m - y.m)
          .slice(0, 10)
          .map(({ m, score }) => ({ movieId: train.movies.ids[m], score: clip(score) }));
      expect(svd.recommend(userId, 10)).toEqual(best(svdScores, (x) => Math.min(5, Math.max(1, x))));
      expect(ials.recommend(userId, 10)).toEqual(best(ialsScores, (x) => x));
    }
  });
});
