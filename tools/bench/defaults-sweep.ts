/**
 * Defaults sweep (issue 9, item 4): scores settings of one model kind on several data sets at
 * once, beside `mean` and `baseline` (its defaults) on the same splits, so that a model's defaults
 * can be chosen to hold on data they were not tuned on. Prints ONE JSON document on stdout;
 * progress on stderr; with `--log FILE` every trial is also appended to FILE as one JSON line
 * as soon as it is scored (so a long sweep that is stopped keeps what it measured).
 *
 *   npm run -s bench:defaults -- --model svdpp [--sets ml100k,kaggle,heavy,heavy-half,big10m]
 *     [--grid '{"lr":[0.005,0.007],"reg":[0.02,0.05]}' | --settings '[{"lr":0.007},{}]']
 *     [--data-dir ../shared/data] [--no-references] [--log FILE]
 *
 * Without --grid or --settings the model's current defaults (`{}`) are scored. A setting is
 * merged over the model's defaults (`createModel(kind, setting)`), so `{"solver":"als"}` scores
 * svd's ALS defaults.
 *
 * The sets (each split is made once per run and shared by every setting):
 * - `ml100k`: MovieLens 100k, the canonical folds u1..u5 (`movielens-100k/uN.base` / `uN.test`);
 *   the figure is the mean RMSE over the five folds, as the project's ML-100k figures are.
 * - `kaggle`: the Netflix Kaggle sample (`netflix-kaggle-sample`, 99,999 ratings, 8 movies), a
 *   0.2 holdout (seed 42): with 8 movies, folds would add little.
 * - `heavy`: `generateSynthetic({ ratings: 1e6, users: 4802, movies: 17770, seed: 42 })`
 *   (≈ 208 ratings per user, median 96, the heaviest user 11,007), a 0.2 holdout (seed 42).
 * - `heavy-half`: the same with `halfStars` (0.5 … 5, the HALF_STARS_05_TO_5 scale).
 * - `big10m`: `generateSynthetic({ ratings: 1e7, users: 200000, movies: 17770, seed: 42 })`,
 *   a 0.1 holdout (seed 42). Fits take minutes here: score few settings.
 *
 * Per set and setting: test RMSE (`rmse`; for ml100k the fold mean and `folds`), fit seconds,
 * `finite` (every epoch's training RMSE finite and every prediction finite), `lastTrainRmse`,
 * and the verdicts `beatsBaseline` (RMSE < baseline's) and `beatsMean`. A setting `holds` when
 * it is finite and beats `baseline` on every set (for `baseline` itself: beats `mean`); `finite`
 * says whether it stayed finite on every set. `mean` and `baseline` (its defaults) are scored once
 * per set first, unless --no-references (then `holds` is null: there is nothing to beat).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRatingMatrix, fileSplit, generateSynthetic, HALF_STARS_05_TO_5, holdoutSplit, loadDataset, RatingList, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { createModel, Predictor } from '@recsys/models';

/** One train/test split of a set. */
interface Fold {
  name: string;
  train: RatingMatrix;
  test: RatingList;
}

/** A data set of the sweep: its splits, built once. */
interface SweepSet {
  name: string;
  description: string;
  folds: Fold[];
}

export const SWEEP_SETS = ['ml100k', 'kaggle', 'heavy', 'heavy-half', 'big10m'] as const;
export type SweepSetName = (typeof SWEEP_SETS)[number];

/** Result of one setting on one set. */
export interface SetScore {
  rmse: number;
  folds?: number[];
  finite: boolean;
  lastTrainRmse: number | null;
  fitSeconds: number;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function loadSet(name: SweepSetName, dataDir: string): Promise<SweepSet> {
  const t0 = performance.now();
  let set: SweepSet;
  if (name === 'ml100k') {
    const folds: Fold[] = [];
    for (let i = 1; i <= 5; i++) {
      const dir = join(dataDir, 'movielens-100k');
      folds.push(await fileSplit(join(dir, `u${i}.base`), join(dir, `u${i}.test`)));
    }
    set = { name, description: 'MovieLens 100k, canonical folds u1..u5 (mean RMSE)', folds };
  } else if (name === 'kaggle') {
    const data = await loadDataset(join(dataDir, 'netflix-kaggle-sample'));
    const split = holdoutSplit(data.matrix, { testFraction: 0.2, seed: 42 });
    set = { name, description: 'Netflix Kaggle sample (99,999 ratings, 8 movies), 0.2 holdout seed 42', folds: [split] };
  } else {
    const big = name === 'big10m';
    const halfStars = name === 'heavy-half';
    const data = generateSynthetic(
      big ? { ratings: 10_000_000, users: 200_000, movies: 17_770, seed: 42, withDates: false } : { ratings: 1_000_000, users: 4802, movies: 17_770, seed: 42, withDates: false, halfStars },
    );
    const matrix = buildRatingMatrix(data.list, halfStars ? HALF_STARS_05_TO_5 : WHOLE_STARS_1_TO_5).matrix;
    const testFraction = big ? 0.1 : 0.2;
    const split = holdoutSplit(matrix, { testFraction, seed: 42 });
    set = {
      name,
      description: big
        ? `generated 10M ratings, 200,000 users, 17,770 movies (seed 42), ${testFraction} holdout seed 42`
        : `generated 1M ratings, 4,802 users (heavy tail), 17,770 movies${halfStars ? ', half stars' : ''} (seed 42), ${testFraction} holdout seed 42`,
      folds: [split],
    };
  }
  log(`loaded ${name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return set;
}

/** Fit `make()` on each fold of `set` and score it. */
export async function scoreOn(make: () => Predictor, set: SweepSet): Promise<SetScore> {
  const rmses: number[] = [];
  let finite = true;
  let lastTrainRmse: number | null = null;
  let fitSeconds = 0;
  for (const fold of set.folds) {
    const model = make();
    const t0 = performance.now();
    await model.fit(fold.train, {
      onProgress: (p) => {
        if (p.trainRmse !== undefined) {
          lastTrainRmse = p.trainRmse;
          if (!Number.isFinite(p.trainRmse)) finite = false;
        }
      },
    });
    fitSeconds += (performance.now() - t0) / 1000;
    const predicted = model.predictMany(fold.test);
    let sse = 0;
    for (let k = 0; k < fold.test.length; k++) {
      const p = predicted[k];
      if (!Number.isFinite(p)) finite = false;
      const e = p - fold.test.ratings[k] * 0.5;
      sse += e * e;
    }
    rmses.push(Math.sqrt(sse / fold.test.length));
  }
  const rmse = rmses.reduce((s, r) => s + r, 0) / rmses.length;
  return { rmse, ...(rmses.length > 1 ? { folds: rmses } : {}), finite, lastTrainRmse, fitSeconds };
}

/** Every point of a grid (Cartesian product, last key fastest). */
function gridPoints(grid: Record<string, unknown[]>): Array<Record<string, unknown>> {
  let points: Array<Record<string, unknown>> = [{}];
  for (const [key, values] of Object.entries(grid)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      sets: { type: 'string', default: SWEEP_SETS.join(',') },
      grid: { type: 'string' },
      settings: { type: 'string' },
      'data-dir': { type: 'string', default: join(__dirname, '..', '..', '..', '..', 'shared', 'data') },
      'no-references': { type: 'boolean', default: false },
      log: { type: 'string' },
    },
  });
  if (!values.model) throw new Error('defaults-sweep: --model KIND is required (svd, svdpp, baseline, knn-baseline, …)');
  const kind = values.model;
  const setNames = values.sets.split(',').map((s) => s.trim()) as SweepSetName[];
  for (const s of setNames) if (!SWEEP_SETS.includes(s)) throw new Error(`defaults-sweep: unknown set ${s} (known: ${SWEEP_SETS.join(', ')})`);
  let settings: Array<Record<string, unknown>> = [{}];
  if (values.grid) settings = gridPoints(JSON.parse(values.grid) as Record<string, unknown[]>);
  else if (values.settings) settings = JSON.parse(values.settings) as Array<Record<string, unknown>>;
  for (const s of settings) createModel(kind, s); // a bad setting fails now, not after an hour
  const started = performance.now();
  const sets: Record<string, { description: string; trainRatings: number; testRatings: number; mean?: number; baseline?: number }> = {};
  const trials: Array<{
    params: Record<string, unknown>;
    modelParams: Readonly<Record<string, unknown>>;
    finite: boolean;
    holds: boolean | null;
    sets: Record<string, SetScore & { beatsBaseline?: boolean; beatsMean?: boolean }>;
  }> = [];
  const loaded: SweepSet[] = [];
  for (const name of setNames) {
    const set = await loadSet(name, values['data-dir']);
    loaded.push(set);
    sets[name] = { description: set.description, trainRatings: set.folds[0].train.nRatings, testRatings: set.folds[0].test.length };
    if (!values['no-references']) {
      sets[name].mean = (await scoreOn(() => createModel('mean'), set)).rmse;
      sets[name].baseline = (await scoreOn(() => createModel('baseline'), set)).rmse;
      log(`${name}: mean ${sets[name].mean!.toFixed(4)}, baseline ${sets[name].baseline!.toFixed(4)}`);
      if (values.log) appendFileSync(values.log, `${JSON.stringify({ reference: name, mean: sets[name].mean, baseline: sets[name].baseline })}\n`);
    }
  }
  for (const params of settings) {
    const scores: Record<string, SetScore & { beatsBaseline?: boolean; beatsMean?: boolean }> = {};
    let modelParams: Readonly<Record<string, unknown>> = {};
    let finite = true;
    let beatsEverywhere = true;
    for (const set of loaded) {
      const score: SetScore & { beatsBaseline?: boolean; beatsMean?: boolean } = await scoreOn(() => {
        const m = createModel(kind, params);
        modelParams = m.params;
        return m;
      }, set);
      const ref = sets[set.name];
      if (ref.baseline !== undefined) score.beatsBaseline = score.rmse < ref.baseline;
      if (ref.mean !== undefined) score.beatsMean = score.rmse < ref.mean;
      const beats = kind === 'baseline' ? score.beatsMean : score.beatsBaseline;
      finite &&= score.finite;
      beatsEverywhere &&= beats === true;
      scores[set.name] = score;
      log(`${kind} ${JSON.stringify(params)} on ${set.name}: RMSE ${score.rmse.toFixed(4)}${score.finite ? '' : ' (NOT FINITE)'} in ${score.fitSeconds.toFixed(1)} s`);
      if (values.log) appendFileSync(values.log, `${JSON.stringify({ model: kind, params, set: set.name, ...score })}\n`);
    }
    trials.push({ params, modelParams, finite, holds: values['no-references'] ? null : finite && beatsEverywhere, sets: scores });
  }
  const result = { model: kind, sets, trials, seconds: (performance.now() - started) / 1000 };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
