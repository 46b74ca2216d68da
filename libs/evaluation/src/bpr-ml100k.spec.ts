import * as path from 'node:path';
import { fileSplit } from '@recsys/data';
import { createModel, setBackendLogger } from '@recsys/models';
import { describeWithData, sharedDataPath } from '@recsys/testing';
import { rankingMetrics } from './ranking-metrics';

/**
 * Acceptance of `bpr` on the MovieLens 100k canonical folds u1..u5 with the protocol
 * (train on uN.base; relevant: held-out ratings ≥ 4 in uN.test; candidates: the movies the user
 * did not rate in training; k = 10): mean NDCG@10 ≥ 0.30 with the defaults (measured 0.360;
 * `popular` 0.198, EASE by numpy 0.385).
 */
const ML = sharedDataPath('movielens-100k');
const FOLDS = [1, 2, 3, 4, 5].flatMap((f) => [`movielens-100k/u${f}.base`, `movielens-100k/u${f}.test`]);

describeWithData('bpr on MovieLens 100k u1..u5, defaults', FOLDS, () => {
  beforeAll(() => setBackendLogger(() => {}));
  afterAll(() => setBackendLogger(null));

  it('has mean NDCG@10 ≥ 0.30 and beats popular on every fold', async () => {
    let ndcg = 0;
    let precision = 0;
    for (let f = 1; f <= 5; f++) {
      const { train, test } = await fileSplit(path.join(ML, `u${f}.base`), path.join(ML, `u${f}.test`));
      const bpr = rankingMetrics(await createModel('bpr').fit(train), train, test, { k: 10, relevantThreshold: 4 });
      const popular = rankingMetrics(await createModel('popular').fit(train), train, test, { k: 10, relevantThreshold: 4 });
      expect(bpr.ndcg).toBeGreaterThan(popular.ndcg);
      ndcg += bpr.ndcg / 5;
      precision += bpr.precision / 5;
    }
    console.log(`bpr defaults, ML-100k u1..u5: mean P@10 ${precision.toFixed(4)}, NDCG@10 ${ndcg.toFixed(4)}`);
    expect(ndcg).toBeGreaterThanOrEqual(0.3);
  }, 300_000);
});
