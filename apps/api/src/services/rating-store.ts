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
 * returns: a committed rating survives a process kill (kill -9) and also an OS crash or power
 * loss. (NORMAL would survive a process kill but not a power loss; ratings are few, so the fsync
 * per rating is affordable.) All rows are also held in memory, by user, for fold-in.
 */
export class RatingStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[number, number, number, string]>;
  private readonly byUserId = new Map<number, StoredRating[]>();
  private readonly all: StoredRating[] = [];

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
    const rows = this.db.prepare('SELECT id, user_id AS userId, movie_id AS movieId, rating, rated_at AS ratedAt FROM ratings ORDER BY id').all() as StoredRating[];
    for (const row of rows) this.remember(row);
  }

  private remember(row: StoredRating): void {
    this.all.push(row);
    let list = this.byUserId.get(row.userId);
    if (!list) this.byUserId.set(row.userId, (list = []));
    list.push(row);
  }

  /** Stores a rating durably (committed and fsynced) and returns its row. */
  add(userId: number, movieId: number, rating: number): StoredRating {
    const ratedAt = new Date().toISOString();
    const info = this.insert.run(userId, movieId, rating, ratedAt);
    const row: StoredRating = { id: Number(info.lastInsertRowid), userId, movieId, rating, ratedAt };
    this.remember(row);
    return row;
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
    if (this.db.open) this.db.close();
  }
}
