import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, describeWithPostgres, TestDatabase } from '@recsys/testing';
import { createLogger } from '../logger';
import type { ModelRecord } from './model-registry';
import { ApiStore, openStore, StoreOpenError } from './store';
import { maskDatabaseUrl } from './store-support';
import { CONTRACT_CRC, contractRecord, StoreBackEnd, storeContractTests } from './store-contract';

jest.setTimeout(60_000);

const logger = createLogger('silent');

describe('ApiStore contract: SQLite (the embedded default; the manifest in manifest.json)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recsys-store-contract-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  storeContractTests((): StoreBackEnd => ({ open: (baseCrc32 = CONTRACT_CRC) => openStore({ sqlitePath: join(dir, `ratings-${baseCrc32}.sqlite`), modelDir: join(dir, 'models'), baseCrc32, logger }) }));
});

describeWithPostgres('ApiStore contract: PostgreSQL', () => {
  let db: TestDatabase;
  let dir: string;
  const open = (baseCrc32 = CONTRACT_CRC): Promise<ApiStore> =>
    // The SQLite path and model directory are not used (nothing may be created there).
    openStore({ databaseUrl: db.url, sqlitePath: join(dir, 'unused', 'store.sqlite'), modelDir: join(dir, 'unused-models'), baseCrc32, logger });
  beforeAll(async () => {
    db = await createTestDatabase('store_contract');
    dir = mkdtempSync(join(tmpdir(), 'recsys-store-contract-pg-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  storeContractTests((): StoreBackEnd => ({ open }));

  it('wrote nothing beside the database (no SQLite file, no manifest.json)', () => {
    expect(readdirSync(dir)).toEqual([]);
  });

  it('two stores on one database: pull() on B reads what A stored, once, ids ascending', async () => {
    const a = await open();
    const b = await open();
    try {
      expect(b.list()).toEqual(a.list());
      expect(await b.pull()).toEqual({ ratings: [], interactions: [] });
      const rows = await Promise.all([a.add(501, 1, 4), a.add(502, 2, 3)]);
      const interaction = await a.addInteraction(501, 3, 2);
      const pulled = await b.pull();
      expect(pulled).toEqual({ ratings: rows, interactions: [interaction] });
      expect(b.byUser(501)).toEqual([rows[0]]);
      expect(b.interactionsOf(501)).toEqual([interaction]);
      expect(b.lastId).toBe(rows[1].id);
      // Read once: the next pull has nothing new.
      expect(await b.pull()).toEqual({ ratings: [], interactions: [] });
      // And the other way round.
      const fromB = await b.add(503, 1, 5);
      expect((await a.pull()).ratings).toEqual([fromB]);
      expect(a.list()).toEqual(b.list());
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  /** A rating inserted by another session (`c`, in its transaction if one is open), as a writer elsewhere would: its id. */
  const insertRaw = async (c: Client, user: number, movie: number, rating: number): Promise<number> =>
    Number((await c.query<{ id: string }>("INSERT INTO api_ratings (base_crc32, user_id, movie_id, rating, rated_at) VALUES ($1, $2, $3, $4, now()) RETURNING id", [CONTRACT_CRC, user, movie, rating])).rows[0].id);

  it('pull() does not miss a row committed after a higher id was read (sequences commit out of order)', async () => {
    const b = await open();
    const first = new Client({ connectionString: db.url });
    const second = new Client({ connectionString: db.url });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('BEGIN');
      const low = await insertRaw(first, 601, 7, 3);
      await second.query('BEGIN');
      const high = await insertRaw(second, 602, 7, 3);
      expect(high).toBeGreaterThan(low);
      // The later id commits first, and B reads it.
      await second.query('COMMIT');
      expect((await b.pull()).ratings.map((r) => [r.id, r.userId])).toEqual([[high, 602]]);
      // Then the lower id commits: B's next pull still finds it, and the mirror keeps ids ascending.
      await first.query('COMMIT');
      expect((await b.pull()).ratings.map((r) => [r.id, r.userId])).toEqual([[low, 601]]);
      const ids = b.list().map((r) => r.id);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(b.list().filter((r) => r.id === low || r.id === high).map((r) => r.userId)).toEqual([601, 602]);
      expect(await b.pull()).toEqual({ ratings: [], interactions: [] });
    } finally {
      await Promise.all([first.end(), second.end(), b.close()]);
    }
  });

  it('settle() waits for an insert in flight with a lower id, then names ids through which every row is in the mirror', async () => {
    const a = await open();
    const b = await open();
    const raw = new Client({ connectionString: db.url });
    await raw.connect();
    try {
      await raw.query('BEGIN');
      const low = await insertRaw(raw, 651, 7, 4);
      const high = await a.add(652, 7, 2);
      expect(high.id).toBeGreaterThan(low);
      // B sees the higher id while the lower one is uncommitted: its lastId names a row set that
      // is not final. settle() waits for the insert in flight.
      await b.pull();
      expect(b.lastId).toBe(high.id);
      let settled: { ratingsThroughId: number } | null = null;
      const settling = b.settle().then((s) => (settled = s));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBeNull();
      await raw.query('COMMIT');
      await settling;
      expect(settled).toEqual({ ratingsThroughId: high.id, interactionsThroughId: expect.any(Number) });
      // Every row through the settled id is in B's mirror, the late one included.
      expect(b.list().filter((r) => r.id === low || r.id === high.id).map((r) => r.userId)).toEqual([651, 652]);
      // A row added after settling gets a higher id.
      expect((await a.add(653, 7, 3)).id).toBeGreaterThan(high.id);
    } finally {
      await raw.query('ROLLBACK').catch(() => undefined);
      await Promise.all([raw.end(), a.close(), b.close()]);
    }
  });

  it('a rolled-back insert leaves a gap in the ids that never holds pull() back', async () => {
    const a = await open();
    const b = await open();
    const raw = new Client({ connectionString: db.url });
    await raw.connect();
    try {
      await raw.query('BEGIN');
      await insertRaw(raw, 701, 1, 1);
      await raw.query('ROLLBACK');
      const after = await a.add(702, 1, 2);
      expect((await b.pull()).ratings).toEqual([after]);
      expect(b.byUser(701)).toEqual([]);
    } finally {
      await Promise.all([raw.end(), a.close(), b.close()]);
    }
  });

  it('another data set in the same database has its own ratings, runs and manifest', async () => {
    const other = await open('0badf00d');
    try {
      expect(other.list()).toEqual([]);
      expect(other.interactions()).toEqual([]);
      expect(await other.runs()).toEqual([]);
      expect(await other.manifests.read()).toBeNull();
      await other.add(1, 1, 1);
      await other.saveRun('run-a', { id: 'run-a', status: 'QUEUED' });
      await other.manifests.write({ activeId: 'x-1', models: [contractRecord('x-1', { baseCrc32: '0badf00d' })] });
      // A record of another data set is refused, and the manifest stays as it was.
      await expect(other.manifests.write({ activeId: null, models: [contractRecord('svd-9')] })).rejects.toThrow(/could not store the model manifest in .*model svd-9 belongs to data set c0ffee01/);
      expect((await other.manifests.read())!.models.map((r) => r.id)).toEqual(['x-1']);
    } finally {
      await other.close();
    }
    const mine = await open();
    try {
      expect(mine.list().some((r) => r.userId === 1 && r.movieId === 1 && r.rating === 1)).toBe(false);
      expect((await mine.run('run-a'))!.state.status).toBe('SUCCEEDED');
      expect((await mine.manifests.read())!.activeId).toBe('svd-2');
    } finally {
      await mine.close();
    }
  });

  it('the held-out evaluations of the manifest\'s models are columns to query', async () => {
    const ranking = await open('e0a1c0de');
    try {
      const metrics = { trainRmse: null, trainMae: null, ratings: 10, users: 2, movies: 5, fitSeconds: 1, heldOutRmse: null, heldOutRatings: 4, heldOutNdcg: 0.375, referenceNdcg: 0.25 };
      await ranking.manifests.write({ activeId: null, activeRankingId: 'ials-7', models: [contractRecord('ials-7', { kind: 'ials', role: 'ranking', baseCrc32: 'e0a1c0de', metrics } as unknown as Partial<ModelRecord>)] });
    } finally {
      await ranking.close();
    }
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT id, held_out_rmse, held_out_mae, held_out_ndcg FROM models WHERE base_crc32 = $1 ORDER BY position', [CONTRACT_CRC]);
      const record = contractRecord('svd-2');
      expect(rows).toEqual([
        { id: 'svd-2', held_out_rmse: record.metrics.heldOutRmse, held_out_mae: record.metrics.heldOutMae, held_out_ndcg: null },
        { id: 'svd-1', held_out_rmse: 0.9, held_out_mae: 0.7, held_out_ndcg: null },
        // Stored by the registry test.
        { id: 'svd-3', held_out_rmse: 0.9, held_out_mae: 0.7, held_out_ndcg: null },
      ]);
      expect((await client.query("SELECT id, held_out_rmse, held_out_ndcg FROM models WHERE base_crc32 = 'e0a1c0de'")).rows).toEqual([{ id: 'ials-7', held_out_rmse: null, held_out_ndcg: 0.375 }]);
    } finally {
      await client.end();
    }
  });

  it('a server that refuses the connection, or a missing database: StoreOpenError naming the URL without its password; nothing created', async () => {
    const refused = new URL(db.url);
    refused.username = 'someone';
    refused.password = 's3cret-pw';
    refused.port = '1';
    const error = await openStore({ databaseUrl: refused.toString(), sqlitePath: join(dir, 'x.sqlite'), modelDir: join(dir, 'm'), baseCrc32: CONTRACT_CRC, logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    const message = (error as Error).message;
    expect(message).not.toContain('s3cret-pw');
    expect(message).toMatch(/^cannot open the rating store postgres:\/\/someone@127\.0\.0\.1:1\/recsys_store_contract_\w+: .*ECONNREFUSED.* \(nothing was created or dropped; check RECSYS_DATABASE_URL/);

    const missing = new URL(db.url);
    missing.password = 'an0ther-pw';
    missing.pathname = `/${db.name}_missing`;
    const gone = await openStore({ databaseUrl: missing.toString(), sqlitePath: join(dir, 'x.sqlite'), modelDir: join(dir, 'm'), baseCrc32: CONTRACT_CRC, logger }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(StoreOpenError);
    expect((gone as Error).message).not.toContain('an0ther-pw');
    expect((gone as Error).message).toContain(`database "${db.name}_missing" does not exist`);
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [`${db.name}_missing`])).rows).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});

describe('maskDatabaseUrl', () => {
  it('drops the password from the user part and masks password parameters', () => {
    expect(maskDatabaseUrl('postgres://app:p%40ss@db.example.com:5432/recsys')).toBe('postgres://app@db.example.com:5432/recsys');
    expect(maskDatabaseUrl('postgresql://db.example.com/recsys?user=app&password=hunter2&sslmode=require')).toBe('postgresql://db.example.com/recsys?user=app&password=***&sslmode=require');
    expect(maskDatabaseUrl('postgres://app@localhost/recsys')).toBe('postgres://app@localhost/recsys');
    // Not a URL: what looks like a password is still dropped.
    expect(maskDatabaseUrl('postgres://app:hunter2@[bad')).toBe('postgres://app@[bad');
  });
});
