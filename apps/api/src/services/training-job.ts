import { renameSync } from 'node:fs';
import type { MatrixArrays } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix } from '@recsys/data';
import { createModel, DataFingerprint, fingerprintMatrix, saveModel, TrainingProgress } from '@recsys/models';
import { errorMetrics } from '@recsys/evaluation';

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

/** Accuracy on the training ratings (not held out) and the size of the training data. */
export interface TrainingMetrics {
  trainRmse: number;
  trainMae: number;
  ratings: number;
  users: number;
  movies: number;
  /** Wall time of the fit alone. */
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
  | { type: 'error'; message: string };

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

/** Builds the matrix, fits the model (reporting each epoch), measures it and writes the artifact. */
export async function runTrainingJob(job: TrainingJob, onProgress: (p: TrainingProgress) => void = () => {}): Promise<TrainingOutcome> {
  const train = jobMatrix(job);
  const model = createModel(job.kind, job.params);
  const history: TrainingProgress[] = [];
  const started = performance.now();
  await model.fit(train, {
    onProgress: (p) => {
      history.push(p);
      onProgress(p);
    },
  });
  const fitSeconds = (performance.now() - started) / 1000;
  const all = train.toList();
  const error = errorMetrics(model.predictMany(all), all);
  const tmp = `${job.artifactPath}.tmp`;
  saveModel(tmp, model);
  renameSync(tmp, job.artifactPath);
  return {
    metrics: { trainRmse: error.rmse, trainMae: error.mae, ratings: train.nRatings, users: train.nUsers, movies: train.nMovies, fitSeconds },
    fingerprint: fingerprintMatrix(train),
    history,
  };
}
