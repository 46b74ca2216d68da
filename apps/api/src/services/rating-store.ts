import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

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
 * one row each (see {@link RatingStore.saveRun}, {@link RatingStore.saveEpoch}).
 */
export interface StoredRun {
  readonly id: string;
  /** The run's fields but its epochs, as given to saveRun. */
  readonly state: Record<string, unknown>;
  /** Its epochs' progress, in order. */
  readonly epochs: Array<Record<string, unknown>>;
}

/** A write to the store that failed: what was being written and SQLite's reason (nothing stored before it is lost). */
export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError';
  constructor(what: string, path: string, cause: unknown) {
    super(`could not store ${what} in ${path}: ${reasonOf(cause)}`);
  }
}

/** The store could not be opened or read at start: names the file, which is left as it was. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(path: string, cause: unknown) {
    super(`cannot open the rating store ${path}: ${reasonOf(cause)} (the file is left as it is: repair it, restore a backup, or move it away to start with an empty store; RECSYS_DB sets another path)`);
  }
}

/** An error's message; SQLite's errors may come from another realm (jest): any error's, not only an Error's. */
function reasonOf(cause: unknown): string {
  return typeof (cause as { message?: unknown } | null)?.message === 'string' ? (cause as { message: string }).message : String(cause);
}

/** JSON text of a stored row, or a StoreOpenError naming the file and the row. */
function parseStored(path: string, what: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StoreOpenError(path, `${what} is not valid JSON (${reasonOf(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreOpenError(path, `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The ratings and interactions given through the API, in SQLite (better-sqlite3), append-only: a user rating the
 * same movie again adds a row, and the latest row wins.
 *
 * Durability: WAL journal with `synchronous = FULL`, so every `add` fsyncs the WAL before it
 * resolves: a committed rating survives a process kill (kill -9) and also an OS crash or power
 * loss. (NORMAL would survive a process kill but not a power loss; ratings are few, so the fsync
 * per rating is affordable.) All rows are also held in memory, by user, for fold-in.
 *
 * Interactions (`interact`) live in their own table with their own row ids, appended the same way
 * (group commit, fsync before the caller hears back); a model records the last row id of each it
 * was trained with (ratingsThroughId, interactionsThroughId).
 */
export class RatingStore {
  private readonly db: Database.Database;
  private readonly byUserId = new Map<number, StoredRating[]>();
  private readonly all: StoredRating[] = [];
  private readonly interactionsByUser = new Map<number, StoredInteraction[]>();
  private readonly allInteractions: StoredInteraction[] = [];
  private readonly ratingCommits: GroupCommit<Omit<StoredRating, 'id' | 'ratedAt'>, StoredRating>;
  private readonly interactionCommits: GroupCommit<Omit<StoredInteraction, 'id' | 'at'>, StoredInteraction>;
  private readonly upsertRun: Database.Statement<[string, string]>;
  private readonly insertEpoch: Database.Statement<[string, number, string]>;

  constructor(readonly path: string) {
    // A file SQLite cannot open or read (not a database, corrupt, read-only, a folder in the way)
    // stops the server with the file named; the file itself is left exactly as it was.
    // Set once `new Database` succeeds (a pragma or a read may fail after it), to close it then.
    let opened: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.db = opened = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS ratings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        movie_id INTEGER NOT NULL,
        rating REAL NOT NULL,
        rated_at TEXT NOT NULL
      )`);
      this.db.exec(`CREATE TABLE IF NOT EXISTS interactions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        movie_id INTEGER NOT NULL,
        weight REAL NOT NULL,
        at TEXT NOT NULL
      )`);
      // Training runs (one row each, its state as JSON, rewritten at each status change) and their
      // epochs (one row per finished epoch), so that runs and their learning curves survive a restart.
      this.db.exec(`CREATE TABLE IF NOT EXISTS training_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL
      )`);
      this.db.exec(`CREATE TABLE IF NOT EXISTS training_run_epochs (
        run_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        progress TEXT NOT NULL,
        PRIMARY KEY (run_id, epoch)
      )`);
      // A write-protected file still opens (SQLite falls back to reading it) and would fail only at
      // the first rating or run: probe a write now, in a transaction rolled back.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        this.db.exec('UPDATE training_runs SET state = state WHERE 0');
      } finally {
        this.db.exec('ROLLBACK');
      }
      this.upsertRun = this.db.prepare<[string, string]>('INSERT INTO training_runs (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state');
      this.insertEpoch = this.db.prepare<[string, number, string]>('INSERT OR REPLACE INTO training_run_epochs (run_id, epoch, progress) VALUES (?, ?, ?)');
      const insert = this.db.prepare<[number, number, number, string]>('INSERT INTO ratings (user_id, movie_id, rating, rated_at) VALUES (?, ?, ?, ?)');
      const insertInteraction = this.db.prepare<[number, number, number, string]>('INSERT INTO interactions (user_id, movie_id, weight, at) VALUES (?, ?, ?, ?)');
      this.ratingCommits = new GroupCommit(
        this.db.transaction((rows: Array<Omit<StoredRating, 'id' | 'ratedAt'>>, ratedAt: string) => rows.map((r): StoredRating => ({ id: Number(insert.run(r.userId, r.movieId, r.rating, ratedAt).lastInsertRowid), ...r, ratedAt }))),
        (row) => remember(this.all, this.byUserId, row),
      );
      this.interactionCommits = new GroupCommit(
        this.db.transaction((rows: Array<Omit<StoredInteraction, 'id' | 'at'>>, at: string) => rows.map((r): StoredInteraction => ({ id: Number(insertInteraction.run(r.userId, r.movieId, r.weight, at).lastInsertRowid), ...r, at }))),
        (row) => remember(this.allInteractions, this.interactionsByUser, row),
      );
      const rows = this.db.prepare('SELECT id, user_id AS userId, movie_id AS movieId, rating, rated_at AS ratedAt FROM ratings ORDER BY id').all() as StoredRating[];
      for (const row of rows) remember(this.all, this.byUserId, row);
      const interactions = this.db.prepare('SELECT id, user_id AS userId, movie_id AS movieId, weight, at FROM interactions ORDER BY id').all() as StoredInteraction[];
      for (const row of interactions) remember(this.allInteractions, this.interactionsByUser, row);
    } catch (error) {
      if (opened?.open) opened.close();
      throw new StoreOpenError(path, error);
    }
  }

  /**
   * Stores a rating durably (committed and fsynced) and resolves with its row. Ratings given in the
   * same turn of the event loop are committed together, in one transaction with one fsync (group
   * commit): eight concurrent ratings no longer hold the loop for eight fsyncs in a row.
   */
  add(userId: number, movieId: number, rating: number): Promise<StoredRating> {
    return this.ratingCommits.add({ userId, movieId, rating });
  }

  /** Stores an interaction durably (group commit and fsync, as {@link add}) and resolves with its row. */
  addInteraction(userId: number, movieId: number, weight: number): Promise<StoredInteraction> {
    return this.interactionCommits.add({ userId, movieId, weight });
  }

  /** Every stored rating, oldest first. */
  list(): readonly StoredRating[] {
    return this.all;
  }

  /** The user's stored ratings, oldest first (empty when none). */
  byUser(userId: number): readonly StoredRating[] {
    return this.byUserId.get(userId) ?? [];
  }

  /** Users with at least one stored rating. */
  users(): IterableIterator<number> {
    return this.byUserId.keys();
  }

  /** Id of the newest row (0 when empty). */
  get lastId(): number {
    return this.all.length === 0 ? 0 : this.all[this.all.length - 1].id;
  }

  get size(): number {
    return this.all.length;
  }

  /** Every stored interaction, oldest first. */
  interactions(): readonly StoredInteraction[] {
    return this.allInteractions;
  }

  /** The user's stored interactions, oldest first (empty when none). */
  interactionsOf(userId: number): readonly StoredInteraction[] {
    return this.interactionsByUser.get(userId) ?? [];
  }

  /** Users with at least one stored interaction. */
  interactingUsers(): IterableIterator<number> {
    return this.interactionsByUser.keys();
  }

  /** Id of the newest interaction row (0 when none). */
  get lastInteractionId(): number {
    return this.allInteractions.length === 0 ? 0 : this.allInteractions[this.allInteractions.length - 1].id;
  }

  /** Whether the user has stored ratings or interactions. */
  hasUser(userId: number): boolean {
    return this.byUserId.has(userId) || this.interactionsByUser.has(userId);
  }

  /**
   * Writes a training run's state (every field but its epochs; dates as ISO strings), replacing
   * the run's earlier state: committed and fsynced before it returns. A failure throws
   * {@link StoreWriteError} (the run's earlier row, and everything else, stays as it was).
   */
  saveRun(id: string, state: Record<string, unknown>): void {
    try {
      this.upsertRun.run(id, JSON.stringify(state));
    } catch (error) {
      throw new StoreWriteError(`training run ${id}`, this.path, error);
    }
  }

  /** Writes epoch `epoch` (1-based) of a run (as {@link saveRun}: fsynced, StoreWriteError on failure). */
  saveEpoch(runId: string, epoch: number, progress: Record<string, unknown>): void {
    try {
      this.insertEpoch.run(runId, epoch, JSON.stringify(progress));
    } catch (error) {
      throw new StoreWriteError(`epoch ${epoch} of training run ${runId}`, this.path, error);
    }
  }

  /** Every stored training run, oldest first, with its epochs in order. */
  runs(): StoredRun[] {
    const rows = this.db.prepare('SELECT id, state FROM training_runs ORDER BY seq').all() as Array<{ id: string; state: string }>;
    const epochs = new Map<string, Array<Record<string, unknown>>>();
    for (const e of this.db.prepare('SELECT run_id AS runId, progress FROM training_run_epochs ORDER BY run_id, epoch').iterate() as IterableIterator<{ runId: string; progress: string }>) {
      let list = epochs.get(e.runId);
      if (!list) epochs.set(e.runId, (list = []));
      list.push(parseStored(this.path, `the epoch row of training run ${e.runId}`, e.progress));
    }
    return rows.map((r) => ({ id: r.id, state: parseStored(this.path, `the state of training run ${r.id}`, r.state), epochs: epochs.get(r.id) ?? [] }));
  }

  close(): void {
    if (this.db.open) this.ratingCommits.flush();
    if (this.db.open) this.interactionCommits.flush();
    if (this.db.open) this.db.close();
  }
}

/** Appends a stored row to the list of all rows and to its user's. */
function remember<R extends { userId: number }>(all: R[], byUser: Map<number, R[]>, row: R): void {
  all.push(row);
  let list = byUser.get(row.userId);
  if (!list) byUser.set(row.userId, (list = []));
  list.push(row);
}

/**
 * Rows added in the same turn of the event loop, committed together by `commit` (one transaction,
 * one fsync) with the commit's time, then remembered and answered in order; when
 * the commit throws, every caller of the batch gets the error and nothing is remembered.
 */
class GroupCommit<In extends object, Row> {
  private readonly pending: Array<{ input: In; resolve: (row: Row) => void; reject: (error: unknown) => void }> = [];

  constructor(
    private readonly commit: (inputs: In[], now: string) => Row[],
    private readonly remember: (row: Row) => void,
  ) {}

  add(input: In): Promise<Row> {
    return new Promise((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  flush(): void {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const now = new Date().toISOString();
    let rows: Row[];
    try {
      rows = this.commit(batch.map((b) => b.input), now);
    } catch (error) {
      for (const b of batch) b.reject(error);
      return;
    }
    rows.forEach((row, i) => {
      this.remember(row);
      batch[i].resolve(row);
    });
  }
}
