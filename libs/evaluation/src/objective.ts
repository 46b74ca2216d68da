import type { RankingMetrics } from './ranking-metrics';

/** The ranking figures a search can optimise, by the name they take in an objective (`ndcg@10`). */
export const RANKING_OBJECTIVE_METRICS = ['precision', 'recall', 'ndcg', 'map', 'mrr', 'hit'] as const;
export type RankingObjectiveMetric = (typeof RANKING_OBJECTIVE_METRICS)[number];

/** The error figures a search can optimise (lower is better). */
export const ERROR_OBJECTIVE_METRICS = ['rmse', 'mae'] as const;
export type ErrorObjectiveMetric = (typeof ERROR_OBJECTIVE_METRICS)[number];

/** What a parameter search ranks its settings by: an error figure, or a ranking figure at a cutoff k. */
export type Objective = { readonly metric: ErrorObjectiveMetric } | { readonly metric: RankingObjectiveMetric; readonly k: number };

/** The largest cutoff an objective takes (a list longer than this is no recommendation list). */
export const MAX_OBJECTIVE_K = 10_000;

/** The forms {@link parseObjective} accepts, for messages and help. */
export const OBJECTIVE_FORMS = [...ERROR_OBJECTIVE_METRICS, ...RANKING_OBJECTIVE_METRICS.map((m) => `${m}@K`)].join(', ');

/** The default objective: mean RMSE (what `tune` ranked by before ranking objectives). */
export const DEFAULT_OBJECTIVE: Objective = { metric: 'rmse' };

/**
 * An objective from its name: `rmse`, `mae`, or `precision@K`, `recall@K`, `ndcg@K`, `map@K`,
 * `mrr@K`, `hit@K` (hit rate) with K an integer in 1..{@link MAX_OBJECTIVE_K}; case-insensitive.
 * @throws RangeError naming the forms it knows.
 */
export function parseObjective(text: string): Objective {
  const name = text.trim().toLowerCase();
  if ((ERROR_OBJECTIVE_METRICS as readonly string[]).includes(name)) return { metric: name as ErrorObjectiveMetric };
  const match = /^([a-z]+)@(\d+)$/.exec(name);
  if (match && (RANKING_OBJECTIVE_METRICS as readonly string[]).includes(match[1])) {
    const k = Number(match[2]);
    if (!(k >= 1 && k <= MAX_OBJECTIVE_K)) throw new RangeError(`objective "${text}": the cutoff K must be an integer in 1..${MAX_OBJECTIVE_K}, got ${match[2]}`);
    return { metric: match[1] as RankingObjectiveMetric, k };
  }
  throw new RangeError(`unknown objective "${text}": use one of ${OBJECTIVE_FORMS} (K a positive integer, e.g. ndcg@10)`);
}

/** True for a ranking objective (one with a cutoff k). */
export function isRankingObjective(objective: Objective): objective is Extract<Objective, { k: number }> {
  return 'k' in objective;
}

/** The objective's name as {@link parseObjective} reads it: `rmse`, `ndcg@10`. */
export function objectiveName(objective: Objective): string {
  return isRankingObjective(objective) ? `${objective.metric}@${objective.k}` : objective.metric;
}

const LABELS: Record<ErrorObjectiveMetric | RankingObjectiveMetric, string> = {
  rmse: 'RMSE',
  mae: 'MAE',
  precision: 'P',
  recall: 'R',
  ndcg: 'NDCG',
  map: 'MAP',
  mrr: 'MRR',
  hit: 'HR',
};

/** The objective as a table header names it: `RMSE`, `NDCG@10`, `P@5`. */
export function objectiveLabel(objective: Objective): string {
  return isRankingObjective(objective) ? `${LABELS[objective.metric]}@${objective.k}` : LABELS[objective.metric];
}

/** Ranking figures are better higher, error figures lower. */
export function higherIsBetter(objective: Objective): boolean {
  return isRankingObjective(objective);
}

/** The figure of `metrics` a ranking objective names (`hit` is the hit rate). */
export function rankingFigure(metrics: RankingMetrics, metric: RankingObjectiveMetric): number {
  return metric === 'hit' ? metrics.hitRate : metrics[metric];
}
