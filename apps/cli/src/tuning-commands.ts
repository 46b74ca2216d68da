import { RunFailedError, UsageError } from './errors';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { detectFormat, fileSplit, holdoutSplit, kFoldSplits, leaveLastSplit, loadRatingsFile, perUserHoldoutSplit, readQualifying, RatingMatrix } from '@recsys/data';
import { createModel, loadModel, Predictor, TrainingProgress, writeQualifyingPredictions } from '@recsys/models';
import {
  EvaluationFold,
  FitDivergedError,
  FoldSource,
  gridSearch,
  Objective,
  objectiveLabel,
  objectiveName,
  OBJECTIVE_FORMS,
  ParamGrid,
  ParamSpace,
  parseObjective,
  randomSearch,
  rankingEvaluate,
  RankingEvaluation,
  rankingFold,
  SearchTrial,
  stopOnDivergence,
  summariseRankingFolds,
} from '@recsys/evaluation';
import { dataLoadOptions, DataSourceOptions, openDataset, withDataOptions } from './data-source';
import { ModelFlags, modelParams, withModelOptions } from './model-options';
import { int, printJson, table } from './output';
import { foldCount, numberIn, openFraction, positiveInt } from './parse';
import { Progress } from './progress';
import { commandLine, prepareReport, withReportOption, writeReport } from './report';
import { rankEvaluateReport, rankingFigures, tuneReport } from './report-documents';

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
  perUserHoldout?: number;
  leaveLast?: number;
  train: string[];
  test: string[];
}

const FOLD_MODES = '--folds K, --holdout FRACTION, --per-user-holdout FRACTION, --leave-last N, --train FILE --test FILE';

/** The evaluation protocol options shared by tune and rank-evaluate. */
function withFoldOptions(cmd: Command): Command {
  return cmd
    .option('--folds <k>', 'k-fold cross-validation over --data (seeded by --seed): every rating tested once', foldCount('--folds'))
    .option('--holdout <fraction>', 'one random holdout of --data (seeded)', openFraction('--holdout'))
    .option('--per-user-holdout <fraction>', "hold out this fraction of each user's ratings, at least one of every user with two or more (seeded)", openFraction('--per-user-holdout'))
    .option(
      '--leave-last <n>',
      "hold out each user's last n ratings by timestamp, ties on a day by file order (a data folder or snapshot: by movie id); needs dated data",
      positiveInt('--leave-last'),
    )
    .option('--train <file>', 'training file of a train/test pair (repeatable, paired in order with --test)', collect, [])
    .option('--test <file>', 'test file of a train/test pair (repeatable)', collect, []);
}

/** Each user's last n ratings of --data by date, the rows in file order when --data is one ratings file. */
async function leaveLastFold(o: DataSourceOptions, n: number): Promise<EvaluationFold> {
  const oneFile = o.data !== undefined && fs.existsSync(o.data) && fs.statSync(o.data).isFile() && (o.format ?? detectFormat(o.data)) !== 'snapshot';
  let source;
  if (oneFile) {
    const progress = new Progress(`reading ${o.data}`);
    try {
      const { list, scale } = await loadRatingsFile(o.data!, { ...dataLoadOptions(o), onProgress: progress.update });
      source = { list, scale };
    } finally {
      progress.stop();
    }
  } else {
    const matrix = (await openDataset(o)).matrix;
    source = { list: matrix.toList(), scale: matrix.scale };
  }
  if (source.list.days === null) {
    throw new UsageError(`--leave-last needs a timestamp per rating, and ${o.data ?? 'the default data'} has none; use --per-user-holdout FRACTION instead`);
  }
  return leaveLastSplit(source.list, source.scale, { n });
}

/**
 * The folds the flags name: train/test file pairs (read once, kept in memory), k folds or a random
 * holdout of --data (rebuilt lazily per use, so only one fold's matrices live at a time), a
 * per-user holdout or the leave-last split of --data (made once). `count` is the number of folds.
 */
async function foldSource(o: DataSourceOptions & FoldFlags, seed: number, command: string): Promise<{ folds: FoldSource; description: string; count: number }> {
  const given = [o.folds, o.holdout, o.perUserHoldout, o.leaveLast].filter((x) => x !== undefined).length + (o.train.length > 0 || o.test.length > 0 ? 1 : 0);
  if (given !== 1) throw new UsageError(`${command} needs exactly one of ${FOLD_MODES}`);
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
    return { folds: () => pairs, description: `${pairs.length} train/test file pair(s): ${pairs.map((p) => p.name).join(', ')}`, count: pairs.length };
  }
  if (o.leaveLast !== undefined) {
    const fold = await leaveLastFold(o, o.leaveLast);
    return { folds: () => [fold], description: `each user's last ${o.leaveLast} rating(s) by date held out (${int(fold.test.length)} of ${int(fold.test.length + fold.train.nRatings)} ratings)`, count: 1 };
  }
  const matrix = (await openDataset(o)).matrix;
  if (o.folds !== undefined) {
    const k = o.folds;
    // Checked now (k ≤ ratings), not at the first fold.
    kFoldSplits(matrix, { folds: k, seed });
    return { folds: () => kFoldSplits(matrix, { folds: k, seed }), description: `${k}-fold cross-validation (seed ${seed}) over ${int(matrix.nRatings)} ratings`, count: k };
  }
  if (o.perUserHoldout !== undefined) {
    const fraction = o.perUserHoldout;
    const fold = perUserHoldoutSplit(matrix, { testFraction: fraction, seed });
    return { folds: () => [fold], description: `a ${fraction} holdout of each user's ratings (seed ${seed}) of ${int(matrix.nRatings)} ratings`, count: 1 };
  }
  const fraction = o.holdout!;
  return { folds: () => [holdoutSplit(matrix, { testFraction: fraction, seed })], description: `a ${fraction} holdout (seed ${seed}) of ${int(matrix.nRatings)} ratings`, count: 1 };
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

/** commander parser of --objective: the names parseObjective (@recsys/evaluation) knows. */
function objectiveOption(value: string): Objective {
  try {
    return parseObjective(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A figure, or "-" where there is none (a ranking model's RMSE); with a spread: "mean ± sd". */
function cell(mean: number | null, sd: number | null | undefined, digits = 4): string {
  if (mean === null || Number.isNaN(mean)) return '-';
  return sd === undefined || sd === null || Number.isNaN(sd) ? fixed(mean, digits) : `${fixed(mean, digits)} ± ${fixed(sd, digits)}`;
}

export function registerTuningCommands(program: Command): void {
  const tuneCommand = withModelOptions(
    withDataOptions(
      withFoldOptions(
        program
          .command('tune')
          .description(
            'grid or random search over model parameters, each setting scored by its mean over the folds of the --objective (RMSE by default); prints every trial, best first; ' +
              'a setting whose fit diverges is listed as failed with its reason (exit 1 only if every setting failed)',
          )
          .requiredOption('--grid <json>', 'parameter → list of values, e.g. \'{"factors":[50,100],"reg":[0.02,0.05]}\'; with --random a value may also be {"min":…,"max":…,"log":true,"integer":true}')
          .option('--random <n>', 'random search: try n settings drawn from --grid (seeded by --seed) instead of all of them', positiveInt('--random'))
          .option('--objective <name>', `what ranks the settings: ${OBJECTIVE_FORMS} (ranking figures: higher is better)`, objectiveOption, parseObjective('rmse'))
          .option('--threshold <stars>', 'for a ranking objective: a held-out rating is relevant when it is at least this (default 4; implicit data: every held-out interaction)', numberIn('--threshold', 0, 127.5))
          .option('--json', 'print one JSON document on stdout'),
      ),
    ),
    'svd',
    { modelFile: false },
  );
  withReportOption(tuneCommand).action(async (o: DataSourceOptions & ModelFlags & FoldFlags & { grid: string; random?: number; objective: Objective; threshold?: number; json?: boolean; report?: string }, cmd: Command) => {
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
    const report = prepareReport(o.report);
    const { folds, description } = await foldSource(o, seed, 'tune');
    const progress = new Progress(`tuning ${o.model}`);
    const options = {
      baseParams: base,
      objective: o.objective,
      relevantThreshold: o.threshold,
      onTrial: (_t: SearchTrial, done: number, total: number) => progress.update(done, total),
    };
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
    const objective = objectiveName(o.objective);
    const label = objectiveLabel(o.objective);
    // Failed trials rank last; the best is the best that did not fail.
    const best = trials.find((t) => t.error === null) ?? null;
    const failure = best === null ? new RunFailedError(`every setting failed: ${trials.map((t) => `${formatParams(t.params) || '(defaults)'}: ${t.error}`).join('; ')}`) : null;
    if (report) writeReport(report, tuneReport(commandLine(cmd), o.model, search, label, description, trials));
    if (o.json) {
      printJson({ model: o.model, search, objective, evaluation: description, baseParams: base, best, trials });
      if (failure) throw failure;
      return;
    }
    console.log(`${search} search for ${o.model} by mean ${label} on ${description}${Object.keys(base).length ? `; fixed ${formatParams(base)}` : ''}`);
    // The objective's column first, then RMSE and MAE beside it (unless it is one of them).
    const figures: Array<[string, (t: SearchTrial) => number]> = [
      ...(objective === 'rmse' || objective === 'mae' ? [] : ([[`mean ${label}`, (t: SearchTrial) => t.meanObjective]] as Array<[string, (t: SearchTrial) => number]>)),
      ['mean RMSE', (t) => t.meanRmse],
      ['mean MAE', (t) => t.meanMae],
    ];
    console.log(
      table(
        ['rank', 'parameters', ...figures.map(([h]) => h), 'fit s', 'seconds'],
        trials.map((t, i) =>
          t.error === null
            ? [i + 1, formatParams(t.params) || '(defaults)', ...figures.map(([, f]) => cell(f(t), undefined)), t.fitSeconds.toFixed(2), t.seconds.toFixed(2)]
            : ['-', formatParams(t.params) || '(defaults)', 'failed', ...figures.slice(1).map(() => ''), '', t.seconds.toFixed(2)],
        ),
      ),
    );
    for (const t of trials) if (t.error !== null) console.log(`failed: ${formatParams(t.params) || '(defaults)'}: ${t.error}`);
    if (failure) throw failure;
    console.log(`best: ${o.model} ${formatParams(best!.params)} → mean ${label} ${fixed(best!.meanObjective, 4)}`);
  });

  const rankEvaluateCommand = withModelOptions(
    withDataOptions(
      withFoldOptions(
        program
          .command('rank-evaluate')
          .description(
            'top-k ranking metrics (precision, recall, NDCG, MAP, MRR, hit rate, coverage) beside RMSE/MAE on held-out ratings; ' +
              'over several folds, each figure as mean ± sd over the folds',
          )
          // --k is taken by withModelOptions (knn-baseline's neighbour count), hence --top-k.
          .option('--top-k <k>', 'length of each recommendation list (the cutoff k)', positiveInt('--top-k'), 10)
          .option('--threshold <stars>', 'a held-out rating is relevant when it is at least this (default 4; implicit data: every held-out interaction)', numberIn('--threshold', 0, 127.5))
          .option('--json', 'print one JSON document on stdout'),
      ),
    ),
    'svd,popular',
  );
  withReportOption(rankEvaluateCommand).action(async (o: DataSourceOptions & ModelFlags & FoldFlags & { topK: number; threshold?: number; json?: boolean; report?: string }, cmd: Command) => {
    const seed = o.seed ?? 42;
    const kinds = o.model.split(',').map((s) => s.trim()).filter(Boolean);
    // Every kind and its parameters are checked (exit 2) before any data is read.
    const params = o.modelFile ? null : paramsPerKind(kinds, o);
    const report = prepareReport(o.report);
    const { folds, description, count } = await foldSource(o, seed, 'rank-evaluate');
    const ranking = { k: o.topK, relevantThreshold: o.threshold };
    const results: RankingEvaluation[] = [];
    if (o.modelFile) {
      if (count !== 1) throw new UsageError(`rank-evaluate: --model-file scores one saved model, so it takes one split, not ${count} folds`);
      const [fold] = [...(folds() as Iterable<EvaluationFold>)];
      const model = await loadModel(o.modelFile, fold.train);
      results.push(summariseRankingFolds(model, [rankingFold(model, fold, ranking, 0)]));
    } else {
      for (const kind of kinds) {
        const progress = new Progress(`${kind} over ${count} fold(s)`);
        try {
          progress.update(0, count);
          results.push(await rankingEvaluate(() => createModel(kind, params!.get(kind)!), folds(), { ...ranking, onFold: (_f, i) => progress.update(i + 1, count) }));
        } catch (error) {
          if (error instanceof FitDivergedError) throw new RunFailedError(error.message);
          throw error;
        } finally {
          progress.stop();
        }
      }
    }
    const splits = results[0].folds.map((f) => ({ name: f.name, trainRatings: f.trainRatings, testRatings: f.testRatings }));
    // The threshold used: --threshold, else 4 stars (every held-out interaction for implicit data).
    const threshold = results[0].relevantThreshold;
    if (report) writeReport(report, rankEvaluateReport(commandLine(cmd), description, o.topK, results));
    if (o.json) return printJson({ evaluation: description, k: o.topK, relevantThreshold: threshold, folds: splits, results });
    const r0 = results[0].folds[0].ranking;
    const many = splits.length > 1;
    console.log(
      many
        ? `${description}; relevant = rating ≥ ${threshold}; figures are mean ± sd over the ${splits.length} folds`
        : `split ${splits[0].name}: ${int(splits[0].trainRatings)} train, ${int(splits[0].testRatings)} test ratings; relevant = rating ≥ ${threshold}; ` +
            `${int(r0.usersEvaluated)} of ${int(r0.testUsers)} test users have a relevant rating`,
    );
    const k = o.topK;
    const figures = rankingFigures(k);
    console.log(
      table(
        ['model', ...figures.map(([h]) => h), 'fit s'],
        results.map((r) => [r.model, ...figures.map(([, f]) => cell(r.mean[f], many ? r.sd[f] : undefined)), (r.mean.fitSeconds ?? 0).toFixed(2)]),
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
