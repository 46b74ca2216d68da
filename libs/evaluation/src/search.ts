import { Random } from '@recsys/core';
import { createModel, FitOptions, isRankingModel, Predictor } from '@recsys/models';
import { evaluate, EvaluationFold } from './evaluate';
import { DEFAULT_OBJECTIVE, higherIsBetter, isRankingObjective, Objective, objectiveName, rankingFigure } from './objective';
import { RankingMetrics, rankingMetrics } from './ranking-metrics';

/** Values to try per parameter: the grid is their Cartesian product. */
export type ParamGrid = Record<string, readonly unknown[]>;

/** A numeric range to sample from: uniform on [min, max], or log-uniform with `log`; `integer` rounds. */
export interface ParamRange {
  min: number;
  max: number;
  log?: boolean;
  integer?: boolean;
}

/** Per parameter, a list of choices (sampled uniformly) or a numeric range. */
export type ParamSpace = Record<string, readonly unknown[] | ParamRange>;

/** One evaluated parameter setting. */
export interface SearchTrial {
  /** Position in the order the trials ran (0-based). */
  index: number;
  /** The searched parameters of this trial (a grid point or a sample). */
  params: Record<string, unknown>;
  /** Every parameter the model used: base parameters, this trial's, and the kind's defaults. */
  modelParams: Readonly<Record<string, unknown>>;
  /** The objective the trials are ranked by, by name (`rmse`, `ndcg@10`). */
  objective: string;
  /** The objective's unweighted mean over the folds (the trials are ranked by it). */
  meanObjective: number;
  /** Unweighted means over the folds (NaN for a ranking model, whose scores are not ratings). */
  meanRmse: number;
  meanMae: number;
  meanMse: number;
  folds: Array<{ name: string; rmse: number; mae: number; objective: number }>;
  /** Fitting seconds summed over the folds. */
  fitSeconds: number;
  /** Wall-clock seconds of the whole trial (fits, predictions, fold construction). */
  seconds: number;
  /**
   * Why the trial failed (its fit diverged, see FitDivergedError, or threw), or null. A failed
   * trial has NaN figures and ranks last; the search goes on with the next setting.
   */
  error: string | null;
}

export interface SearchOptions {
  /** Parameters every trial shares (the trial's own override them). */
  baseParams?: Record<string, unknown>;
  /**
   * What ranks the settings (see {@link parseObjective}): mean RMSE or MAE (lower is better), or a
   * ranking figure at a cutoff, e.g. NDCG@10 (higher is better; lists by {@link rankingMetrics}).
   * Default RMSE.
   */
  objective?: Objective;
  /** For a ranking objective: a test rating ≥ this is relevant. Default: rankingMetrics' (4 stars; implicit data: every interaction). */
  relevantThreshold?: number;
  fit?: FitOptions;
  /** Called after each trial with (trial, trials done, trials in all). */
  onTrial?: (trial: SearchTrial, done: number, total: number) => void;
}

/** Folds to score each trial on: called once per trial, so a generator may build them lazily. */
export type FoldSource = () => Iterable<EvaluationFold> | AsyncIterable<EvaluationFold>;

/** Grids larger than this are refused by {@link gridPoints} (a random search samples them instead). */
export const MAX_GRID_POINTS = 100_000;

/**
 * Every point of a grid, the Cartesian product of its value lists, in odometer order: keys in
 * their insertion order, the last key varying fastest. `{}` gives the single empty point; an
 * empty value list is refused (the product would be empty).
 */
export function gridPoints(grid: ParamGrid): Array<Record<string, unknown>> {
  const keys = Object.keys(grid);
  for (const key of keys) {
    if (!Array.isArray(grid[key]) || grid[key].length === 0) throw new RangeError(`grid: parameter "${key}" needs a non-empty list of values, got ${JSON.stringify(grid[key])}`);
  }
  const total = keys.reduce((p, key) => p * grid[key].length, 1);
  if (total > MAX_GRID_POINTS) throw new RangeError(`grid: ${total} points is more than ${MAX_GRID_POINTS}; use a random search instead`);
  const points: Array<Record<string, unknown>> = [];
  for (let index = 0; index < total; index++) points.push(pointAt(grid, keys, index));
  return points;
}

/** The grid point at a mixed-radix index (last key = least significant digit). */
function pointAt(grid: ParamGrid, keys: string[], index: number): Record<string, unknown> {
  const point: Record<string, unknown> = {};
  let rest = index;
  for (let d = keys.length - 1; d >= 0; d--) {
    const values = grid[keys[d]];
    point[keys[d]] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  // Keep the keys in the grid's order.
  const ordered: Record<string, unknown> = {};
  for (const key of keys) ordered[key] = point[key];
  return ordered;
}

function isRange(d: unknown): d is ParamRange {
  return typeof d === 'object' && d !== null && !Array.isArray(d);
}

function checkSpace(space: ParamSpace): void {
  for (const [key, d] of Object.entries(space)) {
    if (Array.isArray(d)) {
      if (d.length === 0) throw new RangeError(`search space: parameter "${key}" has an empty list of choices`);
    } else if (isRange(d)) {
      const extra = Object.keys(d).filter((f) => !['min', 'max', 'log', 'integer'].includes(f));
      if (extra.length > 0) throw new RangeError(`search space: parameter "${key}" has unknown field(s) ${extra.join(', ')} (a range has min, max, log, integer)`);
      if (typeof d.min !== 'number' || typeof d.max !== 'number' || !Number.isFinite(d.min) || !Number.isFinite(d.max) || d.min > d.max) {
        throw new RangeError(`search space: parameter "${key}" needs finite min ≤ max, got ${JSON.stringify(d)}`);
      }
      if (d.log && !(d.min > 0)) throw new RangeError(`search space: parameter "${key}" is log-uniform, so min must be > 0, got ${d.min}`);
      if (d.integer && Math.ceil(d.min) > Math.floor(d.max)) throw new RangeError(`search space: parameter "${key}" holds no integer in [${d.min}, ${d.max}]`);
    } else {
      throw new RangeError(`search space: parameter "${key}" must be a list of choices or {min, max, log?, integer?}, got ${JSON.stringify(d)}`);
    }
  }
}

/** Round to 4 significant figures, so sampled settings read well and can be retyped exactly. */
function fourFigures(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(4));
}

function sampleRange(d: ParamRange, rng: Random): number {
  if (d.integer) {
    const lo = Math.ceil(d.min);
    const hi = Math.floor(d.max);
    if (!d.log) return lo + rng.int(hi - lo + 1);
    const v = Math.round(Math.exp(Math.log(d.min) + (Math.log(d.max) - Math.log(d.min)) * rng.next()));
    return Math.min(hi, Math.max(lo, v));
  }
  const u = rng.next();
  const v = d.log ? Math.exp(Math.log(d.min) + (Math.log(d.max) - Math.log(d.min)) * u) : d.min + (d.max - d.min) * u;
  return Math.min(d.max, Math.max(d.min, fourFigures(v)));
}

/**
 * `trials` parameter settings drawn from `space` with `new Random(seed)` (default seed 42), so the
 * same seed gives the same settings. Per trial, keys in insertion order: a list → a uniformly
 * chosen element; a range → uniform on [min, max] (log-uniform with `log`), rounded to 4
 * significant figures, or a uniform integer in [⌈min⌉, ⌊max⌋] with `integer` (log-uniform then
 * rounded with `log`).
 *
 * When every parameter is a list the space is a finite grid and settings are drawn without
 * replacement (as scikit-learn's ParameterSampler): with `trials` ≥ the grid's size the result is
 * the whole grid in {@link gridPoints} order.
 */
export function sampleParams(space: ParamSpace, options: { trials: number; seed?: number }): Array<Record<string, unknown>> {
  const { trials } = options;
  if (!Number.isInteger(trials) || trials < 1) throw new RangeError(`random search: trials must be an integer of at least 1, got ${trials}`);
  checkSpace(space);
  const rng = new Random(options.seed ?? 42);
  const keys = Object.keys(space);
  if (keys.every((key) => Array.isArray(space[key]))) {
    const grid = space as ParamGrid;
    const total = keys.reduce((p, key) => p * grid[key].length, 1);
    if (trials >= total) return gridPoints(grid);
    const chosen: number[] = [];
    if (trials * 2 > total) {
      // Dense: partial Fisher–Yates over all indices (total < 2 · trials, so small).
      const indices = Array.from({ length: total }, (_, i) => i);
      for (let i = 0; i < trials; i++) {
        const j = i + rng.int(total - i);
        [indices[i], indices[j]] = [indices[j], indices[i]];
        chosen.push(indices[i]);
      }
    } else {
      // Sparse: rejection of repeats (each draw is new with probability > 1/2).
      const seen = new Set<number>();
      while (chosen.length < trials) {
        const index = rng.int(total);
        if (seen.has(index)) continue;
        seen.add(index);
        chosen.push(index);
      }
    }
    return chosen.map((index) => pointAt(grid, keys, index));
  }
  const samples: Array<Record<string, unknown>> = [];
  for (let t = 0; t < trials; t++) {
    const point: Record<string, unknown> = {};
    for (const key of keys) {
      const d = space[key];
      point[key] = Array.isArray(d) ? d[rng.int(d.length)] : sampleRange(d as ParamRange, rng);
    }
    samples.push(point);
  }
  return samples;
}

/** Best first by the mean objective (lower or higher is better); NaN (a failed or diverged fit) last; ties keep the order the trials ran. */
function byObjective(higher: boolean): (a: SearchTrial, b: SearchTrial) => number {
  const key = (t: SearchTrial): number => (Number.isNaN(t.meanObjective) ? Infinity : higher ? -t.meanObjective : t.meanObjective);
  return (a, b) => key(a) - key(b) || a.index - b.index;
}

/**
 * Evaluate a model kind at each parameter setting over the same folds and return every trial,
 * best first by the objective's mean over the folds (default: lowest mean RMSE; a ranking
 * objective such as NDCG@10: highest). Every setting is checked by creating its model before the
 * first fit, so a bad value fails at once rather than after hours of search; an error objective
 * for a ranking model (whose scores are not ratings) is refused. A setting whose fit diverges (or
 * throws) is kept as a failed trial with its reason and the search goes on.
 */
export async function searchTrials(
  kind: string,
  settings: Array<Record<string, unknown>>,
  folds: FoldSource,
  options: SearchOptions = {},
): Promise<SearchTrial[]> {
  const base = options.baseParams ?? {};
  const objective = options.objective ?? DEFAULT_OBJECTIVE;
  const name = objectiveName(objective);
  let ranks = false;
  for (const params of settings) ranks = isRankingModel(createModel(kind, { ...base, ...params }));
  if (ranks && !isRankingObjective(objective)) {
    throw new RangeError(`search: ${kind} ranks movies and its scores are not ratings, so ${name} means nothing for it; use a ranking objective such as ndcg@10`);
  }
  const trials: SearchTrial[] = [];
  for (let index = 0; index < settings.length; index++) {
    const params = settings[index];
    const started = performance.now();
    let result;
    const rankings: RankingMetrics[] = [];
    try {
      const afterFit = isRankingObjective(objective)
        ? (model: Predictor, fold: EvaluationFold) => {
            rankings.push(rankingMetrics(model, fold.train, fold.test, { k: objective.k, relevantThreshold: options.relevantThreshold }));
          }
        : undefined;
      result = await evaluate(() => createModel(kind, { ...base, ...params }), folds(), { fit: options.fit, afterFit });
    } catch (error) {
      const trial: SearchTrial = {
        index,
        params,
        modelParams: createModel(kind, { ...base, ...params }).params,
        objective: name,
        meanObjective: NaN,
        meanRmse: NaN,
        meanMae: NaN,
        meanMse: NaN,
        folds: [],
        fitSeconds: NaN,
        seconds: (performance.now() - started) / 1000,
        error: error instanceof Error ? error.message : String(error),
      };
      trials.push(trial);
      options.onTrial?.(trial, index + 1, settings.length);
      continue;
    }
    const errorsOrNaN = (x: number): number => (ranks ? NaN : x);
    const perFold = result.folds.map((f, i) => ({
      name: f.name,
      rmse: errorsOrNaN(f.rmse),
      mae: errorsOrNaN(f.mae),
      objective: isRankingObjective(objective) ? rankingFigure(rankings[i], objective.metric) : f[objective.metric],
    }));
    const trial: SearchTrial = {
      index,
      params,
      modelParams: result.params,
      objective: name,
      meanObjective: perFold.reduce((sum, f) => sum + f.objective, 0) / perFold.length,
      meanRmse: errorsOrNaN(result.mean.rmse),
      meanMae: errorsOrNaN(result.mean.mae),
      meanMse: errorsOrNaN(result.mean.mse),
      folds: perFold,
      fitSeconds: result.folds.reduce((s, f) => s + f.fitSeconds, 0),
      seconds: (performance.now() - started) / 1000,
      error: null,
    };
    trials.push(trial);
    options.onTrial?.(trial, index + 1, settings.length);
  }
  return trials.sort(byObjective(higherIsBetter(objective)));
}

/**
 * Grid search: every point of `grid` ({@link gridPoints}: the Cartesian product, last key
 * fastest) over `baseParams`, each scored by the objective's mean over `folds()` (default RMSE).
 * All trials, best first.
 */
export function gridSearch(kind: string, grid: ParamGrid, folds: FoldSource, options: SearchOptions = {}): Promise<SearchTrial[]> {
  return searchTrials(kind, gridPoints(grid), folds, options);
}

/**
 * Random search: `trials` settings drawn from `space` by {@link sampleParams} (seeded, default
 * seed 42), each scored by the objective's mean over `folds()` (default RMSE). All trials, best first.
 */
export function randomSearch(
  kind: string,
  space: ParamSpace,
  sampling: { trials: number; seed?: number },
  folds: FoldSource,
  options: SearchOptions = {},
): Promise<SearchTrial[]> {
  return searchTrials(kind, sampleParams(space, sampling), folds, options);
}
