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
import type { Cluster, Release } from './cluster';
import type { ApiStore, SettledIds, StoredRun } from './store';
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

/** The error of a run another replica left QUEUED or RUNNING when it stopped (found so by the next holder of the training lock). */
export const ORPHANED = 'the replica running it stopped during the run';

/** Whether a run is still to finish. */
const inProgress = (status: unknown) => status === 'QUEUED' || status === 'RUNNING';

/**
 * How long a replica waits for the training lock while no run is QUEUED or RUNNING anywhere: the
 * holder's run has just finished and is storing its artifact and last state (well under a second
 * at 100M), or a run is about to be queued there. Asked again every {@link LOCK_RETRY_MS}.
 */
export const LOCK_FINISHING_WAIT_MS = 3_000;
const LOCK_RETRY_MS = 50;

/** A run's stored state: every field but its epochs (stored one row each), dates as ISO strings, and when it was written. */
function storedState(run: TrainingRunState): Record<string, unknown> {
  const { epochs: _epochs, ...state } = run;
  return { ...state, updatedAt: new Date().toISOString() };
}

/** What changes in a stored run at each write: its state's time and its epoch count. */
function versionOf(stored: StoredRun): string {
  return `${String(stored.state.updatedAt)}#${stored.epochs.length}`;
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
  /**
   * Start only when the manifest, read again once the training lock is held, records no active
   * model of this role that this process can serve; else that model is adopted,
   * {@link AlreadyTrainedError} is thrown and nothing starts. A replica's startup
   * training: another replica may have trained and activated that model between this one's last
   * look and its taking the lock.
   */
  unlessActive?: ModelRole;
}

/** Thrown by {@link TrainingService.start} with `unlessActive` when the manifest already records an active model of that role, now served here. */
export class AlreadyTrainedError extends Error {
  constructor(
    readonly role: ModelRole,
    readonly modelId: string,
  ) {
    super(`the manifest already records ${modelId} as the active ${role} model`);
    this.name = 'AlreadyTrainedError';
  }
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
  /**
   * The other API processes over the same store (absent: this process alone). A run that writes
   * the shared manifest holds its training lock while QUEUED or RUNNING; every stored change of a
   * run and every activation is announced to them.
   */
  cluster?: Cluster;
  /** Reads into the store's mirror what other processes stored, before a run takes the API ratings (see ClusterSync.catchUp). */
  catchUp?: () => Promise<void>;
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
  /** A start waiting for the cluster's training lock (asking for another meanwhile is a CONFLICT). */
  private locking = false;
  /** From a start's checks to its run being queued (the lock, the settled ids): a second start meanwhile is a CONFLICT. */
  private preparing = false;
  /** Runs of other processes as last read from the store: their `updatedAt` and epoch count (see {@link refreshAll}). */
  private readonly versions = new Map<string, string>();
  /** Runs this process started: it writes them, so it never reads them back. */
  private readonly own = new Set<string>();
  private closed = false;
  /** The store writes of runs and epochs, one after the other, so that a run's later state is never overwritten by an earlier one. */
  private writes: Promise<void> = Promise.resolve();

  /** A service with no runs yet: {@link TrainingService.open} reads the stored ones. */
  constructor(private readonly deps: TrainingServiceDeps) {}

  /**
   * The service with the stored runs read back; runs stored as QUEUED or RUNNING (the process
   * ended during the run: a restart, a crash) are FAILED with {@link INTERRUPTED}, and stored so.
   * With a shared cluster, only when the training lock is free (else another replica is running
   * one of them: it stays as it is).
   */
  static async open(deps: TrainingServiceDeps): Promise<TrainingService> {
    const service = new TrainingService(deps);
    const release = deps.cluster?.shared ? await deps.cluster.tryLockTraining() : null;
    const nobodyTrains = !deps.cluster?.shared || release !== null;
    for (const stored of await deps.store.runs()) {
      const run = runFromStore(stored);
      service.versions.set(run.id, versionOf(stored));
      if (nobodyTrains && inProgress(run.status)) {
        run.status = 'FAILED';
        run.error = INTERRUPTED;
        run.finishedAt = run.finishedAt ?? new Date(stored.state.updatedAt as string);
        service.persist(run);
      }
      service.runs.set(run.id, run);
    }
    await service.writes;
    await release?.();
    return service;
  }

  /**
   * Reads a run another process changed from the store and publishes it to this process's
   * subscribers (`trainingRunUpdated`); `trainingRun(s)` answer it from then on. This process's
   * own run is left alone (it is the one writing it).
   */
  async refresh(id: string): Promise<void> {
    if (this.own.has(id)) return;
    const stored = await this.deps.store.run(id);
    if (stored && !this.own.has(id)) this.adopt(stored);
  }

  /** Reads every stored run and publishes those that changed since last read (a missed `run` event costs one poll). */
  async refreshAll(): Promise<void> {
    for (const stored of await this.deps.store.runs()) {
      if (!this.own.has(stored.id) && this.versions.get(stored.id) !== versionOf(stored)) this.adopt(stored);
    }
  }

  private adopt(stored: StoredRun): void {
    const run = runFromStore(stored);
    this.versions.set(run.id, versionOf(stored));
    this.runs.set(run.id, run);
    this.deps.pubsub.publish(TRAINING_RUN_TOPIC, run);
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
    // A run that has SUCCEEDED (its model already serves) or FAILED may still be storing its
    // artifact, its manifest entry and its last state, and holds the training lock until then: a
    // client that polled it to SUCCEEDED and asks for the next run waits for that, not a CONFLICT.
    const finishing = this.current;
    if (finishing && !inProgress(finishing.run.status)) {
      await finishing.finished;
      if (this.closed) throw apiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    }
    const busy = this.current?.run ?? this.starting;
    if (busy) {
      throw apiError('CONFLICT', `training run ${busy.id} is ${busy.status.toLowerCase()}; wait for it to finish before asking for another`, {
        runningRunId: busy.id,
      });
    }
    if (this.locking || this.preparing) throw apiError('CONFLICT', 'a training run is being started; wait for it to finish before asking for another', { runningRunId: null });
    const persist = options.persist !== false;
    this.preparing = true;
    try {
      // A run that writes the shared manifest: one at a time across the processes over the store.
      const release = persist ? await this.lockTraining() : null;
      try {
        if (options.unlessActive) await this.refuseIfServedElsewhere(options.unlessActive);
        // The API rows through the settled ids, not the mirror's last ones: with replicas, a lower
        // id may commit after a higher one is seen, and every replica must rebuild the same
        // training matrix from the ids the run records.
        const settled = await this.deps.store.settle().catch((error: unknown) => {
          this.deps.logger.error({ err: error }, 'the store could not settle the API ratings; training run not started');
          throw apiError('SERVICE_UNAVAILABLE', 'the rating store could not be read (the server log says why): nothing was started');
        });
        return await this.begin(kind, probe.params, trigger, options, release, settled);
      } catch (error) {
        await release?.();
        throw error;
      }
    } finally {
      this.preparing = false;
    }
  }

  /**
   * {@link AlreadyTrainedError} when the manifest (read again under the lock) records an active
   * model of `role` that this process now serves (adopted here); a recorded model it cannot load
   * (artifact missing, unreadable, of another role: the registry logs why) does not count, and
   * the run goes ahead to replace it.
   */
  private async refuseIfServedElsewhere(role: ModelRole): Promise<void> {
    const { registry } = this.deps;
    const recorded = registry.recordedActiveId(role);
    if (recorded === null || !registry.record(recorded)) return;
    await registry.adoptActive(role);
    if (registry.activeOf(role)?.id === recorded) throw new AlreadyTrainedError(role, recorded);
  }

  /**
   * The cluster's training lock (without a cluster: none needed, this process runs one at a time),
   * then runs left QUEUED or RUNNING by a process that stopped are FAILED ({@link ORPHANED}), the
   * manifest and the other processes' rows are read again (the run trains on them, its record
   * joins that manifest). CONFLICT naming the run in progress elsewhere when the lock is held.
   */
  private async lockTraining(): Promise<Release | null> {
    const { cluster } = this.deps;
    if (!cluster) return null;
    this.locking = true;
    let release: Release | null = null;
    try {
      release = await cluster.tryLockTraining();
      let elsewhere: StoredRun | null = null;
      for (let waited = 0; !release; waited += LOCK_RETRY_MS) {
        elsewhere = await this.deps.store.runInProgress();
        // A run in progress there: refuse at once. None: the holder is finishing one (see LOCK_FINISHING_WAIT_MS).
        if (elsewhere || waited >= LOCK_FINISHING_WAIT_MS || this.closed) break;
        await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
        release = await cluster.tryLockTraining();
      }
      if (!release) {
        throw apiError(
          'CONFLICT',
          elsewhere
            ? `training run ${elsewhere.id} is ${String(elsewhere.state.status).toLowerCase()} on another replica; wait for it to finish before asking for another`
            : 'a training run is in progress on another replica; wait for it to finish before asking for another',
          { runningRunId: elsewhere?.id ?? null },
        );
      }
      if (cluster.shared) {
        await this.failOrphans();
        await this.deps.registry.reload();
        await this.deps.catchUp?.();
      }
      return release;
    } catch (error) {
      await release?.();
      throw error;
    } finally {
      this.locking = false;
    }
  }

  /** Runs stored as QUEUED or RUNNING while this process holds the training lock: their process stopped. FAILED, stored and announced. */
  private async failOrphans(): Promise<void> {
    for (const stored of await this.deps.store.runs()) {
      if (!inProgress(stored.state.status)) continue;
      const run = runFromStore(stored);
      run.status = 'FAILED';
      run.error = ORPHANED;
      run.finishedAt = new Date();
      this.runs.set(run.id, run);
      this.deps.logger.warn({ run: run.id, kind: run.kind }, 'training run of a replica that stopped: FAILED');
      this.publish(run);
    }
    await this.writes;
  }

  /** Queues the run (its parameters checked, the lock held when it needs one) and starts its worker; `release` is called when it ends. */
  private async begin(kind: string, params: Record<string, unknown>, trigger: TrainingTrigger, options: RunOptions, release: Release | null, settled: SettledIds): Promise<TrainingRunState> {
    const full = { ...params } as Record<string, unknown>;
    const probe = createModel(kind, full);
    const { store, registry, base } = this.deps;
    // Every API rating so far (and, for a ranking kind, every interaction): the same rows the
    // registry adds back when it loads the model.
    const extra = apiRatingsThrough(store, settled.ratingsThroughId);
    const role: ModelRole = isRankingModel(probe) ? 'ranking' : 'rating';
    const interactionsThroughId = role === 'ranking' ? settled.interactionsThroughId : 0;
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
      ratingsThroughId: settled.ratingsThroughId,
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
    const { cluster } = this.deps;
    const artifactPath = persist ? registry.artifactPath(modelId) : null;
    // The base ratings go to the worker in shared memory, read in place (the server shared them
    // once at startup; sharedMatrixArrays then only checks): no O(ratings) step before the answer.
    const job: TrainingJob = { kind, params: full, base: sharedMatrixArrays(base), extra, interactions, artifactPath, check: options.check !== false, nice: this.deps.nice ?? 0 };
    // Stored before anything starts: a run the store cannot keep is not run (nothing else is lost).
    this.starting = run;
    this.own.add(run.id);
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
            // Finished once its last state is stored; then the next run may start on any replica.
            await this.writes;
            await release?.().catch((error: unknown) => this.deps.logger.error({ err: error, run: run.id }, 'releasing the training lock failed (its session ends with the process)'));
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
          this.afterWrites(() => this.announce(run));
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
            if (record && persist) {
              await registry.store(record);
              // Recorded as the active model of its role: the other replicas load it from the model directory.
              if (registry.activeOf(role)?.id === record.id) void cluster?.notify({ type: 'activated', role, modelId: record.id });
            }
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
    // A run the server stops on its way down is no fault to alert on: a warning, not an error.
    if (this.closed && run.error === INTERRUPTED) this.deps.logger.warn({ run: run.id, error: run.error }, 'training run stopped with the server; a restart does not resume it');
    else this.deps.logger.error({ run: run.id, error: run.error, guard: run.guard }, 'training run failed; the active model keeps serving');
    this.publish(run);
  }

  /** Publishes a run's new state to subscribers, once stored (see {@link persist}). */
  private publish(run: TrainingRunState): void {
    this.persist(run);
    this.afterWrites(() => this.announce(run));
  }

  /** Publishes a stored state of the run to this process's subscribers and tells the other processes (which read it from the store). */
  private announce(run: TrainingRunState): void {
    this.deps.pubsub.publish(TRAINING_RUN_TOPIC, run);
    void this.deps.cluster?.notify({ type: 'run', runId: run.id });
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
