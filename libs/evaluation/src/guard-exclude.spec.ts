import * as path from 'node:path';
import { buildRatingMatrix, generateSynthetic, holdoutSlice, MovieCatalog, RatingListBuilder, RatingMatrix, readSnapshot, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
import { tempDir } from '@recsys/testing';
import { createModel, LatentModel } from '@recsys/models';
import { CheckedFit, DEFAULT_HOLDOUT, fitChecked, fitsInPlace, ModelRejectedError } from './guard';

/**
 * Synthetic ratings plus 1,500 users with one rating each and 60 movies with one rating each:
 * the 2 % slice takes every rating of some of them (rows the training copy keeps empty).
 */
function sparseData(): RatingMatrix {
  const synthetic = generateSynthetic({ ratings: 30_000, users: 300, movies: 200, seed: 5 }).list;
  const list = new RatingListBuilder(synthetic.length + 1_600, false);
  for (let j = 0; j < synthetic.length; j++) list.push(synthetic.users[j], synthetic.movies[j], synthetic.ratings[j]);
  const userBase = 1 + Math.max(...synthetic.users);
  const movieBase = 1 + Math.max(...synthetic.movies);
  for (let i = 0; i < 1_500; i++) list.push(userBase + i, synthetic.movies[(i * 7) % synthetic.length], 2 + (i % 5) * 2);
  for (let i = 0; i < 60; i++) list.push(synthetic.users[(i * 11) % synthetic.length], movieBase + i, 2 + (i % 4) * 2);
  return buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
}

const data = sparseData();

/** The same ratings read back from a snapshot with each array in a buffer of its own (as `recsys train` reads its data), so that they can be released. */
const snapshot = path.join(tempDir('recsys-guard-exclude-'), 'data.rsnap');
function ownedData(): RatingMatrix {
  writeSnapshot(snapshot, { matrix: data, catalog: new MovieCatalog() });
  return readSnapshot(snapshot, { separateArrays: true }).matrix;
}

/** The fitted state and every figure of a checked fit, to compare two fits exactly. */
function figures(fit: CheckedFit) {
  const model = fit.model as LatentModel;
  return { rmse: fit.rmse, mae: fit.mae, heldOut: fit.heldOut, reference: fit.reference, history: fit.history.map(({ seconds: _s, ...p }) => p), state: model.state() };
}

/** The RMSE, MAE, reference, epochs and fitted state of `fit`, exactly those of `copy`. */
function expectSameFigures(fit: CheckedFit, copy: CheckedFit): void {
  const a = figures(copy);
  const b = figures(fit);
  expect(b.rmse).toBe(a.rmse);
  expect(b.mae).toBe(a.mae);
  expect(b.reference).toEqual(a.reference);
  expect(b.history).toEqual(a.history);
  expect(b.state).toEqual(a.state);
}

describe('fitChecked with excludeInPlace: the slice left out by a mask, without a training copy', () => {
  it('the data has users and movies whose every rating is held out (the case the empty rows are for)', () => {
    const { train } = holdoutSlice(data, { testFraction: DEFAULT_HOLDOUT.fraction, seed: DEFAULT_HOLDOUT.seed, days: false });
    let emptyUsers = 0;
    let emptyMovies = 0;
    for (let u = 0; u < train.nUsers; u++) if (train.userPtr[u + 1] === train.userPtr[u]) emptyUsers++;
    for (let m = 0; m < train.nMovies; m++) if (train.moviePtr[m + 1] === train.moviePtr[m]) emptyMovies++;
    expect(emptyUsers).toBeGreaterThan(0);
    expect(emptyMovies).toBeGreaterThan(0);
  });

  // threads 2: 8 × 8 blocks in the WebAssembly kernel's workers, so the partition (balanced by the kept counts) matters.
  it.each([
    ['svd', { factors: 8, epochs: 10 }],
    ['svd', { factors: 5, epochs: 10, threads: 2 }],
    ['svd', { factors: 8, epochs: 10, threads: 1, backend: 'js' }],
    ['baseline', {}],
  ] as Array<[string, Record<string, unknown>]>)('%s %j: the same held-out ratings, RMSE, MAE, reference RMSE, epochs and fitted state as on the slice copy', async (kind, params) => {
    const copy = await fitChecked(kind, params, data, { validate: true });
    const inPlace = await fitChecked(kind, params, data, { validate: true, excludeInPlace: true });
    expect(copy.excludedInPlace).toBe(false);
    expect(inPlace.excludedInPlace).toBe(true);
    expect(inPlace.train).toBe(data);
    expect(copy.train.nRatings).toBe(data.nRatings - copy.heldOut);
    expect(inPlace.heldOut).toBe(Math.round(DEFAULT_HOLDOUT.fraction * data.nRatings));
    expectSameFigures(inPlace, copy);
  });

  it('with consumeData: the by-movie arrays and dates are released before the fits, and the figures stay those of the copy', async () => {
    const params = { factors: 6, epochs: 8, threads: 2 };
    const copy = await fitChecked('svd', params, data, { validate: true });
    const own = ownedData();
    const n = own.nRatings;
    const consumed = await fitChecked('svd', params, own, { validate: true, excludeInPlace: true, consumeData: true });
    expect(consumed.excludedInPlace).toBe(true);
    expect([own.movieUsers.length, own.movieRatings.length]).toEqual([0, 0]);
    expect([own.userMovies.length, own.userRatings.length, own.nRatings]).toEqual([n, n, n]);
    expect(consumed.exclude!.reduce((a, b) => a + b, 0)).toBe(consumed.heldOut);
    expectSameFigures(consumed, copy);
  });

  it('with consumeData, a model that does not beat its reference is still refused', async () => {
    // One epoch at a tiny learning rate from large random factors: far worse than the baseline.
    const losing = { factors: 6, epochs: 1, lr: 1e-6, lrBias: 1e-6, initStd: 1 };
    const own = ownedData();
    const error = await fitChecked('svd', losing, own, { excludeInPlace: true, consumeData: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelRejectedError);
    expect((error as ModelRejectedError).referenceKind).toBe('baseline');
    expect((error as ModelRejectedError).rmse).toBeGreaterThan((error as ModelRejectedError).referenceRmse);
    expect(own.movieUsers.length).toBe(0);
  });

  it('fitsInPlace: svd with sgd and factors, baseline with als; not svd with als, svdpp or knn-baseline', () => {
    expect([fitsInPlace('svd', { factors: 4 }), fitsInPlace('baseline'), fitsInPlace('mean')]).toEqual([true, true, true]);
    expect([fitsInPlace('svd', { solver: 'als' }), fitsInPlace('svd', { factors: 0 }), fitsInPlace('svdpp'), fitsInPlace('knn-baseline')]).toEqual([false, false, false, false]);
  });

  it('kinds that cannot leave ratings out by a mask (svd with als, svdpp) fit on the copy', async () => {
    const als = await fitChecked('svd', { factors: 4, epochs: 2, solver: 'als' }, data, { excludeInPlace: true });
    expect(als.excludedInPlace).toBe(false);
    expect(als.train.nRatings).toBe(data.nRatings - als.heldOut);
    expect(createModel('svdpp', {}).canExclude?.()).toBe(false);
  });

  it('a fit given exclude of the wrong length, or by a kind that cannot take it, fails saying so', async () => {
    await expect(createModel('svd', { factors: 2, epochs: 1 }).fit(data, { exclude: new Uint8Array(3) })).rejects.toThrow(`svd: options.exclude has 3 entries, expected one per rating (${data.nRatings})`);
    await expect(createModel('svd', { factors: 2, epochs: 1, solver: 'als' }).fit(data, { exclude: new Uint8Array(data.nRatings) })).rejects.toThrow(/svd: this kind \(with these parameters\) cannot leave ratings out/);
    await expect(createModel('baseline', {}).fit(data, { exclude: new Uint8Array(data.nRatings).fill(1) })).rejects.toThrow(/leaves out every rating/);
  });
});
