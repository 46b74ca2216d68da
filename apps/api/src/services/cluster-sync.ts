import type { Logger } from '../logger';
import type { Cluster, ClusterEvent } from './cluster';
import type { ModelRegistry, ModelRole } from './model-registry';
import type { PredictionService } from './prediction-service';
import type { ApiStore } from './store';
import type { TrainingService } from './training-service';

/** How often a replica reads the store for rows it was not told about (a missed notification costs at most this). */
export const POLL_MS = 1_000;
/** Attempts to serve another replica's new active model before this one keeps its own until the next activation. */
export const MAX_ADOPT_ATTEMPTS = 3;
/** Every this many polls, the manifest is read again too (an `activated` event that never arrived costs at most POLL_MS × this). */
export const MANIFEST_POLLS = 5;

export interface ClusterSyncDeps {
  cluster: Cluster;
  store: Pick<ApiStore, 'pull'>;
  registry: ModelRegistry;
  predictions: PredictionService;
  training: TrainingService;
  logger: Logger;
  /** Default {@link POLL_MS}. */
  pollMs?: number;
}

/**
 * Keeps one API process in step with the others over the shared store, from the cluster's events
 * (and a poll, in case one is missed):
 * - `rating` / `interaction`: reads the new rows into the store's mirror and folds their users in
 *   again (as for this process's own rows);
 * - `run`: reads the run from the store and publishes it to this process's `trainingRunUpdated`
 *   subscribers;
 * - `activated`: reads the new rows, then the manifest, and swaps in the manifest's active model
 *   of the role (its artifact read from the shared model directory);
 * - `resync` (the event session reconnected): all of the above.
 * Each kind of work runs one at a time; events arriving meanwhile are coalesced into one more pass.
 */
export class ClusterSync {
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout | null;
  private polls = 0;
  private closed = false;
  private readonly pulling: Serial;
  private readonly following: Record<ModelRole, Serial>;
  private readonly runs = new Map<string, Serial>();
  /** The manifest's active ids when this process last served them (or when it started): a different one is a new activation. */
  private readonly seen: Record<ModelRole, string | null>;
  /** Failed attempts to serve a recorded active model, by its id. */
  private readonly failures = new Map<string | null, number>();

  constructor(private readonly deps: ClusterSyncDeps) {
    this.pulling = new Serial(() => this.pull(), (error) => deps.logger.error({ err: error }, 'reading rows stored by other replicas failed; retried at the next event or poll'));
    const follow = (role: ModelRole) =>
      new Serial(
        () => this.follow(role),
        (error) => deps.logger.error({ err: error, role }, 'adopting the active model of the shared manifest failed; retried at the next event or poll'),
      );
    this.following = { rating: follow('rating'), ranking: follow('ranking') };
    this.seen = { rating: deps.registry.recordedActiveId('rating'), ranking: deps.registry.recordedActiveId('ranking') };
    this.unsubscribe = deps.cluster.onEvent((event) => this.on(event));
    if (deps.cluster.shared) {
      this.timer = setInterval(() => this.poll(), deps.pollMs ?? POLL_MS);
      this.timer.unref();
    } else {
      this.timer = null;
    }
  }

  /** Handles one event (see the class comment); resolves when its work (and any coalesced with it) is done. */
  on(event: ClusterEvent): Promise<void> {
    if (this.closed) return Promise.resolve();
    switch (event.type) {
      case 'rating':
      case 'interaction':
        return this.pulling.run();
      case 'run':
        return this.refreshRun(event.runId);
      case 'activated':
        return this.following[event.role].run();
      case 'resync':
        return Promise.all([this.pulling.run(), this.following.rating.run(), this.following.ranking.run(), this.deps.training.refreshAll()]).then(() => undefined);
    }
  }

  private poll(): void {
    if (this.closed) return;
    this.polls++;
    void this.pulling.run();
    if (this.polls % MANIFEST_POLLS === 0) {
      void this.following.rating.run();
      void this.following.ranking.run();
      void this.deps.training.refreshAll().catch((error: unknown) => this.deps.logger.error({ err: error }, 'reading the stored training runs failed'));
    }
  }

  /** Reads what other processes stored into the store's mirror and folds their users in (e.g. before a run takes the API ratings). */
  catchUp(): Promise<void> {
    return this.pulling.run();
  }

  private async pull(): Promise<void> {
    const { ratings, interactions } = await this.deps.store.pull();
    if (ratings.length + interactions.length === 0) return;
    this.deps.predictions.absorb([...ratings, ...interactions].map((r) => r.userId));
  }

  private async follow(role: ModelRole): Promise<void> {
    // This process's own run holds the training lock: only it changes the manifest meanwhile (and
    // its model serves here before the manifest says so).
    if (this.deps.training.running) return;
    const started = performance.now();
    // The rows the new model was trained with come first: it is loaded over them.
    await this.pulling.run();
    const { registry } = this.deps;
    await registry.reload();
    // Only a new activation is adopted: a model served from a file (RECSYS_MODEL) keeps serving
    // until another replica activates one, as until a retrain on a single server.
    const id = registry.recordedActiveId(role);
    if (id === this.seen[role]) return;
    const adopted = await registry.adoptActive(role);
    const failures = registry.activeOf(role)?.id === id ? 0 : (this.failures.get(id) ?? 0) + 1;
    this.failures.set(id, failures);
    // Served, or refused MAX_ADOPT_ATTEMPTS times (logged each time; e.g. trained on rows this
    // replica holds differently): not tried again until another activation.
    if (failures === 0 || failures >= MAX_ADOPT_ATTEMPTS) {
      this.seen[role] = id;
      this.failures.delete(id);
    }
    if (adopted) this.deps.logger.info({ model: adopted.id, role, ms: Math.round(performance.now() - started) }, 'serving the model another replica activated');
  }

  private refreshRun(runId: string): Promise<void> {
    let serial = this.runs.get(runId);
    if (!serial) {
      serial = new Serial(
        async () => {
          await this.deps.training.refresh(runId);
          if (this.deps.training.get(runId)?.finishedAt) this.runs.delete(runId);
        },
        (error) => this.deps.logger.error({ err: error, run: runId }, 'reading a training run of another replica failed'),
      );
      this.runs.set(runId, serial);
    }
    return serial.run();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
  }
}

/**
 * Runs `work` one at a time: a call while it runs asks for one more pass after it (calls
 * meanwhile share that pass). A failure goes to `failed` (the returned promise still resolves).
 */
export class Serial {
  /** The last pass asked for (resolves when it is done). */
  private tail: Promise<void> = Promise.resolve();
  /** The pass asked for that has not started yet (calls until it starts share it). */
  private queued: Promise<void> | null = null;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly failed: (error: unknown) => void,
  ) {}

  run(): Promise<void> {
    if (this.queued) return this.queued;
    const pass = this.tail.then(async () => {
      this.queued = null;
      try {
        await this.work();
      } catch (error) {
        this.failed(error);
      }
    });
    this.queued = pass;
    this.tail = pass;
    return pass;
  }
}
