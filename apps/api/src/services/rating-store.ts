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

/**
 * The ratings given through the API, in SQLite (better-sqlite3), append-only: a user rating the
 * same movie again adds a row, and the latest row wins.
 *
 * Durability: WAL journal with `synchronous = FULL`, so every `add` fsyncs the WAL before it
 * resolves: a committed rating survives a process kill (kill -9) and also an OS crash or power
 * loss. (NORMAL would survive a process kill but not a power loss; ratings are few, so the fsync
 * per rating is affordable.) All rows are also held in memory, by user, for fold-in.
 */
export class RatingStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[number, number, number, string]>;
  private readonly byUserId = new Map<number, StoredRating[]>();
  private readonly all: StoredRating[] = [];
  private readonly insertAll: (ratings: Array<Omit<StoredRating, 'id'>>) => StoredRating[];
  /** Ratings waiting for the next commit. */
  private readonly pending: Array<{ userId: number; movieId: number; rating: number; resolve: (row: StoredRating) => void; reject: (error: unknown) => void }> = [];

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS ratings (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id INTEGER NOT NULL,
      movie_id INTEGER NOT NULL,
      rating REAL NOT NULL,
      rated_at TEXT NOT NULL
    )`);
    this.insert = this.db.prepare('INSERT INTO ratings (user_id, movie_id, rating, rated_at) VALUES (?, ?, ?, ?)');
    this.insertAll = this.db.transaction((ratings: Array<Omit<StoredRating, 'id'>>) =>
      ratings.map((r): StoredRating => ({ id: Number(this.insert.run(r.userId, r.movieId, r.rating, r.ratedAt).lastInsertRowid), ...r })),
    );
    const rows = this.db.prepare('SELECT id, user_id AS userId, movie_id AS movieId, rating, rated_at AS ratedAt FROM ratings ORDER BY id').all() as StoredRating[];
    for (const row of rows) this.remember(row);
  }

  private remember(row: StoredRating): void {
    this.all.push(row);
    let list = this.byUserId.get(row.userId);
    if (!list) this.byUserId.set(row.userId, (list = []));
    list.push(row);
  }

  /**
   * Stores a rating durably (committed and fsynced) and resolves with its row. Ratings given in the
   * same turn of the event loop are committed together, in one transaction with one fsync (group
   * commit): eight concurrent ratings no longer hold the loop for eight fsyncs in a row.
   */
  add(userId: number, movieId: number, rating: number): Promise<StoredRating> {
    return new Promise((resolve, reject) => {
      this.pending.push({ userId, movieId, rating, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits the pending ratings (one transaction), then remembers them and answers their callers. */
  private flush(): void {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const ratedAt = new Date().toISOString();
    let rows: StoredRating[];
    try {
      rows = this.insertAll(batch.map((b) => ({ userId: b.userId, movieId: b.movieId, rating: b.rating, ratedAt })));
    } catch (error) {
      for (const b of batch) b.reject(error);
      return;
    }
    rows.forEach((row, i) => {
      this.remember(row);
      batch[i].resolve(row);
    });
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

  close(): void {
    if (this.db.open) this.flush();
    if (this.db.open) this.db.close();
  }
}
