import { join } from 'node:path';
import { Pool, PoolClient } from 'pg';
import type { runner as MigrationRunner } from 'node-pg-migrate/dist/bundle';
import type { Logger } from '../logger';
import type { ModelRecord, ModelRole } from './model-registry';
import type { ApiStore, Manifest, ManifestStore, SettledIds, StoredInteraction, StoredRating, StoredRun } from './store';
import { GroupCommit, maskDatabaseUrl, MirroredStore, reasonOf, StoreOpenError, StoreWriteError } from './store-support';

/** The schema's migrations (SQL files applied in name order by node-pg-migrate): `apps/api/migrations`. */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'migrations');

/** What to do about a PostgreSQL store that cannot be opened (the hint of its {@link StoreOpenError}). */
export const POSTGRES_OPEN_HINT = 'nothing was created or dropped; check RECSYS_DATABASE_URL (host, port, user, password, database) and that the server accepts connections';

/** Connections of one store: group commit and run writes take one each; reads (pull, runs) another. */
const POOL_SIZE = 4;
/** A server that does not answer within this long is an error at start, not a hang. */
const CONNECT_TIMEOUT_MS = 10_000;

/** A pg error's reason: its message, or for a connection tried on several addresses (AggregateError) each one's. */
function pgReason(error: unknown): string {
  const inner = (error as { errors?: unknown } | null)?.errors;
  if (Array.isArray(inner) && inner.length > 0) return inner.map(reasonOf).join('; ');
  const reason = reasonOf(error);
  return reason !== '' ? reason : String((error as { code?: unknown } | null)?.code ?? error);
}

/** node-pg-migrate, an ES module: Node 20 loads it with require (jest through its transform, see jest.config.js). */
function migrationRunner(): typeof MigrationRunner {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node-pg-migrate') as { runner: typeof MigrationRunner }).runner;
}

/** A stored JSON value that must be an object (a run's state, an epoch's progress). */
function storedObject(location: string, what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreOpenError(location, `${what} is not a JSON object`, POSTGRES_OPEN_HINT);
  return value as Record<string, unknown>;
}

interface RatingRow {
  id: string;
  user_id: number;
  movie_id: number;
  rating: number;
  rated_at: Date;
}
interface InteractionRow {
  id: string;
  user_id: number;
  movie_id: number;
  weight: number;
  at: Date;
}
const ratingOf = (r: RatingRow): StoredRating => ({ id: Number(r.id), userId: r.user_id, movieId: r.movie_id, rating: r.rating, ratedAt: r.rated_at.toISOString() });
const interactionOf = (r: InteractionRow): StoredInteraction => ({ id: Number(r.id), userId: r.user_id, movieId: r.movie_id, weight: r.weight, at: r.at.toISOString() });

const RATING_COLUMNS = 'id, user_id, movie_id, rating, rated_at';
const INTERACTION_COLUMNS = 'id, user_id, movie_id, weight, at';

/** Runs `work` in a transaction on one connection of `pool` (rolled back when it throws). */
async function inTransaction<T>(pool: Pool, begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
}

/**
 * Inserts a batch of ratings (or interactions) of data set `baseCrc32` in one statement (one
 * transaction: durable at COMMIT with the server's default synchronous_commit) with `value` (the
 * rating or weight) and the time `at`, and answers their ids in the order given: the sequence
 * numbers rows in the order they are inserted (the unnest's ordinality), which the returned rows
 * are matched on.
 */
async function insertBatch(
  pool: Pool,
  table: { name: 'api_ratings' | 'api_interactions'; value: 'rating' | 'weight'; time: 'rated_at' | 'at' },
  baseCrc32: string,
  inputs: ReadonlyArray<{ userId: number; movieId: number }>,
  values: number[],
  at: string,
): Promise<number[]> {
  const { rows } = await pool.query<{ id: string; user_id: number; movie_id: number }>(
    `INSERT INTO ${table.name} (base_crc32, user_id, movie_id, ${table.value}, ${table.time})
     SELECT $1, u, m, v, $5 FROM unnest($2::int[], $3::int[], $4::float8[]) WITH ORDINALITY AS t(u, m, v, n) ORDER BY n
     RETURNING id, user_id, movie_id`,
    [baseCrc32, inputs.map((r) => r.userId), inputs.map((r) => r.movieId), values, at],
  );
  if (rows.length !== inputs.length) throw new Error(`inserted ${rows.length} rows for ${inputs.length}`);
  const ids = rows.map((r) => ({ id: Number(r.id), userId: r.user_id, movieId: r.movie_id })).sort((x, y) => x.id - y.id);
  return inputs.map((input, i) => {
    const got = ids[i];
    if (got.userId !== input.userId || got.movieId !== input.movieId) throw new Error(`row ${got.id} came back as (${got.userId}, ${got.movieId}), inserted as (${input.userId}, ${input.movieId})`);
    return got.id;
  });
}

/**
 * The PostgreSQL back end of {@link ApiStore} (`RECSYS_DATABASE_URL`): the store replicas share.
 * Tables (apps/api/migrations, applied at open by node-pg-migrate under its advisory lock, so
 * replicas starting together migrate once) are keyed by the data set's CRC-32: one database may
 * serve several data sets.
 *
 * Durability: a rating or interaction resolves after its COMMIT (with the default
 * synchronous_commit = on, the WAL is flushed then); those given in the same turn of the event loop
 * are inserted by one multi-row INSERT (group commit). Runs, epochs and the manifest are each
 * written in one transaction.
 *
 * Rows other processes store reach the mirror through {@link pull}: every row records its inserting
 * transaction (`txid`), and each read takes the snapshot's xmin (every transaction below it had
 * finished); the next read asks for the rows with txid ≥ that xmin, which holds every row committed
 * since (including one with a lower id than rows already seen, whose transaction committed later)
 * and few others (those already held are skipped).
 */
export class PgStore extends MirroredStore implements ApiStore {
  readonly manifests: PgManifestStore;
  private readonly ratingCommits: GroupCommit<Omit<StoredRating, 'id' | 'ratedAt'>, StoredRating>;
  private readonly interactionCommits: GroupCommit<Omit<StoredInteraction, 'id' | 'at'>, StoredInteraction>;
  /** xmin of the snapshot of the last read (see the class comment): rows with a txid ≥ it may be new. */
  private seenXmin = '0';
  private pulling: Promise<{ ratings: StoredRating[]; interactions: StoredInteraction[] }> | null = null;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    readonly location: string,
    readonly baseCrc32: string,
  ) {
    super();
    this.manifests = new PgManifestStore(pool, location, baseCrc32);
    const ratings = { name: 'api_ratings', value: 'rating', time: 'rated_at' } as const;
    const interactions = { name: 'api_interactions', value: 'weight', time: 'at' } as const;
    this.ratingCommits = new GroupCommit(
      async (rows, ratedAt) => (await insertBatch(pool, ratings, baseCrc32, rows, rows.map((r) => r.rating), ratedAt)).map((id, i): StoredRating => ({ id, ...rows[i], ratedAt })),
      (row) => this.ratingRows.remember(row),
    );
    this.interactionCommits = new GroupCommit(
      async (rows, at) => (await insertBatch(pool, interactions, baseCrc32, rows, rows.map((r) => r.weight), at)).map((id, i): StoredInteraction => ({ id, ...rows[i], at })),
      (row) => this.interactionRows.remember(row),
    );
  }

  /**
   * Connects, applies the migrations not yet applied (waiting for another process that holds the
   * migration lock) and reads this data set's ratings and interactions into the mirror. Rejects with
   * a {@link StoreOpenError} naming the URL without its password (a server that refuses the
   * connection, a wrong password, a missing database, a failed migration); nothing is created or
   * dropped then (each migration runs in its own transaction).
   */
  static async open(options: { databaseUrl: string; baseCrc32: string; logger: Logger }): Promise<PgStore> {
    const location = maskDatabaseUrl(options.databaseUrl);
    const pool = new Pool({ connectionString: options.databaseUrl, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'recsys-api' });
    // An idle connection that breaks (the server restarted) must not take the process down: the next query reconnects.
    pool.on('error', (error) => options.logger.warn({ store: location, err: error }, 'PostgreSQL connection lost; the next query reconnects'));
    try {
      const client = await pool.connect();
      try {
        const applied = await migrationRunner()({
          dbClient: client,
          dir: MIGRATIONS_DIR,
          direction: 'up',
          migrationsTable: 'pgmigrations',
          advisoryLockMode: 'wait',
          checkOrder: true,
          log: () => undefined,
        });
        if (applied.length > 0) options.logger.info({ store: location, migrations: applied.map((m) => m.name) }, 'PostgreSQL store migrated');
      } finally {
        client.release();
      }
      const store = new PgStore(pool, location, options.baseCrc32);
      await store.read(true);
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error instanceof StoreOpenError ? error : new StoreOpenError(location, pgReason(error), POSTGRES_OPEN_HINT);
    }
  }

  add(userId: number, movieId: number, rating: number): Promise<StoredRating> {
    return this.ratingCommits.add({ userId, movieId, rating });
  }

  addInteraction(userId: number, movieId: number, weight: number): Promise<StoredInteraction> {
    return this.interactionCommits.add({ userId, movieId, weight });
  }

  /** See the class comment; pulls asked for while one runs wait for it and then read again. */
  pull(): Promise<{ ratings: StoredRating[]; interactions: StoredInteraction[] }> {
    const previous = this.pulling ?? Promise.resolve(null);
    const next = previous.catch(() => null).then(() => this.read(false));
    this.pulling = next;
    void next.catch(() => undefined).finally(() => {
      if (this.pulling === next) this.pulling = null;
    });
    return next;
  }

  /**
   * Commits this process's pending rows, then takes both tables' SHARE lock for a moment: it waits
   * for every insert in flight (they hold ROW EXCLUSIVE from their INSERT to their commit, and
   * take their ids from the sequence inside it), so once it is granted every id given out so far
   * is committed or rolled back, and any later insert gets a higher id. The largest ids then are
   * the settled ones; a pull brings every row through them into the mirror. Writers wait for the
   * lock only while the two max(id) lookups run (an index scan each).
   */
  async settle(): Promise<SettledIds> {
    await this.ratingCommits.flush();
    await this.interactionCommits.flush();
    const settled = await inTransaction(this.pool, 'BEGIN', async (client) => {
      await client.query('LOCK TABLE api_ratings, api_interactions IN SHARE MODE');
      const { rows } = await client.query<{ ratings: string; interactions: string }>(
        `SELECT (SELECT coalesce(max(id), 0) FROM api_ratings WHERE base_crc32 = $1)::text AS ratings,
                (SELECT coalesce(max(id), 0) FROM api_interactions WHERE base_crc32 = $1)::text AS interactions`,
        [this.baseCrc32],
      );
      return { ratingsThroughId: Number(rows[0].ratings), interactionsThroughId: Number(rows[0].interactions) };
    });
    await this.pull();
    return settled;
  }

  /**
   * Reads, in one repeatable-read snapshot, the rows that may be new (all of them at open) and that
   * snapshot's xmin; remembers those not held yet and answers them, ids ascending.
   */
  private async read(all: boolean): Promise<{ ratings: StoredRating[]; interactions: StoredInteraction[] }> {
    const since = all ? '' : ' AND txid >= $2::xid8';
    const params = all ? [this.baseCrc32] : [this.baseCrc32, this.seenXmin];
    const { xmin, ratings, interactions } = await inTransaction(this.pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      const snapshot = await client.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
      const r = await client.query<RatingRow>(`SELECT ${RATING_COLUMNS} FROM api_ratings WHERE base_crc32 = $1${since} ORDER BY id`, params);
      const i = await client.query<InteractionRow>(`SELECT ${INTERACTION_COLUMNS} FROM api_interactions WHERE base_crc32 = $1${since} ORDER BY id`, params);
      return { xmin: snapshot.rows[0].xmin, ratings: r.rows, interactions: i.rows };
    });
    const fresh = { ratings: [] as StoredRating[], interactions: [] as StoredInteraction[] };
    for (const row of ratings) {
      const rating = ratingOf(row);
      if (this.ratingRows.remember(rating)) fresh.ratings.push(rating);
    }
    for (const row of interactions) {
      const interaction = interactionOf(row);
      if (this.interactionRows.remember(interaction)) fresh.interactions.push(interaction);
    }
    this.seenXmin = xmin;
    return fresh;
  }

  async saveRun(id: string, state: Record<string, unknown>): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO training_runs (base_crc32, id, state) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (base_crc32, id) DO UPDATE SET state = excluded.state, updated_at = now()`,
        [this.baseCrc32, id, JSON.stringify(state)],
      );
    } catch (error) {
      throw new StoreWriteError(`training run ${id}`, this.location, pgReason(error));
    }
  }

  async saveEpoch(runId: string, epoch: number, progress: Record<string, unknown>): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO training_run_epochs (base_crc32, run_id, epoch, progress) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (base_crc32, run_id, epoch) DO UPDATE SET progress = excluded.progress`,
        [this.baseCrc32, runId, epoch, JSON.stringify(progress)],
      );
    } catch (error) {
      throw new StoreWriteError(`epoch ${epoch} of training run ${runId}`, this.location, pgReason(error));
    }
  }

  async runs(): Promise<StoredRun[]> {
    return this.readRuns();
  }

  async run(id: string): Promise<StoredRun | null> {
    return (await this.readRuns({ id }))[0] ?? null;
  }

  async runInProgress(): Promise<StoredRun | null> {
    return (await this.readRuns({ inProgress: true }))[0] ?? null;
  }

  /**
   * The runs of this data set, oldest first, with their epochs in order, from one snapshot: all of
   * them, only `id`, or only the most recently created one whose status is QUEUED or RUNNING.
   */
  private async readRuns(only: { id?: string; inProgress?: boolean } = {}): Promise<StoredRun[]> {
    const { runs, epochs } = await inTransaction(this.pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      const filter = only.inProgress
        ? ` AND state->>'status' IN ('QUEUED', 'RUNNING') ORDER BY seq DESC LIMIT 1`
        : `${only.id === undefined ? '' : ' AND id = $2'} ORDER BY seq`;
      const runs = (await client.query<{ id: string; state: unknown }>(`SELECT id, state FROM training_runs WHERE base_crc32 = $1${filter}`, only.id === undefined ? [this.baseCrc32] : [this.baseCrc32, only.id])).rows;
      // Every run's epochs when all runs are read, else those of the one run found (none: no read).
      const one = only.id ?? (only.inProgress ? runs[0]?.id : undefined);
      if (only.inProgress && one === undefined) return { runs, epochs: [] };
      const epochs = (
        await client.query<{ run_id: string; progress: unknown }>(
          `SELECT run_id, progress FROM training_run_epochs WHERE base_crc32 = $1${one === undefined ? '' : ' AND run_id = $2'} ORDER BY run_id, epoch`,
          one === undefined ? [this.baseCrc32] : [this.baseCrc32, one],
        )
      ).rows;
      return { runs, epochs };
    });
    const byRun = new Map<string, Array<Record<string, unknown>>>();
    for (const e of epochs) {
      let list = byRun.get(e.run_id);
      if (!list) byRun.set(e.run_id, (list = []));
      list.push(storedObject(this.location, `the epoch row of training run ${e.run_id}`, e.progress));
    }
    return runs.map((r) => ({ id: r.id, state: storedObject(this.location, `the state of training run ${r.id}`, r.state), epochs: byRun.get(r.id) ?? [] }));
  }

  /** Commits the ratings and interactions still pending, then closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ratingCommits.flush();
    await this.interactionCommits.flush();
    await this.pulling?.catch(() => undefined);
    await this.pool.end();
  }
}

interface ModelRow {
  id: string;
  kind: string;
  role: ModelRole | null;
  params: Record<string, unknown>;
  trained_at: Date;
  metrics: ModelRecord['metrics'];
  fingerprint: ModelRecord['fingerprint'];
  base_crc32: string;
  ratings_through_id: string;
  interactions_through_id: string | null;
  file: string;
  history: ModelRecord['history'];
  training_run_id: string | null;
}

/** A record as the manifest file holds it (optional fields absent when the row has none). */
function recordOf(r: ModelRow): ModelRecord {
  return {
    id: r.id,
    kind: r.kind,
    ...(r.role === null ? {} : { role: r.role }),
    params: r.params,
    trainedAt: r.trained_at.toISOString(),
    metrics: r.metrics,
    fingerprint: r.fingerprint,
    baseCrc32: r.base_crc32,
    ratingsThroughId: Number(r.ratings_through_id),
    ...(r.interactions_through_id === null ? {} : { interactionsThroughId: Number(r.interactions_through_id) }),
    file: r.file,
    history: r.history,
    trainingRunId: r.training_run_id,
  };
}

/**
 * The model manifest of one data set in PostgreSQL: table `models` (one row per record, its
 * held-out RMSE, MAE and NDCG as columns) and `active_models` (the active id of each role),
 * replaced in one transaction, so a reader sees the old manifest or the new one.
 */
export class PgManifestStore implements ManifestStore {
  constructor(
    private readonly pool: Pool,
    private readonly database: string,
    readonly baseCrc32: string,
  ) {}

  get location(): string {
    return `${this.database} (models of data set ${this.baseCrc32})`;
  }

  async read(): Promise<Manifest | null> {
    const { models, active } = await inTransaction(this.pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => ({
      models: (await client.query<ModelRow>('SELECT * FROM models WHERE base_crc32 = $1 ORDER BY position', [this.baseCrc32])).rows,
      active: (await client.query<{ role: ModelRole; model_id: string }>('SELECT role, model_id FROM active_models WHERE base_crc32 = $1', [this.baseCrc32])).rows,
    }));
    if (models.length === 0 && active.length === 0) return null;
    const activeOf = (role: ModelRole) => active.find((a) => a.role === role)?.model_id ?? null;
    return { activeId: activeOf('rating'), activeRankingId: activeOf('ranking'), models: models.map(recordOf) };
  }

  /** Replaces this data set's manifest in one transaction; a record of another data set is refused (nothing is written). */
  async write(manifest: Manifest): Promise<void> {
    const foreign = manifest.models.find((r) => r.baseCrc32 !== this.baseCrc32);
    if (foreign) throw new StoreWriteError('the model manifest', this.location, `model ${foreign.id} belongs to data set ${foreign.baseCrc32}`);
    try {
      await inTransaction(this.pool, 'BEGIN', async (client) => {
        await client.query('DELETE FROM active_models WHERE base_crc32 = $1', [this.baseCrc32]);
        await client.query('DELETE FROM models WHERE base_crc32 = $1 AND NOT (id = ANY($2::text[]))', [this.baseCrc32, manifest.models.map((r) => r.id)]);
        for (const [position, r] of manifest.models.entries()) {
          await client.query(
            `INSERT INTO models (base_crc32, id, position, kind, role, params, trained_at, metrics, fingerprint, ratings_through_id, interactions_through_id, file, history, training_run_id)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13::jsonb, $14)
             ON CONFLICT (base_crc32, id) DO UPDATE SET position = excluded.position, kind = excluded.kind, role = excluded.role, params = excluded.params,
               trained_at = excluded.trained_at, metrics = excluded.metrics, fingerprint = excluded.fingerprint, ratings_through_id = excluded.ratings_through_id,
               interactions_through_id = excluded.interactions_through_id, file = excluded.file, history = excluded.history, training_run_id = excluded.training_run_id`,
            [
              this.baseCrc32,
              r.id,
              position,
              r.kind,
              r.role ?? null,
              JSON.stringify(r.params),
              r.trainedAt,
              JSON.stringify(r.metrics),
              JSON.stringify(r.fingerprint),
              r.ratingsThroughId,
              r.interactionsThroughId ?? null,
              r.file,
              JSON.stringify(r.history),
              r.trainingRunId,
            ],
          );
        }
        for (const [role, id] of [['rating', manifest.activeId], ['ranking', manifest.activeRankingId ?? null]] as const) {
          if (id !== null) await client.query('INSERT INTO active_models (base_crc32, role, model_id) VALUES ($1, $2, $3)', [this.baseCrc32, role, id]);
        }
      });
    } catch (error) {
      throw new StoreWriteError('the model manifest', this.location, pgReason(error));
    }
  }
}
