import { buildRatingMatrix, generateSynthetic, RatingListBuilder, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { DEFAULT_HOLDOUT, fitChecked, ModelRejectedError, referenceKindOf } from './guard';

const data = buildRatingMatrix(generateSynthetic({ ratings: 30_000, users: 300, movies: 200, seed: 5 }).list, WHOLE_STARS_1_TO_5).matrix;

describe('fitChecked: a model is kept only if it beats its reference on held-out ratings', () => {
  it('names the reference of each kind', () => {
    expect(referenceKindOf('svd')).toBe('baseline');
    expect(referenceKindOf('svdpp')).toBe('baseline');
    expect(referenceKindOf('knn-baseline')).toBe('baseline');
    expect(referenceKindOf('baseline')).toBe('mean');
    expect(referenceKindOf('jaccard-cf')).toBe('mean');
    expect(referenceKindOf('mean')).toBeNull();
  });

  it('keeps an svd that beats baseline, fitted on the data minus a 2 % slice', async () => {
    const fit = await fitChecked('svd', { epochs: 10 }, data);
    expect(fit.holdout).toEqual(DEFAULT_HOLDOUT);
    expect(fit.heldOut).toBe(Math.round(0.02 * data.nRatings));
    expect(fit.train.nRatings).toBe(data.nRatings - fit.heldOut);
    expect(fit.reference!.kind).toBe('baseline');
    expect(fit.rmse).toBeLessThan(fit.reference!.rmse);
    expect(fit.history).toHaveLength(10);
  });

  it('refuses an svd that was barely trained (1 epoch at a learning rate of 1e-6: random factors, biases near 0)', async () => {
    const error = await fitChecked('svd', { epochs: 1, lr: 1e-6, lrBias: 1e-6 }, data).catch((e) => e);
    expect(error).toBeInstanceOf(ModelRejectedError);
    expect(error.message).toMatch(/^svd does not beat baseline on 600 held-out ratings \(RMSE \d\.\d{4} against \d\.\d{4}\)/);
    expect(error.rmse).toBeGreaterThan(error.referenceRmse);
  });

  it('refuses a tie: jaccard-cf where every user rated one movie is the mean in disguise', async () => {
    const list = new RatingListBuilder(2000, false);
    for (let u = 1; u <= 2000; u++) list.push(u, 1 + (u % 7), 2 + (u % 3) * 2);
    const oneEach = buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
    const error = await fitChecked('jaccard-cf', {}, oneEach).catch((e) => e);
    expect(error).toBeInstanceOf(ModelRejectedError);
    expect(error.rmse).toBe(error.referenceRmse);
  });
});
