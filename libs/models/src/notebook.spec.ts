import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset, RatingMatrix } from '@recsys/data';
import { describeWithData, sharedDataPath, tempDir } from '@recsys/testing';
import { BaselineModel } from './latent/baseline-model';
import { baselineObjective } from './latent/objectives';
import { SvdModel } from './latent/svd-model';

/**
 * The notebook's experiment redone on the first 1,000 ratings of the Kaggle Netflix sample: the
 * bias model by L-BFGS with λ = 0.001, and the K = 2 latent-factor model by L-BFGS, which the
 * notebook (with a wrong gradient) left at training MSE 1.908, worse than the mean's 0.952544.
 */
const RATINGS = sharedDataPath('netflix-kaggle-sample', 'Netflix_Dataset_Rating.csv');

function trainingMse(model: { predictMany: SvdModel['predictMany'] }, train: RatingMatrix): number {
  const list = train.toList();
  const predictions = model.predictMany(list);
  let sse = 0;
  for (let j = 0; j < list.length; j++) sse += (predictions[j] - list.ratings[j] * 0.5) ** 2;
  return sse / list.length;
}

describeWithData('the notebook experiment on the first 1,000 Netflix ratings', ['netflix-kaggle-sample/Netflix_Dataset_Rating.csv'], () => {
  let train: RatingMatrix;
  const dir = tempDir('recsys-notebook-');

  beforeAll(async () => {
    const text = fs.readFileSync(RATINGS, 'latin1');
    const lines = text.split('\n', 1002); // header + 1,000 rows (+ the start of the next)
    const file = path.join(dir, 'first-1000.csv');
    fs.writeFileSync(file, lines.slice(0, 1001).join('\n') + '\n');
    train = (await loadDataset(file)).matrix;
  });

  it('has the notebook figures: 1,000 ratings, mean 3.616, MSE of the mean 0.952544', () => {
    expect(train.nRatings).toBe(1000);
    const mu = train.globalMean();
    expect(mu).toBeCloseTo(3.616, 6);
    const list = train.toList();
    let sse = 0;
    for (let j = 0; j < list.length; j++) sse += (list.ratings[j] * 0.5 - mu) ** 2;
    expect(sse / list.length).toBeCloseTo(0.952544, 6);
  });

  it('the bias model by L-BFGS with λ = 0.001 converges', async () => {
    const model = await new BaselineModel({ solver: 'lbfgs', reg: 0.001 }).fit(train);
    const r = model.lbfgsResult!;
    console.log(`notebook bias model: objective ${r.objective.toFixed(6)}, ${r.iterations} iterations, ${r.evaluations} evaluations, stopped by ${r.reason}; training MSE ${trainingMse(model, train).toFixed(6)}`);
    expect(r.converged).toBe(true);
    expect(['gradient', 'relative-decrease']).toContain(r.reason);
    expect(trainingMse(model, train)).toBeLessThan(0.952544);
    // The fitted [α, b_u, b_i] is a stationary point of the objective, checked independently.
    const s = model.state();
    const x = Float64Array.from([s.globalMean, ...s.userBias, ...s.movieBias]);
    const grad = new Float64Array(x.length);
    expect(baselineObjective(train, 0.001)(x, grad)).toBeCloseTo(r.objective, 12);
    expect(Math.max(...grad.map(Math.abs))).toBeLessThan(1e-4);
  });

  it('the K = 2 model by L-BFGS ends with a training MSE below the mean’s 0.952544', async () => {
    const model = await new SvdModel({ solver: 'lbfgs', factors: 2, reg: 0.001, regBias: 0.001, epochs: 200 }).fit(train);
    const r = model.lbfgsResult!;
    const mse = trainingMse(model, train);
    console.log(`notebook K = 2 model: objective ${r.objective.toFixed(6)}, ${r.iterations} iterations, stopped by ${r.reason}; training MSE ${mse.toFixed(6)}`);
    expect(mse).toBeLessThan(0.952544);
  });
});
