// What both store back ends (SQLite: rating-store.ts, PostgreSQL: pg-store.ts) share: their
// errors, the in-memory mirror of ratings and interactions, and group commit.
import type { StoredInteraction, StoredRating } from './store';

/** A write to the store that failed: what was being written, where, and the back end's reason (nothing stored before it is lost). */
export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError';
  constructor(what: string, location: string, cause: unknown) {
    super(`could not store ${what} in ${location}: ${reasonOf(cause)}`);
  }
}

/** What to do about a SQLite file that cannot be opened (the default hint of {@link StoreOpenError}). */
export const SQLITE_OPEN_HINT = 'the file is left as it is: repair it, restore a backup, or move it away to start with an empty store; RECSYS_DB sets another path';

/** The store could not be opened or read at start: names the file (or the URL without password), which is left as it was. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(location: string, cause: unknown, hint = SQLITE_OPEN_HINT) {
    super(`cannot open the rating store ${location}: ${reasonOf(cause)} (${hint})`);
  }
}

/**
 * The URL as logs and errors may show it: without its password (in the user part or as a
 * `password` parameter). Text that is not a URL keeps only what cannot be a password.
 */
export function maskDatabaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1@').replace(/(password=)[^&]*/gi, '$1***');
  }
  url.password = '';
  for (const key of [...url.searchParams.keys()]) if (/password/i.test(key)) url.searchParams.set(key, '***');
  return url.toString();
}

/** An error's message; SQLite's errors may come from another realm (jest): any error's, not only an Error's. */
export function reasonOf(cause: unknown): string {
  return typeof (cause as { message?: unknown } | null)?.message === 'string' ? (cause as { message: string }).message : String(cause);
}

/** JSON text of a stored row, or a StoreOpenError naming the store and the row. */
export function parseStored(location: string, what: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StoreOpenError(location, `${what} is not valid JSON (${reasonOf(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreOpenError(location, `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Index of the row with this id in `rows` (ids ascending), or -(insertion point) - 1 when absent. */
function searchId(rows: ReadonlyArray<{ id: number }>, id: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = rows[mid].id;
    if (at === id) return mid;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** Inserts `row` into `rows` (ids ascending) at its place; false when a row with its id is there already. */
function insertById<R extends { id: number }>(rows: R[], row: R): boolean {
  // Rows nearly always arrive in id order: the common case is one comparison and a push.
  if (rows.length === 0 || rows[rows.length - 1].id < row.id) {
    rows.push(row);
    return true;
  }
  const at = searchId(rows, row.id);
  if (at >= 0) return false;
  rows.splice(-at - 1, 0, row);
  return true;
}

/** Rows of one kind (ratings or interactions), all of them and by user, ids ascending. */
export class MirrorTable<R extends { id: number; userId: number }> {
  readonly all: R[] = [];
  readonly byUser = new Map<number, R[]>();

  /** Adds a row at its place; false (and nothing changes) when its id is already held. */
  remember(row: R): boolean {
    if (!insertById(this.all, row)) return false;
    let list = this.byUser.get(row.userId);
    if (!list) this.byUser.set(row.userId, (list = []));
    insertById(list, row);
    return true;
  }

  has(id: number): boolean {
    return searchId(this.all, id) >= 0;
  }

  get lastId(): number {
    return this.all.length === 0 ? 0 : this.all[this.all.length - 1].id;
  }
}

/**
 * The in-memory mirror of the ratings and interactions a store holds, read synchronously (fold-in,
 * training data): every row, and every user's rows, ids ascending. A row read from another process
 * (PostgreSQL's pull) may have a lower id than one already held: it is inserted at its place.
 */
export abstract class MirroredStore {
  protected readonly ratingRows = new MirrorTable<StoredRating>();
  protected readonly interactionRows = new MirrorTable<StoredInteraction>();

  /** Every stored rating, oldest (lowest id) first. */
  list(): readonly StoredRating[] {
    return this.ratingRows.all;
  }

  /** The user's stored ratings, oldest first (empty when none). */
  byUser(userId: number): readonly StoredRating[] {
    return this.ratingRows.byUser.get(userId) ?? [];
  }

  /** Users with at least one stored rating. */
  users(): IterableIterator<number> {
    return this.ratingRows.byUser.keys();
  }

  /** Id of the newest row (0 when empty). */
  get lastId(): number {
    return this.ratingRows.lastId;
  }

  get size(): number {
    return this.ratingRows.all.length;
  }

  /** Every stored interaction, oldest first. */
  interactions(): readonly StoredInteraction[] {
    return this.interactionRows.all;
  }

  /** The user's stored interactions, oldest first (empty when none). */
  interactionsOf(userId: number): readonly StoredInteraction[] {
    return this.interactionRows.byUser.get(userId) ?? [];
  }

  /** Users with at least one stored interaction. */
  interactingUsers(): IterableIterator<number> {
    return this.interactionRows.byUser.keys();
  }

  /** Id of the newest interaction row (0 when none). */
  get lastInteractionId(): number {
    return this.interactionRows.lastId;
  }

  /** Whether the user has stored ratings or interactions. */
  hasUser(userId: number): boolean {
    return this.ratingRows.byUser.has(userId) || this.interactionRows.byUser.has(userId);
  }
}

/**
 * Rows added in the same turn of the event loop, committed together by `commit` (one transaction)
 * with the commit's time, then remembered and answered in order; when the commit fails, every
 * caller of the batch gets the error and nothing is remembered. One batch is committed at a time:
 * rows added meanwhile wait for the next.
 */
export class GroupCommit<In extends object, Row> {
  private readonly pending: Array<{ input: In; resolve: (row: Row) => void; reject: (error: unknown) => void }> = [];
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly commit: (inputs: In[], now: string) => Row[] | Promise<Row[]>,
    private readonly remember: (row: Row) => void,
  ) {}

  add(input: In): Promise<Row> {
    return new Promise((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length === 1 && this.inFlight === null) setImmediate(() => void this.flush());
    });
  }

  /** Commits what is pending (after the batch in flight, if any); resolves when it is answered. */
  flush(): Promise<void> {
    if (this.inFlight !== null) return this.inFlight.then(() => this.flush());
    const batch = this.pending.splice(0);
    if (batch.length === 0) return Promise.resolve();
    const now = new Date().toISOString();
    const run = async () => {
      let rows: Row[];
      try {
        rows = await this.commit(
          batch.map((b) => b.input),
          now,
        );
      } catch (error) {
        for (const b of batch) b.reject(error);
        return;
      }
      rows.forEach((row, i) => {
        this.remember(row);
        batch[i].resolve(row);
      });
    };
    const flight = run().finally(() => {
      this.inFlight = null;
      if (this.pending.length > 0) setImmediate(() => void this.flush());
    });
    this.inFlight = flight;
    return flight;
  }
}
