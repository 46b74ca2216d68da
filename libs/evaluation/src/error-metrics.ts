import { RatingList } from '@recsys/data';

export interface ErrorMetrics {
  /** Number of pairs scored. */
  n: number;
  /** Mean squared error: Σ (r̂ − r)² / n. */
  mse: number;
  /** √MSE. */
  rmse: number;
  /** Mean absolute error: Σ |r̂ − r| / n. */
  mae: number;
}

/** MSE, RMSE and MAE of predictions against the true ratings of a RatingList (codes = stars × 2). */
export function errorMetrics(predicted: ArrayLike<number>, truth: RatingList): ErrorMetrics {
  if (predicted.length !== truth.length) {
    throw new Error(`errorMetrics: ${predicted.length} predictions for ${truth.length} ratings`);
  }
  const n = truth.length;
  let se = 0;
  let ae = 0;
  const r = truth.ratings;
  for (let k = 0; k < n; k++) {
    const d = predicted[k] - r[k] * 0.5;
    se += d * d;
    ae += d < 0 ? -d : d;
  }
  const mse = n ? se / n : NaN;
  return { n, mse, rmse: Math.sqrt(mse), mae: n ? ae / n : NaN };
}
