import { RatingMatrix, RatingList } from '@recsys/data';
import { FitOptions, Predictor } from '@recsys/models';
import { FitDivergedError, stopOnDivergence } from './divergence';
import { ErrorMetrics, errorMetrics } from './error-metrics';

/** One train/test pair to evaluate on (a `Split` from @recsys/data fits). */
export interface EvaluationFold {
  readonly name: string;
  readonly train: RatingMatrix;
  readonly test: RatingList;
}

export interface FoldResult extends ErrorMetrics {
  name: string;
  trainRatings: number;
  testRatings: number;
  fitSeconds: number;
  predictSeconds: number;
}

export interface EvaluationResult {
  model: string;
  params: Readonly<Record<string, unknown>>;
  folds: FoldResult[];
  /** Unweighted mean over folds of each figure (as Surprise's cross_validate reports). */
  mean: { mse: number; rmse: number; mae: number; fitSeconds: number; predictSeconds: number };
}

/**
 * Fit a fresh model on each fold's training matrix, predict its test ratings and report MSE,
 * RMSE and MAE per fold and their mean, with fit and predict seconds. Folds may be produced
 * lazily (a generator), so only one fold's matrices need to exist at a time. A fit whose training
 * RMSE turns NaN or infinite stops there with {@link FitDivergedError} (naming the fold): its
 * predictions would be fallbacks, and their RMSE a figure of the fallback, not of the model.
 */
export async function evaluate(
  makeModel: () => Predictor,
  folds: Iterable<EvaluationFold> | AsyncIterable<EvaluationFold>,
  options: {
    fit?: FitOptions;
    onFold?: (result: FoldResult, index: number) => void;
    /** Called with each fold's fitted model before the next fold is built (e.g. to rank with it). */
    afterFit?: (model: Predictor, fold: EvaluationFold, result: FoldResult) => void;
  } = {},
): Promise<EvaluationResult> {
  const results: FoldResult[] = [];
  let kind = '';
  let params: Readonly<Record<string, unknown>> = {};
  for await (const fold of folds) {
    const model = makeModel();
    kind = model.kind;
    params = model.params;
    const t0 = performance.now();
    try {
      await model.fit(fold.train, { ...options.fit, onProgress: stopOnDivergence(kind, options.fit?.onProgress) });
    } catch (error) {
      if (error instanceof FitDivergedError) error.message = `${error.message} (fold ${fold.name})`;
      throw error;
    }
    const t1 = performance.now();
    const predicted = model.predictMany(fold.test);
    const t2 = performance.now();
    const result: FoldResult = {
      name: fold.name,
      trainRatings: fold.train.nRatings,
      testRatings: fold.test.length,
      ...errorMetrics(predicted, fold.test),
      fitSeconds: (t1 - t0) / 1000,
      predictSeconds: (t2 - t1) / 1000,
    };
    results.push(result);
    options.afterFit?.(model, fold, result);
    options.onFold?.(result, results.length - 1);
  }
  if (results.length === 0) throw new Error('evaluate: no folds to evaluate on');
  const mean = (f: (r: FoldResult) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
  return {
    model: kind,
    params,
    folds: results,
    mean: {
      mse: mean((r) => r.mse),
      rmse: mean((r) => r.rmse),
      mae: mean((r) => r.mae),
      fitSeconds: mean((r) => r.fitSeconds),
      predictSeconds: mean((r) => r.predictSeconds),
    },
  };
}
