import * as path from 'node:path';
import { fileSplit, RatingList, RatingMatrix } from '@recsys/data';
import { describeWithData, sharedDataPath } from '@recsys/testing';
import { SvdModel } from './latent/svd-model';
import { createModel } from './model-kinds';

/**
 * Acceptance on the MovieLens 100k canonical folds u1..u5 (mean test RMSE over the five), with
 * each model's defaults. Anchors on exactly these folds: Surprise BaselineOnly 0.9457, SVD 0.9380,
 * SVD++ 0.9218.
 */
const ML = sharedDataPath('movielens-100k');
const FOLDS = [1, 2, 3, 4, 5].flatMap((f) => [`movielens-100k/u${f}.base`, `movielens-100k/u${f}.test`]);

describeWithData('MovieLens 100k, folds u1..u5, defaults', FOLDS, () => {
  const folds: Array<{ train: RatingMatrix; test: RatingList }> = [];
  beforeAll(async () => {
    for (let f = 1; f <= 5; f++) folds.push(await fileSplit(path.join(ML, `u${f}.base`), path.join(ML, `u${f}.test`)));
  });

  async function evaluate(kind: string, params: Record<string, unknown>): Promise<{ rmse: number; mae: number; seconds: number }> {
    let rmse = 0;
    let mae = 0;
    let seconds = 0;
    for (const { train, test } of folds) {
      const model = createModel(kind, params);
      const started = performance.now();
      await model.fit(train);
      seconds += (performance.now() - started) / 1000;
      const predictions = model.predictMany(test);
      let se = 0;
      let ae = 0;
      for (let j = 0; j < test.length; j++) {
        const e = predictions[j] - test.ratings[j] * 0.5;
        se += e * e;
        ae += Math.abs(e);
      }
      rmse += Math.sqrt(se / test.length) / folds.length;
      mae += ae / test.length / folds.length;
    }
    console.log(`ML-100k u1..u5 ${kind} ${JSON.stringify(params)}: RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)}, fit ${seconds.toFixed(2)} s for five folds`);
    return { rmse, mae, seconds };
  }

  it('baseline ≤ 0.946', async () => {
    expect((await evaluate('baseline', {})).rmse).toBeLessThanOrEqual(0.946);
  });

  it('svd (sgd defaults) ≤ 0.930', async () => {
    expect((await evaluate('svd', {})).rmse).toBeLessThanOrEqual(0.93);
  });

  it('svd --solver als ≤ 0.940', async () => {
    expect((await evaluate('svd', { solver: 'als' })).rmse).toBeLessThanOrEqual(0.94);
  });

  it('svd --solver lbfgs ≤ 0.940', async () => {
    expect((await evaluate('svd', { solver: 'lbfgs' })).rmse).toBeLessThanOrEqual(0.94);
  }, 60_000);

  it('svdpp ≤ 0.917', async () => {
    expect((await evaluate('svdpp', {})).rmse).toBeLessThanOrEqual(0.917);
  }, 30_000);

  it('early stopping on u1 keeps the epoch with the best validation RMSE', async () => {
    const { train, test } = folds[0];
    // Unregularised and long: the validation RMSE turns up after a few epochs.
    const model = await new SvdModel({ factors: 50, epochs: 40, lr: 0.02, lrBias: 0.02, reg: 0, regBias: 0 }).fit(train, {
      validation: test,
      earlyStopping: { patience: 3 },
    });
    const history = model.history;
    expect(history.length).toBeLessThan(40);
    const best = Math.min(...history.map((h) => h.validationRmse!));
    const predictions = model.predictMany(test);
    let se = 0;
    for (let j = 0; j < test.length; j++) se += (predictions[j] - test.ratings[j] * 0.5) ** 2;
    expect(Math.sqrt(se / test.length)).toBeCloseTo(best, 10);
    expect(history[history.length - 1].validationRmse!).toBeGreaterThan(best);
  });
});
