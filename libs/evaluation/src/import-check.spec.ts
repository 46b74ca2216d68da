import { generateSynthetic, buildRatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel } from '@recsys/models';
import { errorMetrics } from './error-metrics';
import { checkImportedModel, ImportedModelRejectedError } from './guard';

const data = buildRatingMatrix(generateSynthetic({ ratings: 20_000, users: 300, movies: 150, seed: 3 }).list, WHOLE_STARS_1_TO_5).matrix;

describe('checkImportedModel: a model trained elsewhere is written only if it fits its data better than baseline', () => {
  it('accepts a latent model fitted on these ratings, measured on every rating of data this small, with baseline fitted on all of them', async () => {
    const svd = await createModel('svd', { factors: 8, epochs: 15, seed: 1 }).fit(data);
    const check = await checkImportedModel(svd, data);
    const all = data.toList(() => true);
    expect(check.sampled).toBe(data.nRatings);
    // The figures, computed here from the same definitions.
    expect(check.rmse).toBeCloseTo(errorMetrics(svd.predictMany(all), all).rmse, 12);
    const baseline = await createModel('baseline').fit(data);
    expect(check.reference).toEqual({ kind: 'baseline', rmse: errorMetrics(baseline.predictMany(all), all).rmse });
    expect(check.rmse).toBeLessThan(check.reference.rmse);
  });

  it('refuses a model fitted on other ratings with the same ids (ties refused too: the mean of the data is no better than baseline)', async () => {
    const other = buildRatingMatrix(generateSynthetic({ ratings: 20_000, users: 300, movies: 150, seed: 99 }).list, WHOLE_STARS_1_TO_5).matrix;
    const stranger = await createModel('svd', { factors: 8, epochs: 15, seed: 1 }).fit(other);
    await expect(checkImportedModel(stranger, data)).rejects.toThrow(ImportedModelRejectedError);
    const mean = await createModel('mean').fit(data);
    await expect(checkImportedModel(mean, data)).rejects.toThrow(/the imported mean model does not beat baseline on 20,000 sampled ratings of the data \(RMSE \d\.\d{4} against \d\.\d{4}, both fitted on every rating\): not written/);
  });

  it('above the sample size, measures on a seeded sample of about that many ratings (the same one each time)', async () => {
    const svd = await createModel('svd', { factors: 8, epochs: 15, seed: 1 }).fit(data);
    const a = await checkImportedModel(svd, data, 2_000);
    const b = await checkImportedModel(svd, data, 2_000);
    expect(a).toEqual(b);
    expect(a.sampled).toBeGreaterThan(1_500);
    expect(a.sampled).toBeLessThan(2_500);
  });
});
