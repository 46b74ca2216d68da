import { buildRatingMatrix, generateSynthetic, holdoutSplit, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel } from '@recsys/models';
import { FitDivergedError } from './divergence';
import { evaluate } from './evaluate';
import { fitChecked } from './guard';
import { gridSearch } from './search';

const data = buildRatingMatrix(generateSynthetic({ ratings: 20_000, users: 500, movies: 300, seed: 7 }).list, WHOLE_STARS_1_TO_5).matrix;
// In bounds, yet the SGD steps overflow on this data at once: the training RMSE is NaN from epoch 1.
const DIVERGING = { lr: 1, epochs: 30 };

describe('a fit whose training RMSE is not finite stops with FitDivergedError', () => {
  it('fitChecked: at the first NaN epoch, naming it, before any reference is fitted', async () => {
    const epochs: number[] = [];
    const error = await fitChecked('svd', DIVERGING, data, { onProgress: (p) => epochs.push(p.epoch) }).catch((e) => e);
    expect(error).toBeInstanceOf(FitDivergedError);
    expect(error.message).toMatch(/^svd diverged: training RMSE NaN after epoch 1 of 30; not served or written; lower the learning rate/);
    expect(epochs).toEqual([1]);
  });

  it('evaluate: the fold is named; a search keeps going and ranks the failed setting last with its reason', async () => {
    const split = holdoutSplit(data, { testFraction: 0.1, seed: 1 });
    const error = await evaluate(() => createModel('svd', DIVERGING), [split]).catch((e) => e);
    expect(error).toBeInstanceOf(FitDivergedError);
    expect(error.message).toContain(`(fold ${split.name})`);
    const trials = await gridSearch('svd', { lr: [1, 0.02] }, () => [split], { baseParams: { epochs: 5 } });
    expect(trials.map((t) => [t.params.lr, t.error === null])).toEqual([
      [0.02, true],
      [1, false],
    ]);
    expect(trials[1].error).toMatch(/^svd diverged: training RMSE NaN after epoch 1 of 5/);
    expect(trials[1].meanRmse).toBeNaN();
    expect(trials[1].modelParams).toMatchObject({ lr: 1, epochs: 5 });
  });
});
