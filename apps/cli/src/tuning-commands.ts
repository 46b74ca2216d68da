import { RunFailedError, UsageError } from './errors';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { fileSplit, holdoutSplit, kFoldSplits, readQualifying, RatingList, RatingMatrix } from '@recsys/data';
import { createModel, loadModel, Predictor, TrainingProgress, writeQualifyingPredictions } from '@recsys/models';
import {
  errorMetrics,
  EvaluationFold,
  FitDivergedError,
  FoldSource,
  gridSearch,
  ParamGrid,
  ParamSpace,
  randomSearch,
  rankingMetrics,
  RankingMetrics,
  SearchTrial,
  stopOnDivergence,
} from '@recsys/evaluation';
import { dataLoadOptions, DataSourceOptions, openDataset, withDataOptions } from './data-source';
import { ModelFlags, modelParams, withModelOptions } from './model-options';
import { int, printJson, table } from './output';
import { numberIn, positiveInt } from './parse';
import { Progress } from './progress';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Fit a fresh model of `kind` on `train` with a per-epoch progress bar on stderr; a diverged fit fails the run (exit 1). */
async function fitWithProgress(kind: string, params: Record<string, unknown>, train: RatingMatrix): Promise<{ model: Predictor; seconds: number }> {
  const model = createModel(kind, params);
  const progress = new Progress(`fitting ${kind}`);
  const started = performance.now();
  try {
    await model.fit(train, { onProgress: stopOnDivergence(kind, (p: TrainingProgress) => progress.update(p.epoch, p.epochs)) });
  } catch (error) {
    if (error instanceof FitDivergedError) throw new RunFailedError(error.message);
    throw error;
  } finally {
    progress.stop();
  }
  return { model, seconds: (performance.now() - started) / 1000 };
}

/**
 * The parameters each of several model kinds gets from the flags. One kind gets them all (so a
 * wrong flag is refused by the model, naming it). With several kinds, each gets only the
 * parameters its defaults list (`--factors` reaches svd, not popular); a flag no kind knows is
 * refused. `--seed` reaches a model only when it has a seed parameter (it also seeds splits).
 */
function paramsPerKind(kinds: string[], flags: ModelFlags): Map<string, Record<string, unknown>> {
  const { seed: _seed, ...given } = modelParams(flags);
  const out = new Map<string, Record<string, unknown>>();
  const used = new Set<string>();
  for (const kind of kinds) {
    const known = Object.keys(createModel(kind, {}).params);
    const own = kinds.length === 1 ? { ...given } : Object.fromEntries(Object.entries(given).filter(([key]) => known.includes(key)));
    if (flags.seed !== undefined && known.includes('seed')) own.seed = flags.seed;
    for (const key of Object.keys(own)) used.add(key);
    out.set(kind, own);
  }
  const unused = Object.keys(given).filter((key) => !used.has(key));
  if (unused.length > 0) throw new UsageError(`no model among ${kinds.join(', ')} has the parameter(s) ${unused.join(', ')}`);
  return out;
}

interface FoldFlags {
  folds?: number;
  holdout?: number;
  train: string[];
  test: string[];
}

/**
 * The folds the flags name: train/test file pairs (read once, kept in memory), k folds or one
 * holdout of --data (rebuilt lazily per trial, so only one fold's matrices live at a time).
 */
async function foldSource(o: DataSourceOptions & FoldFlags, seed: number, command: string): Promise<{ folds: FoldSource; description: string }> {
  const modes = [o.folds !== undefined, o.holdout !== undefined, o.train.length > 0 || o.test.length > 0].filter(Boolean).length;
  if (modes !== 1) throw new UsageError(`${command} needs exactly one of --folds K, --holdout FRACTION, --train FILE --test FILE`);
  if (o.train.length !== o.test.length) throw new UsageError(`${command}: ${o.train.length} --train files but ${o.test.length} --test files; give them in pairs`);
  if (o.train.length > 0) {
    const pairs: EvaluationFold[] = [];
    const progress = new Progress('reading folds');
    try {
      for (let i = 0; i < o.train.length; i++) {
        pairs.push(await fileSplit(o.train[i], o.test[i], dataLoadOptions(o)));
        progress.update(i + 1, o.train.length);
      }
    } finally {
      progress.stop();
    }
    return { folds: () => pairs, description: `${pairs.length} train/test file pair(s): ${pairs.map((p) => p.name).join(', ')}` };
  }
  const matrix = (await openDataset(o)).matrix;
  if (o.folds !== undefined) {
    if (o.folds < 2) throw new UsageError('--folds must be at least 2');
    const k = o.folds;
    return { folds: () => kFoldSplits(matrix, { folds: k, seed }), description: `${k}-fold cross-validation (seed ${seed}) over ${int(matrix.nRatings)} ratings` };
  }
  const fraction = o.holdout!;
  return { folds: () => [holdoutSplit(matrix, { testFraction: fraction, seed })], description: `a ${fraction} holdout (seed ${seed}) of ${int(matrix.nRatings)} ratings` };
}

function parseSearchJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--grid is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError('--grid must be a JSON object of parameter → list of values, e.g. \'{"factors":[50,100],"reg":[0.02,0.05]}\'');
  }
  return value as Record<string, unknown>;
}

function formatParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

export function registerTuningCommands(program: Command): void {
  withModelOptions(
    withDataOptions(
      program
        .command('tune')
        .description(
          'grid or random search over model parameters, each setting scored by its mean RMSE over the folds; prints every trial, best first; ' +
            'a setting whose fit diverges is listed as failed with its reason (exit 1 only if every setting failed)',
        )
        .requiredOption('--grid <json>', 'parameter → list of values, e.g. \'{"factors":[50,100],"reg":[0.02,0.05]}\'; with --random a value may also be {"min":…,"max":…,"log":true,"integer":true}')
        .option('--random <n>', 'random search: try n settings drawn from --grid (seeded by --seed) instead of all of them', positiveInt('--random'))
        .option('--folds <k>', 'k-fold cross-validation over --data', positiveInt('--folds'))
        .option('--holdout <fraction>', 'one random holdout of --data', numberIn('--holdout', 0, 1))
        .option('--train <file>', 'training file of a train/test pair (repeatable, paired in order with --test)', collect, [])
        .option('--test <file>', 'test file of a train/test pair (repeatable)', collect, [])
        .option('--json', 'print one JSON document on stdout'),
    ),
    'svd',
    { modelFile: false },
  ).action(async (o: DataSourceOptions & ModelFlags & FoldFlags & { grid: string; random?: number; json?: boolean }) => {
    const space = parseSearchJson(o.grid);
    const seed = o.seed ?? 42;
    // Fixed parameters from the flags; the searched ones override them. --seed seeds the folds
    // and the random search, and reaches the model only if it has a seed parameter.
    const base = paramsPerKind([o.model], o).get(o.model)!;
    for (const key of Object.keys(space)) delete base[key];
    if (o.random === undefined) {
      for (const [key, values] of Object.entries(space)) {
        if (!Array.isArray(values)) throw new UsageError(`--grid: parameter "${key}" needs a list of values (ranges like {"min":…,"max":…} need --random N)`);
      }
    }
    const { folds, description } = await foldSource(o, seed, 'tune');
    const progress = new Progress(`tuning ${o.model}`);
    const options = { baseParams: base, onTrial: (_t: SearchTrial, done: number, total: number) => progress.update(done, total) };
    let trials: SearchTrial[];
    try {
      trials =
        o.random === undefined
          ? await gridSearch(o.model, space as ParamGrid, folds, options)
          : await randomSearch(o.model, space as ParamSpace, { trials: o.random, seed }, folds, options);
    } finally {
      progress.stop();
    }
    const search = o.random === undefined ? 'grid' : `random (${o.random} trials, seed ${seed})`;
    // Failed trials rank last; the best is the best that did not fail.
    const best = trials.find((t) => t.error === null) ?? null;
    const failure = best === null ? new RunFailedError(`every setting failed: ${trials.map((t) => `${formatParams(t.params) || '(defaults)'}: ${t.error}`).join('; ')}`) : null;
    if (o.json) {
      printJson({ model: o.model, search, evaluation: description, baseParams: base, best, trials });
      if (failure) throw failure;
      return;
    }
    console.log(`${search} search for ${o.model} on ${description}${Object.keys(base).length ? `; fixed ${formatParams(base)}` : ''}`);
    console.log(
      table(
        ['rank', 'parameters', 'mean RMSE', 'mean MAE', 'fit s', 'seconds'],
        trials.map((t, i) =>
          t.error === null
            ? [i + 1, formatParams(t.params) || '(defaults)', fixed(t.meanRmse, 4), fixed(t.meanMae, 4), t.fitSeconds.toFixed(2), t.seconds.toFixed(2)]
            : ['-', formatParams(t.params) || '(defaults)', 'failed', '', '', t.seconds.toFixed(2)],
        ),
      ),
    );
    for (const t of trials) if (t.error !== null) console.log(`failed: ${formatParams(t.params) || '(defaults)'}: ${t.error}`);
    if (failure) throw failure;
    console.log(`best: ${o.model} ${formatParams(best!.params)} → mean RMSE ${fixed(best!.meanRmse, 4)}`);
  });

  withModelOptions(
    withDataOptions(
      program
        .command('rank-evaluate')
        .description('top-k ranking metrics (precision, recall, NDCG, MAP, hit rate, coverage) beside RMSE/MAE on held-out ratings')
        .option('--train <file>', 'training file (with --test)')
        .option('--test <file>', 'test file (with --train)')
        .option('--holdout <fraction>', 'one random holdout of --data', numberIn('--holdout', 0, 1))
        // --k is taken by withModelOptions (knn-baseline's neighbour count), hence --top-k.
        .option('--top-k <k>', 'length of each recommendation list (the cutoff k)', positiveInt('--top-k'), 10)
        .option('--threshold <stars>', 'a held-out rating is relevant when it is at least this', numberIn('--threshold', 0, 10), 4)
        .option('--json', 'print one JSON document on stdout'),
    ),
    'svd,popular',
  ).action(async (o: DataSourceOptions & ModelFlags & { train?: string; test?: string; holdout?: number; topK: number; threshold: number; json?: boolean }) => {
    const seed = o.seed ?? 42;
    if ((o.train === undefined) !== (o.test === undefined)) throw new UsageError('rank-evaluate: give --train and --test together');
    if ((o.train !== undefined) === (o.holdout !== undefined)) throw new UsageError('rank-evaluate needs exactly one of --train FILE --test FILE, --holdout FRACTION');
    let split: { name: string; train: RatingMatrix; test: RatingList };
    if (o.train !== undefined) {
      split = await fileSplit(o.train, o.test!, dataLoadOptions(o));
    } else {
      split = holdoutSplit((await openDataset(o)).matrix, { testFraction: o.holdout!, seed });
    }
    const entries: Array<{ label: string; obtain: () => Promise<{ model: Predictor; seconds: number }> }> = [];
    if (o.modelFile) {
      const file = o.modelFile;
      entries.push({ label: file, obtain: async () => ({ model: await loadModel(file, split.train), seconds: 0 }) });
    } else {
      const kinds = o.model.split(',').map((s) => s.trim()).filter(Boolean);
      const params = paramsPerKind(kinds, o);
      for (const kind of kinds) entries.push({ label: kind, obtain: () => fitWithProgress(kind, params.get(kind)!, split.train) });
    }
    const results: Array<{ model: string; params: Readonly<Record<string, unknown>>; rmse: number; mae: number; ranking: RankingMetrics; fitSeconds: number }> = [];
    for (const entry of entries) {
      const { model, seconds } = await entry.obtain();
      const errors = errorMetrics(model.predictMany(split.test), split.test);
      const progress = new Progress(`ranking ${entry.label}`);
      let ranking: RankingMetrics;
      try {
        ranking = rankingMetrics(model, split.train, split.test, { k: o.topK, relevantThreshold: o.threshold, onProgress: progress.update });
      } finally {
        progress.stop();
      }
      results.push({ model: model.kind, params: model.params, rmse: errors.rmse, mae: errors.mae, ranking, fitSeconds: seconds });
    }
    const splitInfo = { name: split.name, trainRatings: split.train.nRatings, testRatings: split.test.length };
    if (o.json) return printJson({ split: splitInfo, k: o.topK, relevantThreshold: o.threshold, results });
    const r0 = results[0].ranking;
    console.log(
      `split ${split.name}: ${int(splitInfo.trainRatings)} train, ${int(splitInfo.testRatings)} test ratings; relevant = rating ≥ ${o.threshold}; ` +
        `${int(r0.usersEvaluated)} of ${int(r0.testUsers)} test users have a relevant rating`,
    );
    const k = o.topK;
    console.log(
      table(
        ['model', 'RMSE', 'MAE', `P@${k}`, `R@${k}`, `NDCG@${k}`, `MAP@${k}`, `HR@${k}`, 'coverage', 'fit s', 'rank s'],
        results.map((r) => [
          r.model,
          fixed(r.rmse, 4),
          fixed(r.mae, 4),
          fixed(r.ranking.precision, 4),
          fixed(r.ranking.recall, 4),
          fixed(r.ranking.ndcg, 4),
          fixed(r.ranking.map, 4),
          fixed(r.ranking.hitRate, 4),
          fixed(r.ranking.coverage, 4),
          r.fitSeconds.toFixed(2),
          r.ranking.seconds.toFixed(2),
        ]),
      ),
    );
  });

  withModelOptions(
    withDataOptions(
      program
        .command('predict-qualifying')
        .description("predict the Netflix Prize qualifying pairs and write them in the prize's submission layout (MovieID: then one rating per line)")
        .option('--qualifying <file>', 'the qualifying file (default: <--data folder>/qualifying.txt)')
        .requiredOption('--out <file>', 'predictions file to write')
        .option('--json', 'print one JSON document on stdout'),
    ),
  ).action(async (o: DataSourceOptions & ModelFlags & { qualifying?: string; out: string; json?: boolean }) => {
    let qualifyingPath = o.qualifying;
    if (qualifyingPath === undefined) {
      if (!o.data) throw new UsageError('predict-qualifying needs --qualifying FILE or --data PRIZE_FOLDER (holding qualifying.txt)');
      const folder = fs.existsSync(o.data) && fs.statSync(o.data).isDirectory() ? o.data : path.dirname(o.data);
      qualifyingPath = path.join(folder, 'qualifying.txt');
    }
    if (!fs.existsSync(qualifyingPath)) throw new UsageError(`predict-qualifying: no qualifying file at ${qualifyingPath} (give it with --qualifying FILE)`);

    let model: Predictor;
    let fitSeconds = 0;
    let trainRatings: number | null = null;
    if (o.modelFile) {
      model = await loadModel(o.modelFile, (await openDataset(o)).matrix);
    } else {
      const matrix = (await openDataset(o)).matrix;
      trainRatings = matrix.nRatings;
      const fitted = await fitWithProgress(o.model, paramsPerKind([o.model], o).get(o.model)!, matrix);
      model = fitted.model;
      fitSeconds = fitted.seconds;
    }
    const reading = new Progress(`reading ${qualifyingPath}`);
    let qualifying;
    try {
      qualifying = await readQualifying(qualifyingPath, { skipInvalid: o.skipInvalid, onProgress: reading.update });
    } finally {
      reading.stop();
    }
    const writing = new Progress(`writing ${o.out}`);
    let written;
    try {
      written = await writeQualifyingPredictions(o.out, model, qualifying, { onProgress: writing.update });
    } finally {
      writing.stop();
    }
    const result = { model: model.kind, params: model.params, trainRatings, fitSeconds, qualifying: qualifyingPath, ...written };
    if (o.json) return printJson(result);
    console.log(
      `${model.kind} predicted ${int(written.pairs)} qualifying pairs in ${int(written.movieBlocks)} movie blocks; wrote ${o.out} (${int(written.bytes)} bytes) in ${written.seconds.toFixed(2)} s` +
        (trainRatings !== null ? ` after fitting on ${int(trainRatings)} ratings in ${fitSeconds.toFixed(2)} s` : ''),
    );
  });
}
