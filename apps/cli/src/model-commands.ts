import { Command, InvalidArgumentError, Option } from 'commander';
import { Dataset, fileSplit, kFoldSplits, holdoutSlice, holdoutSplit, LoadedDataset, RatingMatrix } from '@recsys/data';
import { buildNeighbourIndex, mostSimilar, Neighbour, SIMILARITY_METRICS, SimilarityMetric } from '@recsys/similarity';
import { createModel, fingerprintMatrix, loadModel, loadModelArtifact, modelKindImportedBy, Predictor, saveModel, trainableModelKinds, TrainingProgress } from '@recsys/models';
import { CheckedFit, DEFAULT_HOLDOUT, evaluate, EvaluationFold, EvaluationResult, fitChecked, FitDivergedError, fitsInPlace, stopOnDivergence } from '@recsys/evaluation';
import { dataLoadOptions, openDataset, withDataOptions, DataSourceOptions } from './data-source';
import { ModelFlags, modelParams, withModelOptions } from './model-options';
import { int, printJson, table } from './output';
import { externalId, numberIn, positiveInt } from './parse';
import { Progress } from './progress';
import { RunFailedError, UsageError } from './errors';
import { commandLine, prepareReport, withReportOption, writeReport } from './report';
import { evaluateReport, trainReport } from './report-documents';
import { remotePredict, remoteRecommend, remoteSimilar, ServerOptions, withServerOption } from './remote';

/**
 * Fit the model the flags describe on `train` (with a progress bar), or load --model-file. A fit
 * whose training RMSE turns NaN stops with the reason (exit 1): its answers would be fallbacks.
 */
async function obtainModel(flags: ModelFlags, train: RatingMatrix, overrides: Record<string, unknown> = {}): Promise<Predictor> {
  // The artifact refers to its training data by fingerprint: the data given must be that data.
  if (flags.modelFile) return loadModel(flags.modelFile, train);
  const model = createModel(flags.model, { ...modelParams(flags), ...overrides });
  const progress = new Progress(`fitting ${flags.model}`);
  try {
    await model.fit(train, { onProgress: stopOnDivergence(model.kind, (p: TrainingProgress) => progress.update(p.epoch, p.epochs)) });
  } catch (error) {
    if (error instanceof FitDivergedError) throw new RunFailedError(error.message);
    throw error;
  } finally {
    progress.stop();
  }
  return model;
}

function movieLabel(dataset: Dataset, movieId: number): { id: number; title: string; year: number | null } {
  const m = dataset.catalog.get(movieId);
  return { id: movieId, title: m.title, year: m.year };
}

function requireMovie(dataset: LoadedDataset, movieId: number): number {
  const m = dataset.matrix.movies.indexOf(movieId);
  if (m < 0) throw new UsageError(`movie ${movieId} has no ratings in ${dataset.report.files.join(', ') || 'the data'}`);
  return m;
}

export function registerModelCommands(program: Command): void {
  withServerOption(withDataOptions(
    program
      .command('similar')
      .description('the movies most similar to a movie (Jaccard by default: users who rated both / users who rated either; with --server, metric model: by the server\'s ranking model)')
      .requiredOption('--movie <id>', 'movie id', externalId('--movie'))
      .option('--n <n>', 'how many', positiveInt('--n'), 10)
      .addOption(new Option('--metric <metric>', 'similarity metric (model: the ranking model\'s own, with --server only)').choices([...SIMILARITY_METRICS, 'model']).default('jaccard'))
      .option('--min-support <n>', 'least number of common raters (default 0: every rated movie is a candidate)', (v) => {
        if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`--min-support must be a non-negative integer, got "${v}"`);
        return Number(v);
      })
      .option('--model-file <file>', "answer from the neighbour index saved in a model artifact (train --neighbours K), when its metric matches and n ≤ K")
      .option('--json', 'print one JSON document on stdout'),
  )).action(async (o: DataSourceOptions & ServerOptions & { movie: number; n: number; metric: SimilarityMetric; minSupport?: number; modelFile?: string; json?: boolean }) => {
    if (o.server) return remoteSimilar(o);
    if ((o.metric as string) === 'model') throw new UsageError('--metric model asks a server\'s ranking model: give --server URL (or RECSYS_SERVER)');
    const dataset = await openDataset(o);
    const m = requireMovie(dataset, o.movie);
    const t = performance.now();
    let neighbours: Neighbour[] | null = null;
    let source = 'computed';
    if (o.modelFile) {
      const { neighbourIndex } = await loadModelArtifact(o.modelFile, dataset.matrix);
      if (!neighbourIndex) throw new UsageError(`${o.modelFile} holds no neighbour index (train it with --neighbours K)`);
      if (neighbourIndex.metric !== o.metric || neighbourIndex.k < o.n || (o.minSupport ?? neighbourIndex.minSupport) !== neighbourIndex.minSupport) {
        throw new UsageError(`${o.modelFile} holds the top ${neighbourIndex.k} by ${neighbourIndex.metric} (min support ${neighbourIndex.minSupport}); asked for ${o.n} by ${o.metric}`);
      }
      neighbours = neighbourIndex.neighboursOf(m).slice(0, o.n);
      source = 'neighbour index';
    }
    neighbours ??= mostSimilar(dataset.matrix, m, o.n, { metric: o.metric, minSupport: o.minSupport });
    const seconds = (performance.now() - t) / 1000;
    const movie = { ...movieLabel(dataset, o.movie), ratings: dataset.matrix.movieCount(m) };
    const similar = neighbours.map((nb) => ({
      ...movieLabel(dataset, dataset.matrix.movies.ids[nb.movie]),
      similarity: nb.similarity,
      support: nb.support,
      ratings: dataset.matrix.movieCount(nb.movie),
    }));
    if (o.json) return printJson({ movie, metric: o.metric, minSupport: o.minSupport ?? 0, source, similar, seconds });
    console.log(`movies most similar to ${movie.id} ${movie.title}${movie.year ? ` (${movie.year})` : ''}, ${int(movie.ratings)} ratings, by ${o.metric}:`);
    console.log(table(['id', 'title', 'year', 'similarity', 'common raters'], similar.map((s) => [s.id, s.title, s.year ?? '', s.similarity.toFixed(6), int(s.support)])));
  });

  withServerOption(withModelOptions(
    withDataOptions(
      program
        .command('predict')
        .description("predict a user's rating of a movie")
        .requiredOption('--user <id>', 'user id', externalId('--user'))
        .requiredOption('--movie <id>', 'movie id', externalId('--movie'))
        .option('--json', 'print one JSON document on stdout'),
    ),
  )).action(async (o: DataSourceOptions & ModelFlags & ServerOptions & { user: number; movie: number; json?: boolean }) => {
    if (o.server) return remotePredict(o);
    const dataset = await openDataset(o);
    const model = await obtainModel(o, dataset.matrix);
    const p = model.predict(o.user, o.movie);
    const result = { model: model.kind, params: model.params, user: o.user, movie: movieLabel(dataset, o.movie), rating: p.rating, unclipped: p.unclipped, fallback: p.fallback };
    if (o.json) return printJson(result);
    console.log(`${model.kind} predicts user ${o.user} rates ${o.movie} ${result.movie.title} ${p.rating.toFixed(4)}${p.fallback ? ` (fallback: ${p.fallback})` : ''}`);
  });

  withServerOption(withModelOptions(
    withDataOptions(
      program
        .command('recommend')
        .description('the movies a model scores highest for a user')
        .requiredOption('--user <id>', 'user id', externalId('--user'))
        .option('--n <n>', 'how many', positiveInt('--n'), 10)
        .option('--include-rated', 'also list movies the user has rated')
        .option('--json', 'print one JSON document on stdout'),
    ),
  )).action(async (o: DataSourceOptions & ModelFlags & ServerOptions & { user: number; n: number; includeRated?: boolean; json?: boolean }) => {
    if (o.server) return remoteRecommend(o);
    const dataset = await openDataset(o);
    const model = await obtainModel(o, dataset.matrix);
    // As the API's user.recommendations: a user without ratings is not found (a list of fallback
    // scores would look like a personal answer).
    if (dataset.matrix.users.indexOf(o.user) < 0) {
      throw new UsageError(`user ${o.user} has no ratings in ${dataset.report.files.join(', ') || 'the data'}: nothing to recommend from`);
    }
    const recs = model.recommend(o.user, o.n, { excludeRated: !o.includeRated }).map((r) => ({ ...movieLabel(dataset, r.movieId), score: r.score }));
    if (o.json) return printJson({ model: model.kind, params: model.params, user: o.user, recommendations: recs });
    console.log(`top ${recs.length} for user ${o.user} (${int(dataset.matrix.userCount(dataset.matrix.users.indexOf(o.user)))} ratings) by ${model.kind} ${JSON.stringify(model.params)}${o.includeRated ? ', rated movies included' : ''}:`);
    console.log(table(['id', 'title', 'year', 'score'], recs.map((r) => [r.id, r.title, r.year ?? '', r.score.toFixed(4)])));
  });

  const trainCommand = withModelOptions(
    withDataOptions(
      program
        .command('train')
        .description(
          `fit a model and save it as an artifact, only if it beats its reference kind (baseline for models on biases, mean for baseline and jaccard-cf) on held-out ratings: ` +
            `a seeded ${DEFAULT_HOLDOUT.fraction * 100} % of the data, or the --validation split; a fit that diverges or loses writes nothing and exits 1 with the reason`,
        )
        .requiredOption('--out <file>', 'artifact file to write')
        .option('--validation <fraction>', 'hold out this fraction of the ratings (seeded): the held-out slice of the check, with its RMSE reported per epoch', numberIn('--validation', 0, 1))
        .option('--early-stopping <patience>', 'with --validation: stop after this many epochs without improvement, keeping the best', positiveInt('--early-stopping'))
        .option('--neighbours <k>', 'also store every movie\'s top-K neighbours in the artifact (built in parallel)', positiveInt('--neighbours'))
        .addOption(new Option('--neighbour-metric <metric>', 'metric of the stored neighbours').choices([...SIMILARITY_METRICS]).default('jaccard'))
        .option('--json', 'print one JSON document on stdout'),
    ),
    'svd',
    { modelFile: false },
  );
  withReportOption(trainCommand).action(
    async (o: DataSourceOptions & ModelFlags & { out: string; validation?: number; earlyStopping?: number; neighbours?: number; neighbourMetric: SimilarityMetric; json?: boolean; report?: string }, cmd: Command) => {
    if (o.earlyStopping !== undefined && o.validation === undefined) throw new UsageError('--early-stopping needs --validation FRACTION');
    // Refuse bad parameters and an unwritable --report (exit 2) before reading any data.
    const params = modelParams(o);
    createModel(o.model, params);
    const importedBy = modelKindImportedBy(o.model);
    if (importedBy !== null) throw new UsageError(`${o.model} models are not trained here: ${importedBy}; kinds trained here: ${trainableModelKinds().join(', ')}`);
    const report = prepareReport(o.report);
    // Without --neighbours nothing reads the data after the fit. When the guard will fit over it
    // with a mask (below), it is read with each array in a buffer of its own, so that the guard
    // can release what those fits do not read; other kinds keep the shared buffer their threads read.
    const consumeData = !o.neighbours;
    const dataset = await openDataset(o, { separateArrays: consumeData && o.validation === undefined && fitsInPlace(o.model, params) });
    // The data's fingerprint, taken first: without --neighbours the data is consumed by the fit.
    const dataFingerprint = fingerprintMatrix(dataset.matrix);
    const split = o.validation !== undefined ? holdoutSlice(dataset.matrix, { testFraction: o.validation, seed: o.seed ?? 42, consume: consumeData }) : null;
    // Per-epoch lines are the progress of a text run (a bar would overwrite them); --json runs
    // show a bar on a terminal instead.
    const progress = new Progress(`training ${o.model}`, o.json === true && process.stderr.isTTY === true);
    const t = performance.now();
    let fit: CheckedFit;
    try {
      // The guard: fit without the held-out slice (the --validation split, or a seeded 2 %), stop
      // at a diverged epoch, and keep the model only if it beats its reference kind on the slice.
      fit = await fitChecked(o.model, params, split ? split.train : dataset.matrix, {
        // Kinds that can (svd with sgd, baseline with als) leave the slice out by a mask over the
        // data, whose by-movie arrays and dates are then released before the fits (consumeData):
        // the trainer's layout is allocated beside 5 bytes per rating of data, not 12. Other kinds
        // fit on the slice compacted into the data's buffers (with consumeData) or on a copy.
        ...(split ? { heldOut: split.test, validate: true, earlyStopping: o.earlyStopping !== undefined ? { patience: o.earlyStopping } : undefined } : { consumeData, excludeInPlace: consumeData }),
        onProgress: (p) => {
          progress.update(p.epoch, p.epochs);
          if (!o.json && p.trainRmse !== undefined) {
            const v = p.validationRmse !== undefined ? `, validation RMSE ${p.validationRmse.toFixed(4)}` : '';
            process.stderr.write(`epoch ${p.epoch}/${p.epochs}: train RMSE ${p.trainRmse.toFixed(4)}${v} (${p.seconds.toFixed(3)} s)\n`);
          }
        },
      });
    } catch (error) {
      // A diverged fit or a model that lost to its reference: nothing is written (exit 1). A
      // RangeError is bad input (e.g. too few ratings to hold any out): exit 2.
      if (error instanceof RangeError) throw error;
      throw new RunFailedError(`${error instanceof Error ? error.message : String(error)}; nothing written to ${o.out}`);
    } finally {
      progress.stop();
    }
    const { model, history } = fit;
    const trainMatrix = fit.train;
    const seconds = (performance.now() - t) / 1000;
    let neighbourIndex;
    let neighbourSeconds: number | undefined;
    if (o.neighbours) {
      const t2 = performance.now();
      const bar = new Progress(`neighbours (${o.neighbourMetric})`);
      try {
        neighbourIndex = await buildNeighbourIndex(dataset.matrix, { metric: o.neighbourMetric, k: o.neighbours, threads: o.threads, onProgress: bar.update });
      } finally {
        bar.stop();
      }
      neighbourSeconds = (performance.now() - t2) / 1000;
    }
    // The artifact names the data and the held-out slice, so that --model-file over the same
    // --data rebuilds the training ratings.
    const holdout = split ? { fraction: o.validation!, seed: o.seed ?? 42 } : fit.holdout;
    // Fitted over the data with the slice left out by a mask: the artifact names the ratings without it.
    saveModel(o.out, model, { neighbourIndex, source: { data: dataFingerprint, holdout }, exclude: fit.exclude ?? undefined });
    const trainRatings = fit.excludedInPlace ? trainMatrix.nRatings - fit.heldOut : trainMatrix.nRatings;
    const result = {
      model: model.kind,
      params: model.params,
      ratings: trainRatings,
      validationRatings: split?.test.length ?? 0,
      // What the guard measured on the held-out slice (the --validation split, or the default 2 %).
      heldOutRatings: fit.heldOut,
      heldOutRmse: fit.rmse,
      reference: fit.reference,
      seconds,
      neighbourSeconds,
      out: o.out,
      history,
    };
    const kept = keptEpoch(history, o.earlyStopping);
    if (report) writeReport(report, trainReport(commandLine(cmd), result));
    if (o.json) return printJson({ ...result, keptEpoch: kept?.epoch ?? null, stoppedEarly: kept?.stoppedEarly ?? false });
    console.log(`trained ${model.kind} on ${int(trainRatings)} ratings in ${seconds.toFixed(2)} s; wrote ${o.out}`);
    console.log(
      `held-out RMSE ${fit.rmse.toFixed(4)} on ${int(fit.heldOut)} ratings` +
        (fit.reference ? `, beating ${fit.reference.kind}'s ${fit.reference.rmse.toFixed(4)}` : '') +
        (split ? ' (the --validation split)' : ` (a seeded ${DEFAULT_HOLDOUT.fraction * 100} % left out of the fit)`),
    );
    if (kept) {
      const last = history[history.length - 1];
      if (kept.stoppedEarly) console.log(`stopped early after epoch ${last.epoch} of ${last.epochs}: no better validation RMSE for ${o.earlyStopping} epochs`);
      if (kept.epoch !== last.epoch) console.log(`kept the factors of epoch ${kept.epoch}, the best on validation`);
      console.log(`validation RMSE ${kept.validationRmse.toFixed(4)} (epoch ${kept.epoch}) on ${int(split!.test.length)} held-out ratings`);
    }
    },
  );

  const evaluateCommand = withModelOptions(
    withDataOptions(
      program
        .command('evaluate')
        .description('fit and score models on held-out ratings: k folds, a holdout, train/test file pairs, or (the notebook comparison) the training rows themselves')
        .option('--folds <k>', 'k-fold cross-validation over the data', positiveInt('--folds'))
        .option('--holdout <fraction>', 'one random holdout of this fraction', numberIn('--holdout', 0, 1))
        .option('--train <file>', 'training file of a train/test pair (repeatable, paired in order with --test)', collect, [])
        .option('--test <file>', 'test file of a train/test pair (repeatable)', collect, [])
        .option('--on-training', 'fit on all the data and score the same rows (not held out: the notebook comparison)')
        .option('--json', 'print one JSON document on stdout'),
    ),
    'knn-baseline,jaccard-cf,mean',
  );
  withReportOption(evaluateCommand).action(async (o: DataSourceOptions & ModelFlags & { folds?: number; holdout?: number; train: string[]; test: string[]; onTraining?: boolean; json?: boolean; report?: string }, cmd: Command) => {
    const kinds = o.model.split(',').map((s) => s.trim()).filter(Boolean);
    const seed = o.seed ?? 42;
    const modes = [o.folds !== undefined, o.holdout !== undefined, o.train.length > 0 || o.test.length > 0, !!o.onTraining].filter(Boolean).length;
    if (modes !== 1) throw new UsageError('evaluate needs exactly one of --folds K, --holdout FRACTION, --train FILE --test FILE, --on-training');
    if (o.train.length !== o.test.length) throw new UsageError(`evaluate: ${o.train.length} --train files but ${o.test.length} --test files; give them in pairs`);
    const report = prepareReport(o.report);

    let folds: () => Iterable<EvaluationFold> | AsyncIterable<EvaluationFold>;
    let description: string;
    if (o.train.length > 0) {
      const opts = dataLoadOptions(o);
      folds = async function* () {
        for (let i = 0; i < o.train.length; i++) yield await fileSplit(o.train[i], o.test[i], opts);
      };
      description = `${o.train.length} train/test file pair(s)`;
    } else {
      const dataset = await openDataset(o);
      const matrix = dataset.matrix;
      if (o.folds !== undefined) {
        if (o.folds < 2) throw new UsageError('--folds must be at least 2');
        folds = () => kFoldSplits(matrix, { folds: o.folds!, seed });
        description = `${o.folds}-fold cross-validation (seed ${seed}) over ${int(matrix.nRatings)} ratings`;
      } else if (o.holdout !== undefined) {
        folds = () => [holdoutSplit(matrix, { testFraction: o.holdout!, seed })];
        description = `a ${o.holdout} holdout (seed ${seed}) of ${int(matrix.nRatings)} ratings`;
      } else {
        folds = () => [{ name: 'training rows', train: matrix, test: matrix.toList() }];
        description = `the ${int(matrix.nRatings)} training rows themselves (not held out)`;
      }
    }
    // Every kind's parameters are checked (exit 2) before the first fit.
    const paramsOf = new Map<string, Record<string, unknown>>();
    for (const kind of kinds) {
      const flags = { ...o, model: kind };
      const params = modelParams(flags);
      // --seed picks the folds; it reaches the model only if the model has a seed parameter.
      const { seed: _seed, ...withoutSeed } = params;
      const probe = createModel(kind, withoutSeed);
      paramsOf.set(kind, 'seed' in probe.params && o.seed !== undefined ? { ...withoutSeed, seed: o.seed } : withoutSeed);
    }
    const results: EvaluationResult[] = [];
    // A kind whose fit diverges (training RMSE NaN) has no figures worth printing: it is reported
    // with its reason, the others are still evaluated, and the command exits 1.
    const diverged: Array<{ model: string; params: Record<string, unknown>; error: string }> = [];
    for (const kind of kinds) {
      const params = paramsOf.get(kind)!;
      try {
        results.push(await evaluate(() => createModel(kind, params), folds()));
      } catch (error) {
        if (!(error instanceof FitDivergedError)) throw error;
        diverged.push({ model: kind, params: { ...createModel(kind, params).params }, error: error.message });
      }
    }
    const failure = diverged.length > 0 ? new RunFailedError(diverged.map((d) => d.error).join('; ')) : null;
    if (report) writeReport(report, evaluateReport(commandLine(cmd), description, results, diverged));
    if (o.json) {
      printJson({ evaluation: description, results, ...(diverged.length > 0 ? { failed: diverged } : {}) });
      if (failure) throw failure;
      return;
    }
    console.log(`evaluation on ${description}`);
    for (const r of results) {
      console.log(`\n${r.model} ${JSON.stringify(r.params)}`);
      console.log(
        table(
          ['fold', 'train', 'test', 'MSE', 'RMSE', 'MAE', 'fit s', 'predict s'],
          [
            ...r.folds.map((f) => [f.name, int(f.trainRatings), int(f.testRatings), f.mse.toFixed(6), f.rmse.toFixed(4), f.mae.toFixed(4), f.fitSeconds.toFixed(3), f.predictSeconds.toFixed(3)]),
            ['mean', '', '', r.mean.mse.toFixed(6), r.mean.rmse.toFixed(4), r.mean.mae.toFixed(4), r.mean.fitSeconds.toFixed(3), r.mean.predictSeconds.toFixed(3)],
          ],
        ),
      );
    }
    for (const d of diverged) console.log(`\n${d.model} ${JSON.stringify(d.params)}\nfailed: ${d.error}`);
    if (failure) throw failure;
  });
}


/**
 * The epoch whose model was written: the last one, or with early stopping the one with the best
 * validation RMSE (the fit restores it). Null without validation.
 */
function keptEpoch(history: TrainingProgress[], patience: number | undefined): { epoch: number; validationRmse: number; stoppedEarly: boolean } | null {
  const last = history[history.length - 1];
  if (last?.validationRmse === undefined) return null;
  let kept = last;
  if (patience !== undefined) for (const h of history) if (h.validationRmse! < kept.validationRmse!) kept = h;
  return { epoch: kept.epoch, validationRmse: kept.validationRmse!, stoppedEarly: patience !== undefined && last.epoch < last.epochs };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
