import { buildRatingMatrix, generateSynthetic, HALF_STARS_05_TO_5, kFoldSplits } from '@recsys/data';
import { createModel } from '@recsys/models';
import { evaluate } from './evaluate';

/**
 * Issue 9's acceptance for svdpp's defaults, literally: 5-fold cross-validation (as `recsys evaluate
 * --folds 5`) on a generated heavy-user half-star set — the one that overturned the defaults sweep's
 * first svdpp choice (lr 0.015, reg 0.08: 0.8613 against baseline's 0.8187) — must beat `baseline`
 * on the mean and on every fold, with a finite training RMSE every epoch.
 */
describe('svdpp defaults, 5 folds, heavy users with half stars (recsys generate --ratings 150000 --users 600 --movies 3000 --scale half-stars --seed 42)', () => {
  jest.setTimeout(300_000);

  it('beats baseline on every fold', async () => {
    const data = generateSynthetic({ ratings: 150_000, users: 600, movies: 3000, seed: 42, halfStars: true });
    const matrix = buildRatingMatrix(data.list, HALF_STARS_05_TO_5).matrix;
    const trainRmses: number[] = [];
    const svdpp = await evaluate(() => createModel('svdpp'), kFoldSplits(matrix, { folds: 5, seed: 42 }), {
      fit: { onProgress: (p) => trainRmses.push(p.trainRmse ?? NaN) },
    });
    const baseline = await evaluate(() => createModel('baseline'), kFoldSplits(matrix, { folds: 5, seed: 42 }));
    console.log(`svdpp ${svdpp.mean.rmse.toFixed(4)} (${svdpp.folds.map((f) => f.rmse.toFixed(4)).join(' ')}), baseline ${baseline.mean.rmse.toFixed(4)}`);
    expect(trainRmses.length).toBe(5 * 20);
    for (const r of trainRmses) expect(Number.isFinite(r)).toBe(true);
    expect(svdpp.mean.rmse).toBeLessThan(baseline.mean.rmse);
    svdpp.folds.forEach((f, i) => expect(f.rmse).toBeLessThan(baseline.folds[i].rmse));
  });
});
