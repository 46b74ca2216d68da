import { closeSync, openSync, renameSync } from 'node:fs';
import { MatrixArrays, SectionArray, shareArray } from '@recsys/core';
import { buildRatingMatrix, matrixArraysOf, MAX_CODED_VALUE, RatingListBuilder, RatingMatrix } from '@recsys/data';
import { ArtifactContent, createModel, DataFingerprint, fingerprintMatrix, isRankingModel, Predictor, restoreModel, saveModel, TrainingProgress } from '@recsys/models';
import { fitChecked, fitCheckedRanking, ModelRejectedError, RankingModelRejectedError, stopOnDivergence } from '@recsys/evaluation';

/**
 * Nice value of a training worker's threads (0 = the server's; 19 = the lowest priority). With
 * every core busy training (2 epoch threads on 2 cores), the event loop otherwise shares the
 * cores with them in equal slices and a query can wait tens of milliseconds for its turn
 * (a retrain at 100M ratings under query load saw event-loop delays of 63–67 ms); at nice 10 the scheduler weighs a training thread about 1/9 of the loop's
 * (Linux CFS weights 110 against 1024), so the loop runs as soon as it has work, and training
 * still gets every cycle it leaves idle.
 */
export const TRAINING_NICE = 10;

/** What a training worker is asked to do. */
export interface TrainingJob {
  kind: string;
  params: Record<string, unknown>;
  /** The loaded data set's ratings, ids and scale (in shared memory: the worker reads them without a copy). */
  base: MatrixArrays;
  /** Ratings given through the API, oldest first (a later one of the same pair wins); codes = stars × 2. */
  extra: { users: Int32Array; movies: Int32Array; ratings: Uint8Array };
  /**
   * Interactions given through the API (`interact`), for ranking kinds only (rating models never
   * see them): each adds its weight to the pair's value (see {@link jobMatrix}).
   */
  interactions?: ApiInteractions;
  /**
   * Where to write the model artifact (written to `<path>.tmp`, then renamed: readers never see
   * half a file); null: nothing is written (the startup baseline, served until the configured
   * model replaces it).
   */
  artifactPath: string | null;
  /** Run the guard (fit on all but a held-out slice, beat the reference there) before the final fit; default true. */
  check?: boolean;
  /** Nice value of the worker's threads (see {@link TRAINING_NICE}); default 0 (the server's own priority). */
  nice?: number;
}

/** Interactions given through the API, oldest first; weights as given (> 0). */
export interface ApiInteractions {
  users: Int32Array;
  movies: Int32Array;
  weights: Float32Array;
}

/**
 * What the guard measured before a model may be served, on the held-out slice of its training
 * data (a seeded 2 %, see DEFAULT_HOLDOUT of @recsys/evaluation): for a rating model its RMSE
 * and its reference kind's RMSE, which it had to beat; for a ranking model its NDCG@10 and that
 * of `popular` (fitCheckedRanking of @recsys/evaluation), which it had to beat.
 */
export interface GuardMetrics {
  /** Null for a ranking model. */
  heldOutRmse: number | null;
  /** MAE of the guard fit on the slice (rating models; null for a ranking model and for a rejected one). */
  heldOutMae?: number | null;
  heldOutRatings: number;
  /** `baseline` for svd and svdpp, `mean` for baseline, `popular` for ranking kinds. */
  referenceKind: string | null;
  referenceRmse: number | null;
  /** Ranking models: NDCG@10 on the slice (null for rating models). */
  heldOutNdcg?: number | null;
  /** Ranking models: popular's NDCG@10 on the slice (null for popular itself). */
  referenceNdcg?: number | null;
  /** Ranking models: test users whose lists were scored. */
  heldOutUsers?: number | null;
}

/** Accuracy on the training ratings (the last epoch's, on the ratings fitted; MAE NaN: not measured), the guard's held-out figures and the size of the training data. */
export interface TrainingMetrics extends Partial<GuardMetrics> {
  trainRmse: number;
  trainMae: number;
  ratings: number;
  users: number;
  movies: number;
  /** Wall time of the fit (the guard's reference included). */
  fitSeconds: number;
}

export interface TrainingOutcome {
  metrics: TrainingMetrics;
  fingerprint: DataFingerprint;
  history: TrainingProgress[];
  /** The fitted model as artifact content, its sections in SharedArrayBuffers: the server builds the model over them without reading the file or copying. */
  model: ArtifactContent;
  /** The training matrix when it is not the base data set (API ratings were added), its buffers transferred; null: the base itself. */
  train: MatrixArrays | null;
  /** Count and sum (stars) of each movie's training ratings. */
  movieTotals: MovieTotals;
}

/** Count and sum (stars) of each movie's ratings in a training matrix (see {@link movieTotalsOf}). */
export interface MovieTotals {
  count: Uint32Array;
  sum: Float64Array;
}

/** What a training worker posts: progress per epoch, then the outcome (or the error), then, once the artifact is on disk, `saved` (or `error`). */
export type TrainingMessage =
  | { type: 'progress'; progress: TrainingProgress }
  | { type: 'done'; outcome: TrainingOutcome }
  | { type: 'saved' }
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
 * of the same (user, movie) and a later API rating replace an earlier one. Without API ratings,
 * the base arrays themselves (shared memory, no copy).
 */
export function jobMatrix(job: Pick<TrainingJob, 'base' | 'extra' | 'interactions'>): RatingMatrix {
  const { base, extra } = job;
  const interactions = job.interactions;
  const { userIds, movieIds, scale } = base;
  if (!userIds || !movieIds || !scale) throw new Error('training job: the base ratings come without ids or scale');
  const nInteractions = interactions?.users.length ?? 0;
  if (extra.users.length === 0 && nInteractions === 0) return RatingMatrix.fromArrays(base);
  const list = new RatingListBuilder(base.userMovies.length + extra.users.length + nInteractions, false);
  for (let u = 0; u < base.nUsers; u++) {
    const userId = userIds[u];
    for (let k = base.userPtr[u]; k < base.userPtr[u + 1]; k++) list.push(userId, movieIds[base.userMovies[k]], base.userRatings[k]);
  }
  for (let j = 0; j < extra.users.length; j++) list.push(extra.users[j], extra.movies[j], extra.ratings[j]);
  if (interactions && nInteractions > 0) {
    const summed = summedInteractionCodes(RatingMatrix.fromArrays(base), extra, interactions);
    for (let j = 0; j < summed.users.length; j++) list.push(summed.users[j], summed.movies[j], summed.codes[j]);
  }
  return buildRatingMatrix(list.finish(), scale).matrix;
}

/**
 * The value of each pair with API interactions, as the ranking training matrix holds it: the
 * pair's value before them (the data set's, replaced by the pair's latest API rating when there
 * is one; 0 when neither) plus the sum of its interaction weights, rounded to the matrix's
 * half-unit codes and capped at MAX_CODED_VALUE (127.5, as the interactions importer caps repeated pairs). The same sum a ranking model's fold-in
 * makes of the user's entries ("repeats summed"), so a retrain sees what fold-in served.
 */
export function summedInteractionCodes(base: RatingMatrix, extra: TrainingJob['extra'], interactions: ApiInteractions): { users: Int32Array; movies: Int32Array; codes: Uint8Array } {
  const value = new Map<string, { user: number; movie: number; value: number }>();
  const key = (u: number, m: number) => `${u}:${m}`;
  for (let j = 0; j < interactions.users.length; j++) {
    const k = key(interactions.users[j], interactions.movies[j]);
    if (!value.has(k)) {
      const u = base.users.indexOf(interactions.users[j]);
      const m = base.movies.indexOf(interactions.movies[j]);
      const before = u >= 0 && m >= 0 ? base.rating(u, m) : NaN;
      value.set(k, { user: interactions.users[j], movie: interactions.movies[j], value: Number.isNaN(before) ? 0 : before });
    }
  }
  for (let j = 0; j < extra.users.length; j++) {
    const v = value.get(key(extra.users[j], extra.movies[j]));
    if (v) v.value = extra.ratings[j] * 0.5;
  }
  for (let j = 0; j < interactions.users.length; j++) value.get(key(interactions.users[j], interactions.movies[j]))!.value += interactions.weights[j];
  const pairs = [...value.values()];
  return {
    users: Int32Array.from(pairs, (p) => p.user),
    movies: Int32Array.from(pairs, (p) => p.movie),
    codes: Uint8Array.from(pairs, (p) => Math.max(1, Math.min(MAX_CODED_VALUE * 2, Math.round(p.value * 2)))),
  };
}

/** Σ count and Σ stars of each movie's ratings: m's are positions moviePtr[m] .. moviePtr[m+1]-1 of movieRatings (codes = stars × 2). */
export function movieTotalsOf(t: MatrixArrays): MovieTotals {
  const count = new Uint32Array(t.nMovies);
  const sum = new Float64Array(t.nMovies);
  for (let m = 0; m < t.nMovies; m++) {
    let s = 0;
    for (let p = t.moviePtr[m]; p < t.moviePtr[m + 1]; p++) s += t.movieRatings[p];
    count[m] = t.moviePtr[m + 1] - t.moviePtr[m];
    sum[m] = s * 0.5;
  }
  return { count, sum };
}

/** The content's sections in SharedArrayBuffers (copied once, in the worker), so posting it to the server copies nothing. */
function sharedContent(content: ArtifactContent): ArtifactContent {
  const sections: Record<string, SectionArray> = {};
  for (const [name, a] of Object.entries(content.sections)) sections[name] = shareArray(a);
  return { ...content, sections };
}

/** Sections indexed by user (one row of `length / nUsers` values per user) and by movie; anything else cannot be rebased. */
const USER_SECTIONS = new Set(['userBias', 'userFactors']);
const MOVIE_SECTIONS = new Set(['movieBias', 'movieFactors', 'implicitFactors']);

/**
 * The content of a model fitted on `from` (the guard's training part) re-indexed onto `to`, a
 * matrix holding all of `from`'s ratings and more (the held-out slice): each user's and movie's
 * rows of biases and factors move to their index in `to`; users and movies that only `to` knows
 * (all their ratings were held out) get zeros, i.e. the biases-only prediction μ + b. The
 * sections come out in SharedArrayBuffers of their exact size (copied once, here), ready to be
 * posted to the server without another copy.
 */
export function rebaseContent(content: ArtifactContent, from: RatingMatrix, to: RatingMatrix): ArtifactContent {
  const same = (a: Int32Array, b: Int32Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  const sameUsers = same(from.users.ids, to.users.ids);
  const sameMovies = same(from.movies.ids, to.movies.ids);
  const sections: Record<string, SectionArray> = {};
  if (sameUsers && sameMovies) {
    // Every row is already at its index (the guard's slice keeps them: see holdoutSlice), whatever
    // the section (a ranking kind's item-item weights too).
    for (const [name, a] of Object.entries(content.sections)) sections[name] = shareArray(a);
    return { ...content, sections, fingerprint: fingerprintMatrix(to) };
  }
  for (const [name, a] of Object.entries(content.sections)) {
    const byUser = USER_SECTIONS.has(name);
    if (!byUser && !MOVIE_SECTIONS.has(name)) throw new Error(`rebaseContent: section "${name}" is neither per user nor per movie`);
    const [ids, target] = byUser ? [from.users.ids, to.users] : [from.movies.ids, to.movies];
    if ((byUser && sameUsers) || (!byUser && sameMovies)) {
      sections[name] = shareArray(a);
      continue;
    }
    const width = a.length / ids.length;
    const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => typeof a;
    const out = new Ctor(new SharedArrayBuffer(target.size * width * a.BYTES_PER_ELEMENT));
    for (let i = 0; i < ids.length; i++) out.set(a.subarray(i * width, (i + 1) * width) as never, target.indexOf(ids[i]) * width);
    sections[name] = out;
  }
  return { ...content, sections, fingerprint: fingerprintMatrix(to) };
}

/**
 * Builds the matrix (the base arrays themselves without API ratings), then fits once:
 * - checked (the default): the guard (`fitChecked`) fits on the matrix minus a seeded 2 % slice,
 *   reporting each epoch with its held-out RMSE, and goes on only if the fit did not diverge and
 *   the model beats its reference kind on the slice (otherwise throws {@link TrainingJobError}
 *   with the reason and the figures: nothing is written, the active model keeps serving). That
 *   very model is served, over the whole matrix (see {@link rebaseContent}): the one the guard
 *   measured, with no second fit after its last epoch;
 * - unchecked (the startup baseline): one fit on every rating, stopping if it diverges.
 * Its training RMSE is the last epoch's (on the ratings it was fitted on; no extra pass over
 * them, MAE not measured). Returns the model's sections in shared memory, the matrix when new
 * (its buffers to be transferred), the movie totals and `save`, which writes the artifact (when
 * asked): the worker posts the outcome first and saves after, so the server activates the model
 * without an O(ratings) step and without waiting for the disk.
 */
export async function runTrainingJob(job: TrainingJob, onProgress: (p: TrainingProgress) => void = () => {}): Promise<TrainingOutcome & { save(): void }> {
  const train = jobMatrix(job);
  const started = performance.now();
  const history: TrainingProgress[] = [];
  const progress = (p: TrainingProgress) => {
    history.push(p);
    onProgress(p);
  };
  let guard: GuardMetrics | undefined;
  let model: Predictor;
  const ranking = isRankingModel(createModel(job.kind, job.params));
  try {
    if (ranking && job.check !== false) {
      // A ranking model must beat popular's NDCG@10 on the held-out slice (the same slice as a rating model's).
      const fit = await fitCheckedRanking(job.kind, job.params, train, { onProgress: progress });
      guard = { heldOutRmse: null, heldOutRatings: fit.heldOut, referenceKind: fit.reference?.kind ?? null, referenceRmse: null, heldOutNdcg: fit.ndcg, referenceNdcg: fit.reference?.ndcg ?? null, heldOutUsers: fit.users };
      model = await restoreModel(rebaseContent(fit.model.toArtifact(), fit.train, train), train);
    } else if (job.check !== false) {
      // svd (sgd) and baseline (als) leave the slice out by a mask over the job's matrix: no training copy beside the trainer's layout.
      const fit = await fitChecked(job.kind, job.params, train, { validate: true, excludeInPlace: true, onProgress: progress });
      guard = { heldOutRmse: fit.rmse, heldOutMae: fit.mae, heldOutRatings: fit.heldOut, referenceKind: fit.reference?.kind ?? null, referenceRmse: fit.reference?.rmse ?? null };
      const content = rebaseContent((fit.model as Predictor & { toArtifact(): ArtifactContent }).toArtifact(), fit.train, train);
      model = await restoreModel(content, train);
    } else {
      model = await createModel(job.kind, job.params).fit(train, { onProgress: stopOnDivergence(job.kind, progress) });
    }
  } catch (error) {
    if (error instanceof RankingModelRejectedError) {
      throw new TrainingJobError(error.message, {
        heldOutRmse: null,
        heldOutRatings: error.heldOut,
        referenceKind: error.referenceKind,
        referenceRmse: null,
        heldOutNdcg: error.ndcg,
        referenceNdcg: Number.isFinite(error.referenceNdcg) ? error.referenceNdcg : null,
        heldOutUsers: error.users,
      });
    }
    if (error instanceof ModelRejectedError) {
      throw new TrainingJobError(error.message, { heldOutRmse: error.rmse, heldOutRatings: error.heldOut, referenceKind: error.referenceKind, referenceRmse: error.referenceRmse });
    }
    if (job.check === false) throw new TrainingJobError(error instanceof Error ? error.message : String(error));
    throw error;
  }
  const fitSeconds = (performance.now() - started) / 1000;
  // Every epoch's training RMSE was finite (stopOnDivergence, in fitChecked too).
  const trainRmse = history[history.length - 1]?.trainRmse ?? NaN;
  const content = (model as Predictor & { toArtifact(): ArtifactContent }).toArtifact();
  // The artifact is written after the model serves: make sure now that it can be (a missing or
  // unwritable model folder fails the run here, before anything is activated).
  const tmp = job.artifactPath === null ? null : `${job.artifactPath}.tmp`;
  if (tmp !== null) closeSync(openSync(tmp, 'w'));
  return {
    metrics: { trainRmse, trainMae: NaN, ratings: train.nRatings, users: train.nUsers, movies: train.nMovies, fitSeconds, ...guard },
    fingerprint: fingerprintMatrix(train),
    history,
    model: sharedContent(content),
    train: job.extra.users.length === 0 && (job.interactions?.users.length ?? 0) === 0 ? null : matrixArraysOf(train),
    movieTotals: movieTotalsOf(train),
    save: () => {
      if (tmp === null || job.artifactPath === null) return;
      saveModel(tmp, model);
      renameSync(tmp, job.artifactPath);
    },
  };
}

/** The buffers of a new training matrix, to transfer (not copy) with the outcome to the server. */
export function transferablesOf(outcome: TrainingOutcome): ArrayBuffer[] {
  const t = outcome.train;
  if (!t) return [];
  const buffers = new Set<ArrayBuffer>();
  for (const a of [t.userPtr, t.userMovies, t.userRatings, t.moviePtr, t.movieUsers, t.movieRatings, t.userIds, t.movieIds]) {
    if (a && !(a.buffer instanceof SharedArrayBuffer)) buffers.add(a.buffer as ArrayBuffer);
  }
  return [...buffers];
}
