import { RatingMatrix } from '@recsys/data';
import { BasePredictor } from '../predictor';

/**
 * `mean`: predicts the global mean μ of the training ratings for every pair,
 *
 *   r̂_ui = μ
 *
 * The reference every model must beat (the notebook's "predict the mean"). No parameters.
 */
export class MeanModel extends BasePredictor {
  readonly kind = 'mean';
  readonly params = Object.freeze({});

  /** μ is all it fits, and the fit computes it without the ratings left out. */
  override canExclude(): boolean {
    return true;
  }

  protected fitModel(_train: RatingMatrix): void {}

  protected estimate(): number {
    return this.globalMean;
  }

  /** Every movie scores μ; ties go to the smaller internal index, i.e. the smaller movie id. */
  protected override scoreAll(_u: number, out: Float64Array): void {
    out.fill(this.globalMean);
  }
}
