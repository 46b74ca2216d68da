import { renameSync } from 'node:fs';
import type { MatrixArrays } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix } from '@recsys/data';
import { createModel, DataFingerprint, fingerprintMatrix, saveModel, TrainingProgress } from '@recsys/models';
import { errorMetrics, fitChecked, ModelRejectedError, stopOnDivergence } from '@recsys/evaluation';

/** What a training worker is asked to do. */
export interface TrainingJob {
  kind: string;
  params: Record<string, unknown>;
  /** The loaded data set's ratings, ids and scale (in shared memory: the worker reads them without a copy). */
  base: MatrixArrays;
  /** Ratings given through the API, oldest first (a later one of the same pair wins); codes = stars × 2. */
  extra: { users: Int32Array; movies: Int32Array; ratings: Uint8Array };
  /** Where to write the model artifact (written to `<path>.tmp`, then renamed: readers never see half a file). */
  artifactPath: string;
}

/**
 * What the guard measured before a model may be served: its RMSE on the held-out slice of its
 * training data (a seeded 2 %, see DEFAULT_HOLDOUT of @recsys/evaluation) and its reference
 * kind's RMSE on the same slice, which it had to beat.
 */
export interface GuardMetrics {
  heldOutRmse: number;
  heldOutRatings: number;
  /** `baseline` for svd and svdpp, `mean` for baseline. */
  referenceKind: string | null;
  referenceRmse: number | null;
}

/** Accuracy on the training ratings (not held out), the guard's held-out figures and the size of the training data. */
export interface TrainingMetrics extends Partial<GuardMetrics> {
  trainRmse: number;
  trainMae: number;
  ratings: number;
  users: number;
  movies: number;
  /** Wall time of the fits (the guard's and the final one). */
  fitSeconds: number;
}

export interface TrainingOutcome {
  metrics: TrainingMetrics;
  fingerprint: DataFingerprint;
  history: TrainingProgress[];
}

export type TrainingMessage =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'done'; outcome: TrainingOutcome }
  | { type: 'error'; message: string; guard?: GuardMetrics };

/** A training job that failed, with what the guard measured when it got that far. */
export class TrainingJobError extends Error {
  constructor(
    message: string,
    readonly guard?: GuardMetrics,
  ) {
    super(message);
  }
}

/**
 * The training matrix of a job: the base ratings followed by the API ratings, built by
 * `buildRatingMatrix`, whose "last one wins" makes an API rating replace the data set's rating
 * of the same (user, movie) and a later API rating replace an earlier one.
 */
export function jobMatrix(job: Pick<TrainingJob, 'base' | 'extra'>): RatingMatrix {
  const { base, extra } = job;
  const { userIds, movieIds, scale } = base;
  if (!userIds || !movieIds || !scale) throw new Error('training job: the base ratings come without ids or scale');
  const list = new RatingListBuilder(base.userMovies.length + extra.users.length, false);
  for (let u = 0; u < base.nUsers; u++) {
    const userId = userIds[u];
    for (let k = base.userPtr[u]; k < base.userPtr[u + 1]; k++) list.push(userId, movieIds[base.userMovies[k]], base.userRatings[k]);
  }
  for (let j = 0; j < extra.users.length; j++) list.push(extra.users[j], extra.movies[j], extra.ratings[j]);
  return buildRatingMatrix(list.finish(), scale).matrix;
}

/**
 * Builds the matrix, then:
 * 1. the guard (`fitChecked`): fits on the matrix minus a seeded 2 % slice, reporting each epoch
 *    with its held-out RMSE, and goes on only if the fit did not diverge and the model beats its
 *    reference kind on the slice (otherwise throws {@link TrainingJobError} with the reason and the
 *    figures: nothing is written, the active model keeps serving);
 * 2. fits the same kind and parameters on every rating (the model served answers for all of them:
 *    its training matrix is what the catalog counts and what recommendations leave out), stopping
 *    if that fit diverges; measures it and writes the artifact.
 */
export async function runTrainingJob(job: TrainingJob, onProgress: (p: TrainingProgress) => void = () => {}): Promise<TrainingOutcome> {
  const train = jobMatrix(job);
  const started = performance.now();
  let guard: GuardMetrics;
  try {
    const checked = await fitChecked(job.kind, job.params, train, { validate: true, onProgress });
    guard = { heldOutRmse: checked.rmse, heldOutRatings: checked.heldOut, referenceKind: checked.reference?.kind ?? null, referenceRmse: checked.reference?.rmse ?? null };
  } catch (error) {
    if (error instanceof ModelRejectedError) {
      throw new TrainingJobError(error.message, { heldOutRmse: error.rmse, heldOutRatings: error.heldOut, referenceKind: error.referenceKind, referenceRmse: error.referenceRmse });
    }
    throw error;
  }
  const model = createModel(job.kind, job.params);
  const history: TrainingProgress[] = [];
  try {
    await model.fit(train, { onProgress: stopOnDivergence(job.kind, (p) => history.push(p)) });
  } catch (error) {
    throw new TrainingJobError(error instanceof Error ? error.message : String(error), guard);
  }
  const fitSeconds = (performance.now() - started) / 1000;
  const all = train.toList();
  const error = errorMetrics(model.predictMany(all), all);
  if (!Number.isFinite(error.rmse)) throw new TrainingJobError(`${job.kind}: training RMSE ${error.rmse} on all ratings; not served or written`, guard);
  const tmp = `${job.artifactPath}.tmp`;
  saveModel(tmp, model);
  renameSync(tmp, job.artifactPath);
  return {
    metrics: { trainRmse: error.rmse, trainMae: error.mae, ratings: train.nRatings, users: train.nUsers, movies: train.nMovies, fitSeconds, ...guard },
    fingerprint: fingerprintMatrix(train),
    history,
  };
}
