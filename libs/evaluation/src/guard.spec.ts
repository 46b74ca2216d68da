import { buildRatingMatrix, generateSynthetic, holdoutSplit, RatingListBuilder, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel, LatentModel } from '@recsys/models';
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

  it('fits on the slice in place exactly as on a materialised copy of the training ratings (same factors, bit for bit)', async () => {
    const params = { epochs: 4, threads: 1, seed: 3 };
    // A materialised copy: the training ratings rebuilt from a list (no user or movie is lost at 2 %, so the indices agree).
    const split = holdoutSplit(data, { testFraction: DEFAULT_HOLDOUT.fraction, seed: DEFAULT_HOLDOUT.seed });
    expect(split.train.nUsers).toBe(data.nUsers);
    const plain = (await createModel('svd', params).fit(split.train)) as LatentModel;
    const copy = buildRatingMatrix(generateSynthetic({ ratings: 30_000, users: 300, movies: 200, seed: 5 }).list, WHOLE_STARS_1_TO_5).matrix;
    for (const consumeData of [false, true]) {
      const fit = await fitChecked('svd', params, consumeData ? copy : data, { consumeData });
      const a = (fit.model as LatentModel).fitted;
      const bytes = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);
      expect(bytes(a.userFactors).equals(bytes(plain.fitted.userFactors))).toBe(true);
      expect(Array.from(a.movieFactors)).toEqual(Array.from(plain.fitted.movieFactors));
      expect(Array.from(a.userBias)).toEqual(Array.from(plain.fitted.userBias));
    }
  });

  it('keeps users whose every rating was held out at their index, predicting μ + b_i for them as for an unknown user', async () => {
    // 600 users with 1–3 ratings each: the 2 % slice takes every rating of several.
    const list = new RatingListBuilder(2000, false);
    for (let u = 0; u < 600; u++) for (let j = 0; j <= u % 3; j++) list.push(1000 + u, 1 + ((u * 7 + j * 13) % 40), 2 * (1 + ((u + j) % 5)));
    for (let m = 1; m <= 40; m++) for (let u = 0; u < 50; u++) list.push(5000 + u, m, 2 * (1 + ((u * m) % 5)));
    const sparse = buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
    const lost = holdoutSplit(sparse, { testFraction: 0.02, seed: 42 }).train.nUsers;
    expect(lost).toBeLessThan(sparse.nUsers);
    const fit = await fitChecked('svd', { epochs: 20, lr: 0.01, factors: 8 }, sparse);
    const model = fit.model as LatentModel;
    expect(fit.train.nUsers).toBe(sparse.nUsers);
    const { userBias, userFactors, movieBias, globalMean, k } = model.fitted;
    let empty = 0;
    for (let u = 0; u < sparse.nUsers; u++) {
      if (fit.train.userCount(u) > 0) continue;
      empty++;
      expect(userBias[u]).toBe(0);
      expect(Array.from(userFactors.subarray(u * k, (u + 1) * k))).toEqual(new Array(k).fill(0));
      const m = sparse.userMovies[sparse.userPtr[u]];
      expect(model.predict(sparse.users.ids[u], sparse.movies.ids[m]).rating).toBeCloseTo(Math.min(5, Math.max(1, globalMean + movieBias[m])), 12);
    }
    expect(empty).toBe(sparse.nUsers - lost);
  });
});
