import { kFoldSplits, RatingMatrix } from '@recsys/data';
import { FitOptions, Predictor } from '@recsys/models';
import { evaluate, EvaluationResult, FoldResult } from './evaluate';

export interface CrossValidateOptions {
  /** Number of folds k. Default 5 (as Surprise's cross_validate). */
  folds?: number;
  /** Seed of the permutation that deals ratings into folds. Default 42. */
  seed?: number;
  fit?: FitOptions;
  onFold?: (result: FoldResult, index: number) => void;
}

/**
 * k-fold cross-validation: {@link evaluate} over `kFoldSplits(matrix, { folds, seed })` (every
 * rating tested exactly once; folds built one at a time). Returns per-fold MSE/RMSE/MAE with
 * fit and predict seconds and their unweighted means. Defaults: 5 folds, seed 42.
 */
export function crossValidate(makeModel: () => Predictor, matrix: RatingMatrix, options: CrossValidateOptions = {}): Promise<EvaluationResult> {
  const folds = kFoldSplits(matrix, { folds: options.folds ?? 5, seed: options.seed ?? 42 });
  return evaluate(makeModel, folds, { fit: options.fit, onFold: options.onFold });
}
