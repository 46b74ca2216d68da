import { FitOptions, isRankingModel, Predictor } from '@recsys/models';
import { errorMetrics } from './error-metrics';
import { evaluate, EvaluationFold } from './evaluate';
import { RankingMetrics, rankingMetrics, RankingOptions } from './ranking-metrics';

/** One fold of a ranking evaluation. */
export interface RankingFoldResult {
  name: string;
  trainRatings: number;
  testRatings: number;
  /** RMSE / MAE of the model's predictions of the test ratings; null for a ranking model (its scores are not ratings). */
  rmse: number | null;
  mae: number | null;
  ranking: RankingMetrics;
  fitSeconds: number;
}

/** The figures summarised over folds. */
export const RANKING_SUMMARY_FIGURES = ['precision', 'recall', 'ndcg', 'map', 'mrr', 'hitRate', 'coverage', 'rmse', 'mae', 'fitSeconds'] as const;
export type RankingSummaryFigure = (typeof RANKING_SUMMARY_FIGURES)[number];
/** One number per figure; rmse and mae are null for a ranking model. */
export type RankingSummary = Record<RankingSummaryFigure, number | null>;

/** A model's ranking figures per fold, with their mean and standard deviation over the folds. */
export interface RankingEvaluation {
  model: string;
  params: Readonly<Record<string, unknown>>;
  /** True for a ranking model (`RankingModel`): its scores are not ratings, so it has no RMSE. */
  ranks: boolean;
  k: number;
  relevantThreshold: number;
  folds: RankingFoldResult[];
  /** Unweighted mean over the folds. */
  mean: RankingSummary;
  /** Sample standard deviation over the folds (n − 1 in the denominator); NaN for one fold. */
  sd: RankingSummary;
}

/** Mean and sample standard deviation (n − 1) of `values`; sd is NaN for fewer than two values. */
export function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = n < 2 ? NaN : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd };
}

/**
 * One fold's figures for a model fitted on `fold.train`: {@link rankingMetrics} at `options`, and
 * RMSE/MAE of the test ratings unless the model ranks (`measured`: those already computed).
 */
export function rankingFold(
  model: Predictor,
  fold: EvaluationFold,
  options: RankingOptions,
  fitSeconds: number,
  measured?: { rmse: number; mae: number },
): RankingFoldResult {
  const ranks = isRankingModel(model);
  const errors = ranks ? null : (measured ?? errorMetrics(model.predictMany(fold.test), fold.test));
  return {
    name: fold.name,
    trainRatings: fold.train.nRatings,
    testRatings: fold.test.length,
    rmse: errors?.rmse ?? null,
    mae: errors?.mae ?? null,
    ranking: rankingMetrics(model, fold.train, fold.test, options),
    fitSeconds,
  };
}

/** The per-fold results of one model with their mean and sd per figure. */
export function summariseRankingFolds(model: Predictor, folds: RankingFoldResult[]): RankingEvaluation {
  if (folds.length === 0) throw new Error('rankingEvaluate: no folds to evaluate on');
  const mean = {} as RankingSummary;
  const sd = {} as RankingSummary;
  for (const figure of RANKING_SUMMARY_FIGURES) {
    const values = folds.map((f) => (figure === 'rmse' || figure === 'mae' ? f[figure] : figure === 'fitSeconds' ? f.fitSeconds : f.ranking[figure]));
    if (values.some((v) => v === null)) {
      mean[figure] = null;
      sd[figure] = null;
      continue;
    }
    const stats = meanAndSd(values as number[]);
    mean[figure] = stats.mean;
    sd[figure] = stats.sd;
  }
  return {
    model: model.kind,
    params: model.params,
    ranks: isRankingModel(model),
    k: folds[0].ranking.k,
    relevantThreshold: folds[0].ranking.relevantThreshold,
    folds,
    mean,
    sd,
  };
}

/**
 * Fit a fresh model on each fold's training matrix (as {@link evaluate} does: a diverged fit stops
 * with FitDivergedError naming the fold) and score its top-k lists on the fold's test ratings
 * ({@link rankingMetrics}: candidates are the movies the user did not rate in training, relevant
 * = test ratings ≥ relevantThreshold). Reports every fold and the mean ± sample sd of P, R, NDCG,
 * MAP, MRR, hit rate, coverage (and RMSE/MAE for rating models) over the folds. Folds may be made
 * lazily, one at a time.
 */
export async function rankingEvaluate(
  makeModel: () => Predictor,
  folds: Iterable<EvaluationFold> | AsyncIterable<EvaluationFold>,
  options: Omit<RankingOptions, 'onProgress'> & { fit?: FitOptions; onFold?: (result: RankingFoldResult, index: number) => void } = {},
): Promise<RankingEvaluation> {
  const results: RankingFoldResult[] = [];
  let last: Predictor | null = null;
  const { fit, onFold, ...ranking } = options;
  await evaluate(makeModel, folds, {
    fit,
    afterFit: (model, fold, errors) => {
      last = model;
      results.push(rankingFold(model, fold, ranking, errors.fitSeconds, errors));
      onFold?.(results[results.length - 1], results.length - 1);
    },
  });
  return summariseRankingFolds(last!, results);
}
