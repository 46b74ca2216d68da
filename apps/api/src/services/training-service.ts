import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { MatrixArrays, workerScript } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';
import { createModel, isRankingModel, TrainingProgress } from '@recsys/models';
import { apiError } from '../errors';
import type { Logger } from '../logger';
import { ModelRecord, ModelRegistry, ModelRole, newModelId, rememberMovieTotals } from './model-registry';
import { localArrays, sharedMatrixArrays } from './shared-data';
import type { ApiPubSub } from './pubsub';
import type { ApiStore, StoredRun } from './store';
import { apiInteractionsThrough, apiRatingsThrough } from './training-data';
import { GuardMetrics, TrainingJob, TrainingMessage } from './training-job';

export type TrainingStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
export type TrainingTrigger = 'STARTUP' | 'API';

/** Topic of `trainingRunUpdated`: every status change and every epoch. */
export const TRAINING_RUN_TOPIC = 'TRAINING_RUN_UPDATED';

/** One training run as the API reports it. */
export interface TrainingRunState {
  id: string;
  status: TrainingStatus;
  trigger: TrainingTrigger;
  kind: string;
  /** The role its model takes when it succeeds: rating (predictions) or ranking (recommendation lists). */
  role: ModelRole;
  /** Full parameters (the kind's defaults for every one not given). */
  params: Record<string, unknown>;
  /** Epochs (or iterations) the parameters ask for. */
  totalEpochs: number | null;
  /** Progress of every finished epoch. */
  epochs: TrainingProgress[];
  /** API ratings included (row ids ≤ ratingsThroughId). */
  apiRatings: number;
  ratingsThroughId: number;
  /** API interactions included (ranking kinds only; row ids ≤ interactionsThroughId). */
  apiInteractions: number;
  interactionsThroughId: number;
  error: string | null;
  /** What the guard measured on the held-out slice (null until it has, or when it never got that far). */
  guard: GuardMetrics | null;
  modelId: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The error of a run that was QUEUED or RUNNING when the server stopped (found so at the next start). */
export const INTERRUPTED = 'the server stopped during the run';

/** A run's stored state: every field but its epochs (stored one row each), dates as ISO strings, and when it was written. */
function storedState(run: TrainingRunState): Record<string, unknown> {
  const { epochs: _epochs, ...state } = run;
  return { ...state, updatedAt: new Date().toISOString() };
}

/** A run as the store gave it back (dates revived). */
function runFromStore(stored: StoredRun): TrainingRunState {
  const { updatedAt: _updatedAt, ...s } = stored.state as unknown as Omit<TrainingRunState, 'queuedAt' | 'startedAt' | 'finishedAt' | 'epochs'> & {
    queuedAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    updatedAt: string;
  };
  const date = (x: string | null) => (x === null ? null : new Date(x));
  return {
    ...s,
    id: stored.id,
    epochs: stored.epochs as unknown as TrainingProgress[],
    queuedAt: new Date(s.queuedAt),
    startedAt: date(s.startedAt),
    finishedAt: date(s.finishedAt),
  };
}

/** How a run goes beyond its kind and parameters. */
export interface RunOptions {
  /** Run the guard before the final fit (default true); the startup baseline skips it to serve within seconds. */
  check?: boolean;
  /** Write the artifact and record the model in the manifest (default true); false: it serves from memory only. */
  persist?: boolean;
}

export interface TrainingServiceDeps {
  registry: ModelRegistry;
  store: ApiStore;
  /** The loaded data set's ratings, ids and scale (the API ratings are added per run), in shared memory (see shareDataset). */
  base: MatrixArrays;
  /** The loaded data set's matrix over those arrays: what a model trained without API ratings serves over. */
  matrix: RatingMatrix;
  pubsub: ApiPubSub;
  logger: Logger;
  /** Nice value of the training threads (see TRAINING_NICE); default 0. */
  nice?: number;
}

/**
 * Runs trainings one at a time in a worker thread. A run is QUEUED when accepted, RUNNING once
 * its worker is online, then SUCCEEDED (its model passed the guard and is now the active one of
 * its role: a rating kind's replaces the rating model, a ranking kind's the ranking model) or
 * FAILED (the fit diverged, the model did not beat its reference on held-out ratings, or anything
 * else went wrong: the active model is unchanged and the run keeps the reason). Asking for a run
 * while one is queued or running is refused with a CONFLICT error.
 */
export class TrainingService {
  private readonly runs = new Map<string, TrainingRunState>();
  private current: { run: TrainingRunState; worker: Worker; finished: Promise<void> } | null = null;
  /** A run being stored before its worker starts (see {@link start}): asking for another meanwhile is a CONFLICT. */
  private starting: TrainingRunState | null = null;
  private closed = false;
  /** The store writes of runs and epochs, one after the other, so that a run's later state is never overwritten by an earlier one. */
  private writes: Promise<void> = Promise.resolve();

  /** A service with no runs yet: {@link TrainingService.open} reads the stored ones. */
  constructor(private readonly deps: TrainingServiceDeps) {}

  /**
   * The service with the stored runs read back; runs stored as QUEUED or RUNNING (the process
   * ended during the run: a restart, a crash) are FAILED with {@link INTERRUPTED}, and stored so.
   */
  static async open(deps: TrainingServiceDeps): Promise<TrainingService> {
    const service = new TrainingService(deps);
    for (const stored of await deps.store.runs()) {
      const run = runFromStore(stored);
      if (run.status === 'QUEUED' || run.status === 'RUNNING') {
        run.status = 'FAILED';
        run.error = INTERRUPTED;
        run.finishedAt = run.finishedAt ?? new Date(stored.state.updatedAt as string);
        service.persist(run);
      }
      service.runs.set(run.id, run);
    }
    await service.writes;
    return service;
  }

  get(id: string): TrainingRunState | undefined {
    return this.runs.get(id);
  }

  /** Runs, newest first. */
  list(): TrainingRunState[] {
    return [...this.runs.values()].reverse();
  }

  /** The queued or running run, if any. */
  get running(): TrainingRunState | null {
    return this.current?.run ?? null;
  }

  /**
   * Validates the parameters (an unknown kind, parameter or bad value throws a RangeError before
   * anything is queued), stores the run (a run the store cannot write is refused with
   * SERVICE_UNAVAILABLE: nothing starts), then queues it and starts its worker.
   */
  async start(kind: string, params: Record<string, unknown>, trigger: TrainingTrigger, options: RunOptions = {}): Promise<TrainingRunState> {
    if (this.closed) throw apiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    const probe = createModel(kind, params);
    const busy = this.current?.run ?? this.starting;
    if (busy) {
      throw apiError('CONFLICT', `training run ${busy.id} is ${busy.status.toLowerCase()}; wait for it to finish before asking for another`, {
        runningRunId: busy.id,
      });
    }
    const full = { ...probe.params } as Record<string, unknown>;
    const { store, registry, base } = this.deps;
    // Every API rating so far (and, for a ranking kind, every interaction): the same rows the
    // registry adds back when it loads the model.
    const extra = apiRatingsThrough(store, store.lastId);
    const role: ModelRole = isRankingModel(probe) ? 'ranking' : 'rating';
    const interactionsThroughId = role === 'ranking' ? store.lastInteractionId : 0;
    const interactions = apiInteractionsThrough(store, interactionsThroughId);
    const run: TrainingRunState = {
      id: randomUUID(),
      status: 'QUEUED',
      trigger,
      kind,
      role,
      params: full,
      totalEpochs: typeof full.epochs === 'number' ? full.epochs : null,
      epochs: [],
      apiRatings: extra.users.length,
      ratingsThroughId: store.lastId,
      apiInteractions: interactions.users.length,
      interactionsThroughId,
      error: null,
      guard: null,
      modelId: null,
      queuedAt: new Date(),
      startedAt: null,
      finishedAt: null,
    };
    const modelId = newModelId(kind);
    const persist = options.persist !== false;
    const artifactPath = persist ? registry.artifactPath(modelId) : null;
    // The base ratings go to the worker in shared memory, read in place (the server shared them
    // once at startup; sharedMatrixArrays then only checks): no O(ratings) step before the answer.
    const job: TrainingJob = { kind, params: full, base: sharedMatrixArrays(base), extra, interactions, artifactPath, check: options.check !== false, nice: this.deps.nice ?? 0 };
    // Stored before anything starts: a run the store cannot keep is not run (nothing else is lost).
    this.starting = run;
    try {
      await this.deps.store.saveRun(run.id, storedState(run));
    } catch (error) {
      this.deps.logger.error({ err: error, run: run.id }, 'training run not stored; not started');
      throw apiError('SERVICE_UNAVAILABLE', 'the training run could not be stored (the server log says why): nothing was started');
    } finally {
      this.starting = null;
    }
    if (this.closed) {
      // Closed while the run was being stored: it never starts.
      run.status = 'FAILED';
      run.error = INTERRUPTED;
      run.finishedAt = new Date();
      this.runs.set(run.id, run);
      this.persist(run);
      await this.writes;
      throw apiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    }
    const script = workerScript(__dirname, 'training-worker');
    const worker = new Worker(script.filename, { ...script.options, workerData: job });
    this.runs.set(run.id, run);
    this.publish(run);
    this.deps.logger.info({ run: run.id, kind, role, params: full, apiRatings: extra.users.length, apiInteractions: interactions.users.length, trigger }, 'training run queued');
    const finished = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (fn: () => Promise<void> | void) => {
        if (settled) return;
        settled = true;
        void Promise.resolve()
          .then(fn)
          .catch((error: unknown) => this.fail(run, error))
          .finally(async () => {
            if (this.current?.run === run) this.current = null;
            void worker.terminate();
            // Finished once its last state is stored.
            await this.writes;
            resolve();
          });
      };
      worker.on('online', () => {
        if (run.status !== 'QUEUED') return;
        run.status = 'RUNNING';
        run.startedAt = new Date();
        this.publish(run);
      });
      let activated: Promise<ModelRecord | null> | null = null;
      worker.on('message', (message: TrainingMessage) => {
        if (message.type === 'progress') {
          run.epochs.push(message.progress);
          // One row for the epoch (the run's own row changes at status changes only): one fsync per epoch.
          this.persistEpoch(run);
          this.afterWrites(() => this.deps.pubsub.publish(TRAINING_RUN_TOPIC, run));
        } else if (message.type === 'error') {
          if (activated) {
            // The model serves; only its artifact could not be written (it is not stored).
            settle(() => this.deps.logger.error({ run: run.id, model: modelId, error: message.message }, 'the model serves but its artifact was not written; a restart will not restore it'));
            return;
          }
          run.guard = message.guard ?? null;
          settle(() => this.fail(run, new Error(message.message)));
        } else if (message.type === 'done') {
          const outcome = message.outcome;
          const m = outcome.metrics;
          if (m.heldOutRatings !== undefined) {
            run.guard = {
              heldOutRmse: m.heldOutRmse ?? null,
              heldOutMae: m.heldOutMae ?? null,
              heldOutRatings: m.heldOutRatings,
              referenceKind: m.referenceKind ?? null,
              referenceRmse: m.referenceRmse ?? null,
              heldOutNdcg: m.heldOutNdcg ?? null,
              referenceNdcg: m.referenceNdcg ?? null,
              heldOutUsers: m.heldOutUsers ?? null,
            };
          }
          const record: ModelRecord = {
            id: modelId,
            kind,
            role,
            params: full,
            trainedAt: new Date().toISOString(),
            metrics: outcome.metrics,
            fingerprint: outcome.fingerprint,
            baseCrc32: registry.baseCrc32,
            ratingsThroughId: run.ratingsThroughId,
            interactionsThroughId: run.interactionsThroughId,
            file: persist ? `${modelId}.rmodel` : '',
            history: outcome.history,
            trainingRunId: run.id,
          };
          // The new matrix's buffers were transferred and the factors are shared: no copy, no
          // O(ratings) pass here. Served at once; recorded in the manifest once its artifact is written.
          activated = (async () => {
            const train = outcome.train ? RatingMatrix.fromArrays(localArrays(outcome.train)) : this.deps.matrix;
            rememberMovieTotals(train, localArrays(outcome.movieTotals));
            await registry.activateFitted(record, { ...outcome.model, sections: localArrays(outcome.model.sections) }, train, false);
            run.status = 'SUCCEEDED';
            run.modelId = modelId;
            run.finishedAt = new Date();
            if (!run.startedAt) run.startedAt = run.finishedAt;
            this.deps.logger.info({ run: run.id, model: modelId, metrics: record.metrics }, 'training run succeeded; model activated');
            this.publish(run);
            return record;
          })().catch((error: unknown) => {
            settle(() => this.fail(run, error));
            return null;
          });
        } else {
          settle(async () => {
            const record = await activated;
            if (record && persist) await registry.store(record);
          });
        }
      });
      worker.on('error', (error) => settle(() => this.fail(run, error)));
      worker.on('exit', (code) => settle(() => this.fail(run, new Error(this.closed ? INTERRUPTED : `the training worker exited with code ${code}`))));
    });
    this.current = { run, worker, finished };
    return run;
  }

  private fail(run: TrainingRunState, error: unknown): void {
    run.status = 'FAILED';
    run.error = error instanceof Error ? error.message : String(error);
    run.finishedAt = new Date();
    this.deps.logger.error({ run: run.id, error: run.error, guard: run.guard }, 'training run failed; the active model keeps serving');
    this.publish(run);
  }

  /** Publishes a run's new state to subscribers, once stored (see {@link persist}). */
  private publish(run: TrainingRunState): void {
    this.persist(run);
    this.afterWrites(() => this.deps.pubsub.publish(TRAINING_RUN_TOPIC, run));
  }

  /** Runs `then` once the store writes asked for so far are done (whether they succeeded or not). */
  private afterWrites(then: () => void): void {
    this.writes = this.writes.then(then).catch((error: unknown) => this.deps.logger.error({ err: error }, 'publishing a training run update failed'));
  }

  /**
   * Stores the run's state as it is now (durably; after the writes asked for before). A failed
   * write is logged with the reason and the run goes on: it still serves from memory, and its
   * stored row keeps the last state that was written.
   */
  private persist(run: TrainingRunState): void {
    const state = storedState(run);
    const status = run.status;
    this.writes = this.writes.then(() =>
      this.deps.store.saveRun(run.id, state).catch((error: unknown) => {
        this.deps.logger.error({ err: error, run: run.id, status }, 'training run state not stored');
      }),
    );
  }

  /** Stores the run's newest epoch (as {@link persist}: a failure is logged, the run goes on). */
  private persistEpoch(run: TrainingRunState): void {
    const epoch = run.epochs.length;
    const progress = run.epochs[epoch - 1] as unknown as Record<string, unknown>;
    this.writes = this.writes.then(() =>
      this.deps.store.saveEpoch(run.id, epoch, progress).catch((error: unknown) => {
        this.deps.logger.error({ err: error, run: run.id, epoch }, 'training run epoch not stored');
      }),
    );
  }

  /** Resolves when the run (if it is the current one) has finished, whatever its outcome. */
  async waitFor(run: TrainingRunState): Promise<void> {
    if (this.current?.run === run) await this.current.finished;
  }

  /** Stops a running training (its run fails) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    if (current) {
      await current.worker.terminate();
      await current.finished;
    }
    await this.writes;
  }
}
