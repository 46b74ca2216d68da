import { RatingListBuilder } from '@recsys/data';
import { errorMetrics } from './error-metrics';

describe('errorMetrics', () => {
  it('computes MSE, RMSE and MAE by hand', () => {
    const b = new RatingListBuilder(4);
    b.push(1, 1, 8); // 4 stars
    b.push(1, 2, 4); // 2 stars
    b.push(2, 1, 10); // 5 stars
    // errors: 3.5-4 = -0.5, 3-2 = 1, 5-5 = 0 → MSE (0.25+1+0)/3, MAE 1.5/3
    const m = errorMetrics([3.5, 3, 5], b.finish());
    expect(m.n).toBe(3);
    expect(m.mse).toBeCloseTo(1.25 / 3, 15);
    expect(m.rmse).toBeCloseTo(Math.sqrt(1.25 / 3), 15);
    expect(m.mae).toBeCloseTo(0.5, 15);
  });

  it('refuses predictions of another length', () => {
    const b = new RatingListBuilder(1);
    b.push(1, 1, 8);
    expect(() => errorMetrics([1, 2], b.finish())).toThrow('2 predictions for 1 ratings');
  });
});
