import type { Logger } from '../logger';
import type { ModelRecord } from './model-registry';
import { FileManifestStore } from './file-manifest';
import { PgStore } from './pg-store';
import { RatingStore } from './rating-store';

export { StoreOpenError, StoreWriteError } from './store-support';

/** One rating given through the API (`rateMovie`). */
export interface StoredRating {
  /** Row id: increases with every rating, so "ratings after id X" is the set a model has not seen. */
  readonly id: number;
  readonly userId: number;
  readonly movieId: number;
  /** In stars. */
  readonly rating: number;
  /** ISO 8601 time the rating was stored. */
  readonly ratedAt: string;
}

/** One interaction given through the API (`interact`): a view, click or play with its weight. */
export interface StoredInteraction {
  /** Row id of the interactions table (its own sequence, apart from the ratings'). */
  readonly id: number;
  readonly userId: number;
  readonly movieId: number;
  /** > 0; repeated interactions with the same movie add up. */
  readonly weight: number;
  /** ISO 8601 time the interaction was stored. */
  readonly at: string;
}

/**
 * A training run as the store keeps it: its state as JSON (dates as ISO strings) and its epochs,
 * one row each (see {@link ApiStore.saveRun}, {@link ApiStore.saveEpoch}).
 */
export interface StoredRun {
  readonly id: string;
  /** The run's fields but its epochs, as given to saveRun. */
  readonly state: Record<string, unknown>;
  /** Its epochs' progress, in order. */
  readonly epochs: Array<Record<string, unknown>>;
}

/** The model manifest of one data set: its model records and the active model of each role. */
export interface Manifest {
  /** The active rating model. */
  activeId: string | null;
  /** The active ranking model (absent in manifests written before ranking models served). */
  activeRankingId?: string | null;
  models: ModelRecord[];
}

/**
 * Where the API keeps what it must not lose: the ratings and interactions given through it, the
 * training runs with their epochs, and the model manifest. Two back ends: SQLite (one file, the
 * embedded default; see {@link RatingStore}) and PostgreSQL (`RECSYS_DATABASE_URL`, shared by
 * replicas; see PgStore). Ratings and interactions are also held in memory (the mirror), read
 * synchronously by fold-in and training; {@link pull} brings in what other processes stored.
 */
export interface ApiStore {
  /** For logs and errors: the SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  /**
   * Stores a rating durably (committed; SQLite: fsynced) and resolves with its row. Ratings given
   * in the same turn of the event loop are committed together (group commit: one transaction).
   */
  add(userId: number, movieId: number, rating: number): Promise<StoredRating>;
  /** Stores an interaction durably (as {@link add}) and resolves with its row. */
  addInteraction(userId: number, movieId: number, weight: number): Promise<StoredInteraction>;
  /** Every stored rating in the mirror, ids ascending. */
  list(): readonly StoredRating[];
  /** The user's ratings in the mirror, ids ascending (empty when none). */
  byUser(userId: number): readonly StoredRating[];
  /** Users with at least one rating in the mirror. */
  users(): IterableIterator<number>;
  /** Id of the newest rating in the mirror (0 when none). */
  readonly lastId: number;
  /** Ratings in the mirror. */
  readonly size: number;
  /** Every interaction in the mirror, ids ascending. */
  interactions(): readonly StoredInteraction[];
  /** The user's interactions in the mirror, ids ascending (empty when none). */
  interactionsOf(userId: number): readonly StoredInteraction[];
  /** Users with at least one interaction in the mirror. */
  interactingUsers(): IterableIterator<number>;
  /** Id of the newest interaction in the mirror (0 when none). */
  readonly lastInteractionId: number;
  /** Whether the user has ratings or interactions in the mirror. */
  hasUser(userId: number): boolean;
  /**
   * Reads into the mirror the rows other processes stored since this one last looked and resolves
   * with them (ids ascending). SQLite: always empty. PostgreSQL: a row whose id is below one
   * already seen but committed later (sequences commit out of order) is not missed.
   */
  pull(): Promise<{ ratings: StoredRating[]; interactions: StoredInteraction[] }>;
  /**
   * The ids through which every rating and interaction is settled: committed (or rolled back) and
   * in the mirror. A training run takes its API rows through these ids, so that every replica
   * rebuilds the same training matrix from them: with several writers, a lower id may still be
   * uncommitted when a higher one is already seen, and the mirror's `lastId` would then name rows
   * that other replicas (and this one, later) hold but the run did not. SQLite: what is pending
   * here is committed first, then the mirror's last ids. PostgreSQL: also waits for every other
   * process's inserts in flight, then pulls.
   */
  settle(): Promise<SettledIds>;
  /**
   * Writes a training run's state (every field but its epochs; dates as ISO strings), replacing
   * its earlier state, durably before it resolves. Rejects with a StoreWriteError (the run's
   * earlier row, and everything else, stays as it was).
   */
  saveRun(id: string, state: Record<string, unknown>): Promise<void>;
  /** Writes epoch `epoch` (1-based) of a run (as {@link saveRun}: durable, StoreWriteError on failure). */
  saveEpoch(runId: string, epoch: number, progress: Record<string, unknown>): Promise<void>;
  /** Every stored training run, oldest first, with its epochs in order. */
  runs(): Promise<StoredRun[]>;
  /** One stored run with its epochs, or null when there is none with this id. */
  run(id: string): Promise<StoredRun | null>;
  /**
   * The most recently created stored run whose status is QUEUED or RUNNING, with its epochs, or
   * null when none is: what a replica polls while another holds the training lock, so one run is
   * parsed and sent instead of {@link runs}' whole table with every epoch.
   */
  runInProgress(): Promise<StoredRun | null>;
  /** The model manifest of this data set. */
  readonly manifests: ManifestStore;
  /** Commits what is pending and closes the store (its connections). */
  close(): Promise<void>;
}

/** See {@link ApiStore.settle}. */
export interface SettledIds {
  readonly ratingsThroughId: number;
  readonly interactionsThroughId: number;
}

/** The model manifest of one data set, read and replaced as a whole. */
export interface ManifestStore {
  /** For logs: the manifest file, or the database (URL without password) and data set. */
  readonly location: string;
  /** null when none is stored yet. */
  read(): Promise<Manifest | null>;
  /** Replaces it atomically (file: write + rename; PostgreSQL: one transaction). */
  write(manifest: Manifest): Promise<void>;
}

export interface OpenStoreOptions {
  /** `postgres://…` or `postgresql://…`: the store lives in PostgreSQL; absent: SQLite at `sqlitePath`. */
  databaseUrl?: string;
  /** The SQLite file (used when there is no databaseUrl). */
  sqlitePath: string;
  /** The model directory: SQLite mode keeps the manifest there (`manifest.json`). */
  modelDir: string;
  /** CRC-32 of the loaded data set: PostgreSQL keys every row by it (one database may serve several data sets). */
  baseCrc32: string;
  logger: Logger;
}

/**
 * Opens the store: PostgreSQL when `databaseUrl` is given, else the SQLite file `sqlitePath`
 * with `manifest.json` in `modelDir`. Rejects with a {@link StoreOpenError} naming the file or the
 * URL (without password) when it cannot be opened; nothing is created or dropped then.
 */
export async function openStore(options: OpenStoreOptions): Promise<ApiStore> {
  if (options.databaseUrl !== undefined) return PgStore.open({ databaseUrl: options.databaseUrl, baseCrc32: options.baseCrc32, logger: options.logger });
  return new RatingStore(options.sqlitePath, new FileManifestStore(options.modelDir, options.logger));
}
