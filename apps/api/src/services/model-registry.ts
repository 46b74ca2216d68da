import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, isAbsolute, resolve, sep } from 'node:path';
import { RatingMatrix, SnapshotError } from '@recsys/data';
import { ArtifactContent, DataFingerprint, fingerprintMatrix, FoldedUser, isRankingModel, LatentModel, loadModelArtifact, ModelNeighbour, Predictor, RankingModel, RankingUser, readModelArtifact, restoreModel, sameFingerprint, TrainingProgress } from '@recsys/models';
import type { Logger } from '../logger';
import type { Manifest, ManifestStore } from './store';
import { MovieTotals, movieTotalsOf, TrainingMetrics } from './training-job';

/**
 * What a served model is for: `rating` (predictions and explanations: a latent-factor model that
 * folds in ratings) or `ranking` (recommendation lists and similar movies by the model: a
 * RankingModel). One model of each role is active at a time, each swapped on its own.
 */
export type ModelRole = 'rating' | 'ranking';

/** The models the API serves: latent-factor models (rating role) and ranking models. */
export type ServedModel = LatentModel | RankingModel;

/** The role of a model the API can serve; throws for any other. */
export function roleOf(model: Predictor, where: string): ModelRole {
  if (isRankingModel(model)) return 'ranking';
  if (model instanceof LatentModel) return 'rating';
  throw new UnusableArtifactError(`${where} holds a ${model.kind} model; the API serves latent-factor models (baseline, svd, svdpp) and ranking models (popular, ease, ials, bpr)`);
}

/** What the manifest records of one trained model. */
export interface ModelRecord {
  id: string;
  kind: string;
  /** Absent in manifests written before ranking models served: `rating`. */
  role?: ModelRole;
  params: Record<string, unknown>;
  /** ISO 8601. */
  trainedAt: string;
  metrics: TrainingMetrics;
  /** Fingerprint of the training matrix (the data set plus the API ratings up to `ratingsThroughId`). */
  fingerprint: DataFingerprint;
  /** CRC-32 of the loaded data set alone: a model is served only over the data it was trained from. */
  baseCrc32: string;
  /** The API ratings with row ids ≤ this are in the training matrix; later ones are folded in. */
  ratingsThroughId: number;
  /** Ranking models: the API interactions with row ids ≤ this are in the training matrix (absent: 0, none). */
  interactionsThroughId?: number;
  /** Artifact file name inside the model directory. */
  file: string;
  history: TrainingProgress[];
  trainingRunId: string | null;
}

/** The role of a record (`rating` for records written before roles existed). */
export function recordRole(r: ModelRecord): ModelRole {
  return r.role ?? 'rating';
}

/**
 * A loaded model with what serving keeps beside it: per-movie rating totals of its training matrix
 * and the fold-ins of users with API ratings (or interactions) newer than the model. It holds no
 * copy of the model's biases, factors or weights: predictions, fold-in, lists and explanations
 * are the model's own verbs.
 */
export class ServingModel<M extends ServedModel = LatentModel> {
  /** Rating role: userId → the user refitted from their ratings including API ratings newer than the model. */
  readonly foldIns = new Map<number, FoldedUser>();
  /** Ranking role: userId → the user folded in from their entries including API ratings and interactions newer than the model. */
  readonly rankingUsers = new Map<number, RankingUser>();
  /**
   * Ranking role: movie index → its 100 nearest by the model's own similarity (similarMovies(metric:
   * MODEL) slices it), computed once per movie: popular's co-occurrence counts cost up to 0.3 CPU s
   * for the most-rated movie at 100M ratings. At most {@link MAX_SIMILAR_CACHED} movies, the oldest dropped.
   */
  readonly similarCache = new Map<number, ModelNeighbour[]>();

  constructor(
    readonly record: ModelRecord,
    readonly model: M,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get role(): ModelRole {
    return isRankingModel(this.model) ? 'ranking' : 'rating';
  }

  /** Drops the user's cached fold-ins (after a new rating or interaction). */
  forget(userId: number): void {
    this.foldIns.delete(userId);
    this.rankingUsers.delete(userId);
  }

  get train(): RatingMatrix {
    return this.model.train;
  }

  /**
   * Count and sum (stars) of each movie's training ratings: computed once per training matrix
   * (models over the same matrix share them), or handed over by the training worker that built
   * the matrix (see {@link rememberMovieTotals}), so a swap costs the event loop no O(ratings) pass.
   */
  movieRatingTotals(): MovieTotals {
    let totals = movieTotalsByMatrix.get(this.train);
    if (!totals) movieTotalsByMatrix.set(this.train, (totals = movieTotalsOf(this.train)));
    return totals;
  }
}

/** Movies whose model neighbours a ranking {@link ServingModel} keeps (≤ 100 each: ~2 kB). */
export const MAX_SIMILAR_CACHED = 5_000;

/** The movie totals of each training matrix already counted (see {@link ServingModel.movieRatingTotals}). */
const movieTotalsByMatrix = new WeakMap<RatingMatrix, MovieTotals>();

/** Records the movie totals a worker counted for `train` (as {@link movieTotalsOf} counts them). */
export function rememberMovieTotals(train: RatingMatrix, totals: MovieTotals): void {
  if (totals.count.length !== train.nMovies || totals.sum.length !== train.nMovies) throw new Error(`movie totals of ${totals.count.length} movies for a matrix of ${train.nMovies}`);
  movieTotalsByMatrix.set(train, totals);
}

/** A new model id: kind, time (base 36) and 4 random hex digits, e.g. `svd-m3k2x1a0-9f3c`. */
export function newModelId(kind: string): string {
  return `${kind}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}

/**
 * Why `name` is not a plain file name inside the model directory, or null when it is one: no path
 * separator (`/` or `\\`), no `..`, not absolute, no NUL or other control byte, not empty, at most
 * 255 characters. Manifest entries name artifacts this way only: a hand-edited or hostile
 * manifest must not make the server open or delete anything outside its model directory.
 */
export function unsafeFileName(name: unknown): string | null {
  if (typeof name !== 'string') return `not a string (${typeof name})`;
  if (name.length === 0 || name.length > 255) return 'empty or longer than 255 characters';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'holds a NUL or control byte';
  if (name.includes('/') || name.includes('\\')) return 'holds a path separator';
  if (name.includes('..')) return 'holds ".."';
  if (isAbsolute(name) || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name === '.') return 'is "."';
  return null;
}


/** A fingerprint as a person reads it: counts and CRC-32. */
function describe(f: DataFingerprint): string {
  return `${f.ratings.toLocaleString('en-US')} ratings, ${f.users.toLocaleString('en-US')} users, ${f.movies.toLocaleString('en-US')} movies, CRC-32 ${f.crc32}`;
}

/** An artifact that must not be served: outside the model directory, or trained on other data. */
export class UnusableArtifactError extends Error {
  override readonly name = 'UnusableArtifactError';
}

/** How many models of a data set keep their artifacts (besides the active one). */
const KEEP_MODELS = 6;
/** Inactive models kept loaded after a query named them. */
const KEEP_LOADED = 2;

/**
 * The models of this data set: their manifest (a {@link ManifestStore}: `manifest.json` in the
 * model directory, or PostgreSQL's tables; replaced atomically) and the active model, which
 * `activate` swaps in one assignment, so a request sees either the old model or the new one,
 * never a mix. Open it with {@link ModelRegistry.open} (reads the manifest); {@link reload}
 * re-reads it (another replica activated a model) without loading any artifact.
 *
 * Files: every manifest entry names its artifact by a plain file name inside the directory
 * ({@link unsafeFileName}); entries that do not are dropped when the manifest is read (with a log
 * line naming them) and checked again before any open or delete. Data: an artifact is served only
 * when its data fingerprint is the record's, and, for a model trained without API ratings, the
 * loaded data's own; otherwise it is refused with a warning (at startup a new model is trained).
 */
export class ModelRegistry {
  private manifest: Manifest = { activeId: null, models: [] };
  private activeModel: ServingModel | null = null;
  private activeRankingModel: ServingModel<RankingModel> | null = null;
  private readonly loaded = new Map<string, ServingModel<ServedModel>>();
  private readonly activationListeners: Array<(serving: ServingModel) => void> = [];
  /** Manifest writes, one after the other (each writes the manifest as it was when asked). */
  private writes: Promise<void> = Promise.resolve();

  /** CRC-32 of the loaded data set: the records of other data sets are ignored. */
  readonly baseCrc32: string;

  /**
   * @param base fingerprint of the loaded data set (without API ratings): records of other data
   *   sets are ignored, and a model trained without API ratings must have been trained on exactly it.
   *   The manifest is empty until {@link reload} (see {@link ModelRegistry.open}).
   */
  constructor(
    readonly dir: string,
    readonly base: DataFingerprint,
    private readonly logger: Logger,
    /** The ratings a model saw (the data set plus the API ratings, and for ranking models interactions, up to an id): artifacts do not hold them. */
    readonly trainingData: (ratingsThroughId: number, interactionsThroughId?: number) => RatingMatrix,
    /** Where the manifest is read from and written to. */
    readonly manifests: ManifestStore,
  ) {
    this.baseCrc32 = base.crc32;
    mkdirSync(dir, { recursive: true });
  }

  /** A registry over `manifests`, with the manifest read (see {@link reload}). */
  static async open(
    dir: string,
    base: DataFingerprint,
    logger: Logger,
    trainingData: (ratingsThroughId: number, interactionsThroughId?: number) => RatingMatrix,
    manifests: ManifestStore,
  ): Promise<ModelRegistry> {
    const registry = new ModelRegistry(dir, base, logger, trainingData, manifests);
    await registry.reload();
    return registry;
  }

  /**
   * Reads the manifest again (e.g. after another replica activated a model): record lookups and
   * {@link restoreActive} answer from it; no artifact is loaded and the active models stay as they
   * are. Entries whose file is not a plain file name inside the model directory are dropped with a
   * warning naming them; an active id without its record reads as none.
   */
  async reload(): Promise<void> {
    const m = (await this.manifests.read()) ?? { activeId: null, models: [] };
    const where = this.manifests.location;
    const models = m.models.filter((r) => {
      const problem = r === null || typeof r !== 'object' ? 'not an object' : typeof r.id !== 'string' ? 'no string id' : unsafeFileName(r.file);
      if (problem !== null) {
        this.logger.warn({ file: where, entry: r === null || typeof r !== 'object' ? r : { id: r.id, file: r.file }, problem }, 'model manifest entry refused: its file is not a plain file name inside the model directory');
      }
      return problem === null;
    });
    const known = (id: unknown) => (typeof id === 'string' && models.some((r) => r.id === id) ? id : null);
    this.manifest = { activeId: known(m.activeId), activeRankingId: known(m.activeRankingId), models };
    for (const id of [...this.loaded.keys()]) if (!models.some((r) => r.id === id)) this.loaded.delete(id);
  }

  /** Writes the manifest as it is now, after the writes asked for before (rejects when this one fails). */
  private writeManifest(): Promise<void> {
    const snapshot: Manifest = { ...this.manifest, models: [...this.manifest.models] };
    const write = this.writes.then(() => this.manifests.write(snapshot));
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** The rating model serving predictions (null only before startup finished). */
  get active(): ServingModel | null {
    return this.activeModel;
  }

  /** The active rating model, for services running after startup (throws before). */
  requireActive(): ServingModel {
    if (!this.activeModel) throw new Error('no active model yet');
    return this.activeModel;
  }

  /** The ranking model serving recommendation lists (null only before startup finished). */
  get activeRanking(): ServingModel<RankingModel> | null {
    return this.activeRankingModel;
  }

  /** The active ranking model, for services running after startup (throws before). */
  requireActiveRanking(): ServingModel<RankingModel> {
    if (!this.activeRankingModel) throw new Error('no active ranking model yet');
    return this.activeRankingModel;
  }

  /** The active model of a role. */
  activeOf(role: ModelRole): ServingModel<ServedModel> | null {
    return role === 'ranking' ? this.activeRankingModel : this.activeModel;
  }

  /** Makes `serving` the active model of its role (one assignment). */
  private setActive(serving: ServingModel<ServedModel>): void {
    if (isRankingModel(serving.model)) this.activeRankingModel = serving as ServingModel<RankingModel>;
    else this.activeModel = serving as ServingModel;
  }

  /** The manifest's active id of `role` set to `id`. */
  private setManifestActive(role: ModelRole, id: string): void {
    if (role === 'ranking') this.manifest.activeRankingId = id;
    else this.manifest.activeId = id;
  }

  /** Calls `listener` with the new active rating model each time `activate` swaps one in (not at `restoreActive`; ranking models need no similarity pool). */
  onActivated(listener: (serving: ServingModel) => void): void {
    this.activationListeners.push(listener);
  }

  /** Models trained on this data set, newest first. */
  records(): ModelRecord[] {
    return this.manifest.models.filter((r) => r.baseCrc32 === this.baseCrc32).sort((a, b) => (a.trainedAt < b.trainedAt ? 1 : a.trainedAt > b.trainedAt ? -1 : 0));
  }

  record(id: string): ModelRecord | undefined {
    return this.manifest.models.find((r) => r.id === id && r.baseCrc32 === this.baseCrc32);
  }

  /** The stored model `id`, or an active one when that is `id` (the startup baselines serve without being stored). */
  servedRecord(id: string): ModelRecord | undefined {
    return this.record(id) ?? [this.activeModel, this.activeRankingModel].find((s) => s?.id === id)?.record;
  }

  artifactPath(id: string): string {
    return this.pathOf(`${id}.rmodel`, id);
  }

  /** The path of a file inside the model directory; refuses (and logs) a name that is not a plain file name. */
  private pathOf(file: string, id: string): string {
    const problem = unsafeFileName(file);
    const root = resolve(this.dir);
    const path = resolve(root, file);
    if (problem !== null || !path.startsWith(root + sep)) {
      this.logger.warn({ model: id, entry: file, problem: problem ?? 'resolves outside the model directory' }, 'model file refused: not a plain file name inside the model directory');
      throw new UnusableArtifactError(`model ${id}: its file is not a plain file name inside the model directory`);
    }
    return path;
  }

  /**
   * Loads a record's artifact and checks that it is the model the record describes, trained on
   * this data: the artifact's data fingerprint must be the record's, and, for a model trained
   * without API ratings, the loaded data set's own.
   */
  private async load(record: ModelRecord): Promise<ServingModel<ServedModel>> {
    const interactionsThroughId = record.interactionsThroughId ?? 0;
    const expected = record.ratingsThroughId === 0 && interactionsThroughId === 0 ? this.base : record.fingerprint;
    const refuse = (found: DataFingerprint | null, detail: string): never => {
      this.logger.warn({ model: record.id, file: record.file, artifactFingerprint: found, expectedFingerprint: expected }, 'model artifact trained on other data than the data served: refused');
      throw new UnusableArtifactError(`model ${record.id}: its artifact was trained on other data (${detail})`);
    };
    const path = this.pathOf(record.file, record.id);
    let loaded: Awaited<ReturnType<typeof loadModelArtifact>>;
    try {
      // The artifact holds no ratings: it is loaded over the ratings it names (data set + API ratings).
      loaded = await loadModelArtifact(path, this.trainingData(record.ratingsThroughId, interactionsThroughId));
    } catch (error) {
      if (error instanceof SnapshotError && /trained on other data/.test(error.message)) refuse(readModelArtifact(path).fingerprint, error.reason);
      throw error;
    }
    const { model, artifact } = loaded;
    const found = artifact.fingerprint;
    if (!sameFingerprint(found, record.fingerprint) || !sameFingerprint(found, expected)) {
      refuse(found, `fingerprint ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}`);
    }
    if (roleOf(model, `model ${record.id}`) !== recordRole(record)) throw new UnusableArtifactError(`model ${record.id}: its artifact holds a ${model.kind} model, not one of the ${recordRole(record)} role its record names`);
    return new ServingModel<ServedModel>(record, model as ServedModel);
  }

  /**
   * At startup: the manifest's active model of `role` (default rating) when it was trained on
   * this data set and its artifact loads; otherwise null (the caller trains one).
   */
  async restoreActive(role: ModelRole = 'rating'): Promise<ServingModel<ServedModel> | null> {
    const id = role === 'ranking' ? this.manifest.activeRankingId : this.manifest.activeId;
    const record = id ? this.record(id) : undefined;
    if (!record) return null;
    try {
      const serving = await this.load(record);
      if (serving.role !== role) throw new UnusableArtifactError(`model ${record.id} is a ${serving.role} model, recorded as the active ${role} model`);
      this.setActive(serving);
      return serving;
    } catch (error) {
      this.logger.warn({ model: record.id, role, err: error }, 'stored model unusable; a new one will be trained');
      return null;
    }
  }

  /** The active model of `role` (default rating), or the model with this id of either role (loaded on demand); null when unknown. */
  async serving(id?: string | null, role: ModelRole = 'rating'): Promise<ServingModel<ServedModel> | null> {
    if (!id) return this.activeOf(role);
    const active = [this.activeModel, this.activeRankingModel].find((s) => s?.id === id);
    if (active) return active;
    const cached = this.loaded.get(id);
    if (cached) return cached;
    const record = this.record(id);
    if (!record) return null;
    let serving: ServingModel<ServedModel>;
    try {
      serving = await this.load(record);
    } catch (error) {
      // Never served: as if the model did not exist (the warning is logged).
      if (error instanceof UnusableArtifactError) return null;
      throw error;
    }
    this.loaded.set(id, serving);
    while (this.loaded.size > KEEP_LOADED) this.loaded.delete(this.loaded.keys().next().value as string);
    return serving;
  }

  /** Every loaded model (the active ones first), e.g. to drop a user's stale fold-ins. */
  loadedModels(): Array<ServingModel<ServedModel>> {
    const models: Array<ServingModel<ServedModel>> = [];
    if (this.activeModel) models.push(this.activeModel);
    if (this.activeRankingModel) models.push(this.activeRankingModel);
    return [...models, ...this.loaded.values()];
  }

  /**
   * Loads a freshly written artifact, records it and makes it the active model of its role (one
   * assignment), then saves the manifest and removes the artifacts of the oldest models.
   */
  async activate(record: ModelRecord): Promise<ServingModel<ServedModel>> {
    const serving = await this.load(record);
    this.manifest.models.push(record);
    this.swapIn(serving);
    this.setManifestActive(serving.role, record.id);
    this.prune();
    await this.writeManifest();
    return serving;
  }

  /** Makes `serving` the active model of its role and tells the listeners of a new rating model. */
  private swapIn(serving: ServingModel<ServedModel>): void {
    this.setActive(serving);
    if (serving.role === 'rating') for (const listener of this.activationListeners) listener(serving as ServingModel);
  }

  /**
   * Makes a model a training worker just fitted the active one, over the matrix it was fitted on
   * (`train`: the served data set itself, or the one the worker built with API ratings) and its
   * sections in shared memory: no artifact is read, nothing O(ratings) runs on the event loop.
   * With `persist` the record joins the manifest as the active model (its artifact was written by
   * before); without, the model only serves in memory (until {@link store} records it, or for
   * good: the startup baseline, which a restart does not restore).
   */
  async activateFitted(record: ModelRecord, content: ArtifactContent, train: RatingMatrix, persist: boolean): Promise<ServingModel<ServedModel>> {
    const serving = this.activateInMemory(record, await restoreModel(content, train, record.file || '<memory>'));
    if (persist) await this.store(record);
    return serving;
  }

  /**
   * Makes a fitted model the active one of its role, in memory only (until {@link store} records
   * it): what a training worker posted (see {@link activateFitted}), or the startup `popular`,
   * counted on the event loop before ready (one pass over the ratings: 0.27 CPU s at 100M, less
   * than starting a worker thread).
   */
  activateInMemory(record: ModelRecord, model: Predictor): ServingModel<ServedModel> {
    const role = roleOf(model, `model ${record.id}`);
    if (role !== recordRole(record)) throw new Error(`model ${record.id} is a ${role} model, recorded as a ${recordRole(record)} model`);
    const serving = new ServingModel<ServedModel>(record, model as ServedModel);
    this.swapIn(serving);
    return serving;
  }

  /**
   * Records a model whose artifact is now written in the manifest, as the active model of its role
   * when it still serves (else as an inactive one), then removes the artifacts of the oldest models;
   * resolves once the manifest is written.
   */
  async store(record: ModelRecord): Promise<void> {
    this.manifest.models.push(record);
    const role = recordRole(record);
    if (this.activeOf(role)?.id === record.id) this.setManifestActive(role, record.id);
    this.prune();
    await this.writeManifest();
  }

  /**
   * Serves the model of an artifact written elsewhere (`recsys train --out FILE`), over `data`
   * (the loaded data set, whose fingerprint the artifact must name as its source). The model is
   * not added to the manifest: it serves until a retrain replaces it.
   * It becomes the active model of its role (a latent-factor model: rating; a ranking model: ranking).
   * @throws UnusableArtifactError naming both fingerprints when the model was trained on other
   *   data, or when it is neither a latent-factor model the API can fold users into nor a ranking model.
   */
  async serveFile(path: string, data: RatingMatrix): Promise<ServingModel<ServedModel>> {
    const artifact = readModelArtifact(path);
    const found = artifact.source.data;
    const given = fingerprintMatrix(data);
    if (!sameFingerprint(found, given)) {
      throw new UnusableArtifactError(
        `model file ${path} was trained on other data: its data fingerprint is ${describe(found)}; the data served has ${describe(this.base)}. Train it on this data (recsys train --data … --out FILE) or serve the data it was trained on.`,
      );
    }
    let model: Awaited<ReturnType<typeof restoreModel>>;
    if (artifact.source.holdout && artifact.fingerprint.users === data.nUsers && artifact.fingerprint.movies === data.nMovies) {
      // Trained on the data minus a held-out slice that took no user or movie away entirely: its
      // factor rows are the data's own rows, so it serves over all the ratings (as a retrain's
      // model does) without rebuilding the slice, which takes half a minute at 100M.
      model = await restoreModel({ ...artifact, fingerprint: given }, data, path);
    } else {
      model = (await loadModelArtifact(path, data)).model;
    }
    const role = roleOf(model, `model file ${path}`);
    const { train } = model as ServedModel;
    const record: ModelRecord = {
      id: `file-${basename(path).replace(/[^A-Za-z0-9._-]/g, '_')}`,
      kind: artifact.kind,
      role,
      params: artifact.params,
      trainedAt: artifact.trainedAt,
      metrics: { trainRmse: NaN, trainMae: NaN, ratings: train.nRatings, users: train.nUsers, movies: train.nMovies, fitSeconds: NaN },
      fingerprint: artifact.fingerprint,
      baseCrc32: this.baseCrc32,
      ratingsThroughId: 0,
      file: basename(path),
      history: artifact.history,
      trainingRunId: null,
    };
    const serving = new ServingModel<ServedModel>(record, model as ServedModel);
    this.setActive(serving);
    return serving;
  }

  private prune(): void {
    const mine = this.records().filter((r) => r.id !== this.manifest.activeId && r.id !== this.manifest.activeRankingId);
    for (const old of mine.slice(KEEP_MODELS)) {
      try {
        rmSync(this.pathOf(old.file, old.id), { force: true });
      } catch (error) {
        if (!(error instanceof UnusableArtifactError)) throw error;
      }
      this.loaded.delete(old.id);
      this.manifest.models = this.manifest.models.filter((r) => r.id !== old.id);
    }
  }
}
