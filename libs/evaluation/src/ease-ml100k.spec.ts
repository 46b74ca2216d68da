import * as path from 'node:path';
import { fileSplit, RatingList, RatingMatrix } from '@recsys/data';
import { createModel, EASE_DEFAULTS } from '@recsys/models';
import { describeWithData, sharedDataPath } from '@recsys/testing';
import { rankingMetrics } from './ranking-metrics';

/**
 * `ease` on the MovieLens 100k canonical folds u1..u5 with the protocol (train uN.base;
 * relevant: held-out ratings ≥ 4; candidates: movies the user did not rate in training; k 10):
 * - with numpy's setting (λ 500, every rating an interaction) it reproduces the 20 lines
 *   of numpy: u1 P@10 0.377, NDCG@10 0.448; mean over the folds 0.292 / 0.385;
 * - with its defaults (λ 400, ratings ≥ 3 stars as interactions) the mean NDCG@10 is ≥ 0.40
 *   (measured 0.4064, P@10 0.3049).
 */
const ML = sharedDataPath('movielens-100k');
const FOLDS = [1, 2, 3, 4, 5].flatMap((f) => [`movielens-100k/u${f}.base`, `movielens-100k/u${f}.test`]);

describeWithData('ease on MovieLens 100k u1..u5', FOLDS, () => {
  const folds: Array<{ train: RatingMatrix; test: RatingList }> = [];
  beforeAll(async () => {
    for (let f = 1; f <= 5; f++) folds.push(await fileSplit(path.join(ML, `u${f}.base`), path.join(ML, `u${f}.test`)));
  });

  const evaluate = async (params: Record<string, unknown>): Promise<Array<{ precision: number; ndcg: number }>> => {
    const out = [];
    for (const { train, test } of folds) out.push(rankingMetrics(await createModel('ease', params).fit(train), train, test, { k: 10, relevantThreshold: 4 }));
    return out;
  };
  const mean = (rows: Array<{ precision: number; ndcg: number }>, key: 'precision' | 'ndcg'): number => rows.reduce((s, r) => s + r[key], 0) / rows.length;

  it("reproduces numpy's EASE (λ 500, every rating): u1 P@10 0.377 / NDCG@10 0.448, mean 0.292 / 0.385", async () => {
    const rows = await evaluate({ lambda: 500, minWeight: 0 });
    expect(rows[0].precision).toBeCloseTo(0.377, 3);
    expect(rows[0].ndcg).toBeCloseTo(0.448, 3);
    expect(mean(rows, 'precision')).toBeCloseTo(0.292, 3);
    expect(mean(rows, 'ndcg')).toBeCloseTo(0.385, 3);
  }, 120_000);

  it('reaches mean NDCG@10 ≥ 0.40 with its defaults', async () => {
    const rows = await evaluate({});
    console.log(`ease defaults ${JSON.stringify(EASE_DEFAULTS)}: mean P@10 ${mean(rows, 'precision').toFixed(4)}, NDCG@10 ${mean(rows, 'ndcg').toFixed(4)}`);
    expect(mean(rows, 'ndcg')).toBeGreaterThanOrEqual(0.4);
    expect(mean(rows, 'precision')).toBeGreaterThan(0.3);
  }, 120_000);
});
