import { holdoutMask, holdoutSlice, RatingList, RatingMatrix, releaseArrays } from '@recsys/data';
import { createModel, FitOptions, Predictor, TrainingProgress } from '@recsys/models';
import { stopOnDivergence } from './divergence';
import { errorMetrics } from './error-metrics';

/**
 * The model a kind must beat on held-out ratings before it is served or written: models built on
 * the biases (`svd`, `svdpp`, `knn-baseline`, …) must beat `baseline` (μ + b_u + b_i); `baseline`
 * itself and the models that do not use biases (`jaccard-cf`, `popular`) must beat `mean`; `mean`
 * is the floor and is never checked.
 */
export function referenceKindOf(kind: string): string | null {
  if (kind === 'mean') return null;
  if (kind === 'baseline' || kind === 'jaccard-cf' || kind === 'popular') return 'mean';
  return 'baseline';
}

/** Held-out slice of the guard: `fraction` of the ratings, drawn with `seed` (see holdoutSplit). */
export interface HoldoutSlice {
  fraction: number;
  seed: number;
}

/** Default slice: 2 % of the ratings (20,000 at 1M, 2M at 100M), seed 42. */
export const DEFAULT_HOLDOUT: Readonly<HoldoutSlice> = Object.freeze({ fraction: 0.02, seed: 42 });

/** A model that did not beat its reference on held-out ratings: not to be served or written. */
export class ModelRejectedError extends Error {
  override readonly name = 'ModelRejectedError';
  constructor(
    readonly kind: string,
    readonly rmse: number,
    readonly referenceKind: string,
    readonly referenceRmse: number,
    readonly heldOut: number,
  ) {
    super(
      `${kind} does not beat ${referenceKind} on ${heldOut.toLocaleString('en-US')} held-out ratings ` +
        `(RMSE ${fmt(rmse)} against ${fmt(referenceRmse)}): not served or written; ` +
        `check its parameters (a learning rate too large, too few epochs, too much regularisation)`,
    );
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

export interface CheckedFitOptions extends FitOptions {
  /** The held-out slice (default {@link DEFAULT_HOLDOUT}); ignored when `heldOut` is given. */
  holdout?: HoldoutSlice;
  /**
   * With the default slice: `data` is not needed afterwards, so the training part is compacted in
   * place into its buffers instead of copied (the peak holds one matrix, not two; `data` must not
   * be used once this is called). With `excludeInPlace` taken, nothing is compacted: the by-movie
   * arrays and dates of `data`, which no fit over the mask reads, are released before the fits
   * (`releaseArrays`: 7 of 12 bytes per rating when `data`'s arrays are not in shared
   * memory, e.g. a snapshot read with `separateArrays`), and `data` keeps its ids, pointers and
   * by-user ratings for the model, which is fitted over it.
   */
  consumeData?: boolean;
  /**
   * With a slice drawn here: when the kind and its reference both can (`canExclude`: `svd` with
   * the `sgd` solver and factors ≥ 1, `baseline` with `als`, `mean`), fit them on `data` itself with the
   * held-out ratings left out by a mask (1 byte per rating) instead of on a training copy
   * (10 bytes per rating): the same slice, the same fits, the same figures. The model is then
   * fitted over `data` (`CheckedFit.train` is `data`: same users and movies at the same indices).
   * Other kinds fit on the copy, as without this option.
   */
  excludeInPlace?: boolean;
  /** Held-out ratings chosen by the caller (e.g. a validation split); `data` is then all training data. */
  heldOut?: RatingList;
  /** Report the held-out RMSE per epoch and pass the slice to the fit as its validation set. */
  validate?: boolean;
  /** With `validate`: early stopping patience in epochs. */
  earlyStopping?: { patience: number };
}

/** A fitted model that beat its reference, with the figures that show it. */
export interface CheckedFit {
  model: Predictor;
  /**
   * The ratings the model was fitted on: data minus the held-out slice, with every user and movie
   * of data at its index (see holdoutSlice), so the model's rows are the data's; with
   * `excludeInPlace` taken, data itself (the slice was left out by a mask).
   */
  train: RatingMatrix;
  /** Whether the held-out ratings were left out by a mask over data (`excludeInPlace`) rather than a copy. */
  excludedInPlace: boolean;
  /**
   * With `excludedInPlace`, the mask (1 byte per by-user position of `train`, 1 = held out); null
   * otherwise. `saveModel`'s `exclude` takes it, so that the artifact names the training ratings.
   */
  exclude: Uint8Array | null;
  /** The slice, when it was drawn here (null when the caller gave `heldOut`). */
  holdout: HoldoutSlice | null;
  heldOut: number;
  rmse: number;
  /** MAE of the model on the held-out slice (reported beside the RMSE; the guard decides by the RMSE). */
  mae: number;
  reference: { kind: string; rmse: number } | null;
  history: TrainingProgress[];
}

/**
 * Fits `kind` on `data` minus a held-out slice and keeps it only if it beats its reference kind
 * ({@link referenceKindOf}, fitted with its defaults on the same ratings) on that slice. A fit
 * that diverges throws the trainer's error, or {@link FitDivergedError} at the first epoch whose
 * training RMSE is not finite (the message says at which epoch and why); a model that
 * does not beat its reference throws {@link ModelRejectedError}. Ties are refused: a model no better
 * than its reference is the reference in disguise. The same guard serves the API's retrain and the
 * CLI's train, evaluate and tune.
 */
export async function fitChecked(kind: string, params: Record<string, unknown>, data: RatingMatrix, options: CheckedFitOptions = {}): Promise<CheckedFit> {
  let train = data;
  let test: RatingList;
  let holdout: HoldoutSlice | null = null;
  let exclude: Uint8Array | undefined;
  const referenceKind = referenceKindOf(kind);
  const model = createModel(kind, params);
  if (options.heldOut) {
    test = options.heldOut;
  } else {
    holdout = options.holdout ?? DEFAULT_HOLDOUT;
    const slice = { testFraction: holdout.fraction, seed: holdout.seed };
    if (options.excludeInPlace === true && fitsWithMask(model)) {
      // What no fit over the mask reads goes before the mask is drawn: the by-movie arrays now,
      // the dates once the held-out ratings (with their dates) are listed.
      const consume = options.consumeData === true;
      if (consume) releaseArrays(data, { byMovie: true });
      // The held-out ratings of holdoutSlice (the same mask), left out of the fits without a copy of the rest.
      exclude = holdoutMask(data, slice);
      const mask = exclude;
      test = data.toList((k) => mask[k] === 1);
      if (consume) releaseArrays(data, { days: true });
    } else {
      const split = holdoutSlice(data, { ...slice, consume: options.consumeData === true, days: false });
      train = split.train;
      test = split.test;
    }
  }
  if (test.length === 0) throw new RangeError(`${kind}: the held-out slice is empty (${data.nRatings} ratings): too little data to check the model`);
  // The reference first: once the model's last epoch is done only its own held-out RMSE is left
  // to compute, so a server that serves the checked model swaps it in right after that epoch.
  let reference: CheckedFit['reference'] = null;
  if (referenceKind !== null) {
    const ref = await createModel(referenceKind).fit(train, { exclude });
    reference = { kind: referenceKind, rmse: errorMetrics(ref.predictMany(test), test).rmse };
  }
  const history: TrainingProgress[] = [];
  await model.fit(train, {
    exclude,
    ...(options.validate ? { validation: test, earlyStopping: options.earlyStopping } : {}),
    // A non-finite training RMSE stops the fit with FitDivergedError (the reason, with the epoch).
    onProgress: stopOnDivergence(kind, (p: TrainingProgress) => {
      history.push(p);
      options.onProgress?.(p);
    }),
  } as FitOptions);
  const { rmse, mae } = errorMetrics(model.predictMany(test), test);
  if (reference !== null) {
    if (!(rmse < reference.rmse)) throw new ModelRejectedError(kind, rmse, reference.kind, reference.rmse, test.length);
  } else if (!Number.isFinite(rmse)) {
    throw new ModelRejectedError(kind, rmse, 'finite predictions', NaN, test.length);
  }
  return { model, train, excludedInPlace: exclude !== undefined, exclude: exclude ?? null, holdout, heldOut: test.length, rmse, mae, reference, history };
}

function canExclude(model: Predictor): boolean {
  return model.canExclude?.() === true;
}

function fitsWithMask(model: Predictor): boolean {
  const referenceKind = referenceKindOf(model.kind);
  return canExclude(model) && (referenceKind === null || canExclude(createModel(referenceKind)));
}

/**
 * Whether {@link fitChecked} with `excludeInPlace` (and its own slice) fits `kind` with `params`
 * over the data with the slice left out by a mask: the kind and its reference can both leave
 * ratings out (`svd` with the `sgd` solver and factors ≥ 1, `baseline` with `als`, `mean`). Such
 * fits read only the data's ids, pointers and by-user ratings.
 */
export function fitsInPlace(kind: string, params: Record<string, unknown> = {}): boolean {
  return fitsWithMask(createModel(kind, params));
}

/** Ratings {@link checkImportedModel} measures on: every rating of smaller data, else a seeded sample of about this many. */
export const IMPORT_CHECK_SAMPLE = 1_000_000;

/** What {@link checkImportedModel} measured. */
export interface ImportCheck {
  /** Ratings of the data it was measured on: all of them, or a seeded sample of about {@link IMPORT_CHECK_SAMPLE}. */
  sampled: number;
  rmse: number;
  mae: number;
  reference: { kind: 'baseline'; rmse: number };
}

/** An imported model that does not beat the baseline on its own training data: not written. */
export class ImportedModelRejectedError extends Error {
  override readonly name = 'ImportedModelRejectedError';
  constructor(
    readonly kind: string,
    readonly rmse: number,
    readonly referenceRmse: number,
    readonly sampled: number,
  ) {
    super(
      `the imported ${kind} model does not beat baseline on ${sampled.toLocaleString('en-US')} sampled ratings of the data ` +
        `(RMSE ${fmt(rmse)} against ${fmt(referenceRmse)}, both fitted on every rating): not written; ` +
        `check that it was trained on these ratings (the same ids and rating scale)`,
    );
  }
}

/**
 * The check of a model trained elsewhere (a Spark ALSModel) before it is written as an artifact:
 * on the ratings of `data` (every one up to `sampleSize`, else a seeded sample of about that many),
 * its RMSE must be below that of `baseline` (μ + b_u + b_i) fitted on all of `data`. Both have seen those ratings (the other system trained
 * on every rating, so nothing is held out from it), so this is an in-sample comparison: it cannot
 * tell a good model from an overfitted one, but it refuses one trained on other data, other ids
 * or another scale, which does not even fit its own training ratings as well as the baseline.
 * Throws {@link ImportedModelRejectedError} (ties refused), or a RangeError when the slice is empty.
 */
export async function checkImportedModel(model: Predictor, data: RatingMatrix, sampleSize = IMPORT_CHECK_SAMPLE): Promise<ImportCheck> {
  let sample: RatingList;
  if (data.nRatings <= sampleSize) {
    sample = data.toList(() => true);
  } else {
    const mask = holdoutMask(data, { testFraction: sampleSize / data.nRatings, seed: DEFAULT_HOLDOUT.seed });
    sample = data.toList((k) => mask[k] === 1);
  }
  if (sample.length === 0) throw new RangeError(`the sample to check the imported ${model.kind} model on is empty (${data.nRatings} ratings): too little data`);
  const reference = await createModel('baseline').fit(data);
  const referenceRmse = errorMetrics(reference.predictMany(sample), sample).rmse;
  const { rmse, mae } = errorMetrics(model.predictMany(sample), sample);
  if (!(rmse < referenceRmse)) throw new ImportedModelRejectedError(model.kind, rmse, referenceRmse, sample.length);
  return { sampled: sample.length, rmse, mae, reference: { kind: 'baseline', rmse: referenceRmse } };
}
