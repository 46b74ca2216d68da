import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ApiStore, ManifestStore, SettledIds, StoredInteraction, StoredRating, StoredRun } from './store';
import { GroupCommit, MirroredStore, parseStored, StoreOpenError, StoreWriteError } from './store-support';

/**
 * The SQLite back end of {@link ApiStore} (the embedded default): the ratings and interactions given
 * through the API, in SQLite (better-sqlite3), append-only: a user rating the same movie again adds
 * a row, and the latest row wins. The model manifest is `manifest.json` in the model directory
 * ({@link FileManifestStore}, given as `manifests`).
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
export class RatingStore extends MirroredStore implements ApiStore {
  private readonly db: Database.Database;
  private readonly ratingCommits: GroupCommit<Omit<StoredRating, 'id' | 'ratedAt'>, StoredRating>;
  private readonly interactionCommits: GroupCommit<Omit<StoredInteraction, 'id' | 'at'>, StoredInteraction>;
  private readonly upsertRun: Database.Statement<[string, string]>;
  private readonly insertEpoch: Database.Statement<[string, number, string]>;

  constructor(
    readonly path: string,
    readonly manifests: ManifestStore,
  ) {
    super();
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
        (row) => this.ratingRows.remember(row),
      );
      this.interactionCommits = new GroupCommit(
        this.db.transaction((rows: Array<Omit<StoredInteraction, 'id' | 'at'>>, at: string) => rows.map((r): StoredInteraction => ({ id: Number(insertInteraction.run(r.userId, r.movieId, r.weight, at).lastInsertRowid), ...r, at }))),
        (row) => this.interactionRows.remember(row),
      );
      const rows = this.db.prepare('SELECT id, user_id AS userId, movie_id AS movieId, rating, rated_at AS ratedAt FROM ratings ORDER BY id').all() as StoredRating[];
      for (const row of rows) this.ratingRows.remember(row);
      const interactions = this.db.prepare('SELECT id, user_id AS userId, movie_id AS movieId, weight, at FROM interactions ORDER BY id').all() as StoredInteraction[];
      for (const row of interactions) this.interactionRows.remember(row);
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

  /** The SQLite file. */
  get location(): string {
    return this.path;
  }

  /** Other processes do not write this file while it is open here: nothing to read. */
  async pull(): Promise<{ ratings: StoredRating[]; interactions: StoredInteraction[] }> {
    return { ratings: [], interactions: [] };
  }

  /** Commits what is pending (one process writes this file: nothing else can be in flight). */
  async settle(): Promise<SettledIds> {
    await this.ratingCommits.flush();
    await this.interactionCommits.flush();
    return { ratingsThroughId: this.lastId, interactionsThroughId: this.lastInteractionId };
  }

  /**
   * Writes a training run's state (every field but its epochs; dates as ISO strings), replacing
   * the run's earlier state: committed and fsynced before it returns. A failure throws
   * {@link StoreWriteError} (the run's earlier row, and everything else, stays as it was).
   */
  async saveRun(id: string, state: Record<string, unknown>): Promise<void> {
    try {
      this.upsertRun.run(id, JSON.stringify(state));
    } catch (error) {
      throw new StoreWriteError(`training run ${id}`, this.path, error);
    }
  }

  /** Writes epoch `epoch` (1-based) of a run (as {@link saveRun}: fsynced, StoreWriteError on failure). */
  async saveEpoch(runId: string, epoch: number, progress: Record<string, unknown>): Promise<void> {
    try {
      this.insertEpoch.run(runId, epoch, JSON.stringify(progress));
    } catch (error) {
      throw new StoreWriteError(`epoch ${epoch} of training run ${runId}`, this.path, error);
    }
  }

  /** Every stored training run, oldest first, with its epochs in order. */
  async runs(): Promise<StoredRun[]> {
    const rows = this.db.prepare('SELECT id, state FROM training_runs ORDER BY seq').all() as Array<{ id: string; state: string }>;
    const epochs = new Map<string, Array<Record<string, unknown>>>();
    for (const e of this.db.prepare('SELECT run_id AS runId, progress FROM training_run_epochs ORDER BY run_id, epoch').iterate() as IterableIterator<{ runId: string; progress: string }>) {
      let list = epochs.get(e.runId);
      if (!list) epochs.set(e.runId, (list = []));
      list.push(parseStored(this.path, `the epoch row of training run ${e.runId}`, e.progress));
    }
    return rows.map((r) => ({ id: r.id, state: parseStored(this.path, `the state of training run ${r.id}`, r.state), epochs: epochs.get(r.id) ?? [] }));
  }

  /** One stored run with its epochs (null when none has this id). */
  async run(id: string): Promise<StoredRun | null> {
    const row = this.db.prepare<[string]>('SELECT id, state FROM training_runs WHERE id = ?').get(id) as { id: string; state: string } | undefined;
    if (!row) return null;
    const epochs = this.db.prepare<[string]>('SELECT progress FROM training_run_epochs WHERE run_id = ? ORDER BY epoch').all(id) as Array<{ progress: string }>;
    return { id: row.id, state: parseStored(this.path, `the state of training run ${id}`, row.state), epochs: epochs.map((e) => parseStored(this.path, `the epoch row of training run ${id}`, e.progress)) };
  }

  /**
   * The newest run whose state's status is QUEUED or RUNNING, with its epochs (null when none is).
   * A newer row whose state is not valid JSON is answered instead, so that reading it fails as
   * {@link runs} would, naming the run (json_extract alone would throw SQLite's bare "malformed JSON").
   */
  async runInProgress(): Promise<StoredRun | null> {
    const row = this.db
      .prepare(`SELECT id FROM training_runs WHERE CASE WHEN json_valid(state) THEN json_extract(state, '$.status') IN ('QUEUED', 'RUNNING') ELSE 1 END ORDER BY seq DESC LIMIT 1`)
      .get() as { id: string } | undefined;
    return row ? this.run(row.id) : null;
  }

  /** Commits the ratings and interactions still pending, then closes the file. */
  async close(): Promise<void> {
    if (this.db.open) await this.ratingCommits.flush();
    if (this.db.open) await this.interactionCommits.flush();
    if (this.db.open) this.db.close();
  }
}
