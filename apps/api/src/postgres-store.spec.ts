import 'reflect-metadata';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, describeWithPostgres, tempDir, TestDatabase } from '@recsys/testing';
import { ConfigError, resolveConfig } from './config';
import { createLogger } from './logger';
import { startApi } from './server';
import { StoreOpenError } from './services/store';
import { smallDataset, startTestApi, testConfig, TestApi } from './testing/harness';

jest.setTimeout(180_000);

describe('RECSYS_DATABASE_URL / --database-url', () => {
  it('takes a postgres: or postgresql: URL, the flag before the variable', () => {
    expect(resolveConfig([], { RECSYS_DATABASE_URL: 'postgres://app:pw@db:5432/recsys' }).databaseUrl).toBe('postgres://app:pw@db:5432/recsys');
    expect(resolveConfig(['--database-url', 'postgresql://db/recsys'], { RECSYS_DATABASE_URL: 'postgres://other/x' }).databaseUrl).toBe('postgresql://db/recsys');
    expect(resolveConfig([], {}).databaseUrl).toBeUndefined();
    expect(resolveConfig([], { RECSYS_DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('refuses another scheme or a non-URL, naming the setting and showing the value without its password', () => {
    expect(() => resolveConfig([], { RECSYS_DATABASE_URL: 'mysql://app:hunter2@db/recsys' })).toThrow(
      new ConfigError('RECSYS_DATABASE_URL must be a PostgreSQL URL postgres://user:password@host:port/database (or postgresql://…), got "mysql://app@db/recsys"'),
    );
    expect(() => resolveConfig(['--database-url', 'db.example.com:5432'], {})).toThrow(/^--database-url must be a PostgreSQL URL .*got "db\.example\.com:5432"$/);
    expect(() => resolveConfig([], { RECSYS_DATABASE_URL: 'postgres://app:hunter2@[::1' })).toThrow(/got "postgres:\/\/app@\[::1"$/);
  });
});

describe('the API with a PostgreSQL it cannot reach', () => {
  const dir = tempDir('recsys-api-pg-refused-');
  it('does not get ready: the StoreOpenError names the URL without its password; no SQLite file or manifest is made instead', async () => {
    const api = await startApi(testConfig(dir, { databaseUrl: 'postgres://app:topsecret@127.0.0.1:1/recsys' }), { loadData: async () => smallDataset(), logger: createLogger('silent') });
    try {
      const error = await api.ready.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(StoreOpenError);
      expect((error as Error).message).toMatch(/^cannot open the rating store postgres:\/\/app@127\.0\.0\.1:1\/recsys: .*ECONNREFUSED/);
      expect((error as Error).message).not.toContain('topsecret');
    } finally {
      await api.close();
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.sqlite'))).toEqual([]);
    expect(existsSync(join(dir, 'models', 'manifest.json'))).toBe(false);
  });
});

describeWithPostgres('the API on PostgreSQL (RECSYS_DATABASE_URL)', () => {
  let db: TestDatabase;
  let t: TestApi | null = null;
  const dir = tempDir('recsys-api-pg-');
  beforeAll(async () => {
    db = await createTestDatabase('api_store');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  type Runs = { trainingRuns: { edges: Array<{ node: { id: string; status: string; kind: string; epochs: Array<{ epoch: number; trainRmse: number | null }> } }> } };
  const RUNS = '{ trainingRuns(first: 20) { edges { node { id status kind epochs { epoch trainRmse } } } } }';
  type UserRatings = { user: { ratingCount: number; ratings: { edges: Array<{ node: { movieId: number; rating: number; source: string } }> } } };
  const USER = 'query($u: Int!) { user(id: $u) { ratingCount ratings { edges { node { movieId rating source } } } } }';

  it('rates, restarts, and reads the rating, the run history and the active model back from PostgreSQL; nothing is written to SQLite or manifest.json', async () => {
    // RECSYS_DB is ignored when the store is in PostgreSQL.
    const config = { databaseUrl: db.url, dbPath: join(dir, 'ignored.sqlite') };
    t = await startTestApi({ dir, config });
    const movie = t.dataset.matrix.movies.ids[5];
    const user = 9_300_001;
    const rated = await t.gql<{ rateMovie: { rating: number } }>('mutation($u: Int!, $m: Int!) { rateMovie(userId: $u, movieId: $m, rating: 4) { rating } }', { u: user, m: movie });
    expect(rated.errors).toBeUndefined();
    const runs = await t.gql<Runs>(RUNS);
    expect(runs.errors).toBeUndefined();
    // The startup baseline, the configured svd and the configured popular (its startup popular serves in memory).
    const before = runs.data!.trainingRuns.edges.map((e) => e.node);
    expect(before.map((r) => [r.kind, r.status])).toEqual([
      ['POPULAR', 'SUCCEEDED'],
      ['SVD', 'SUCCEEDED'],
      ['BASELINE', 'SUCCEEDED'],
    ]);
    expect(before[1].epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const active = (await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }')).data!.activeModel.id;
    await t.close();
    t = null;

    // What the server stored is in the database, by an independent read.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query('SELECT user_id, movie_id, rating FROM api_ratings')).rows).toEqual([{ user_id: user, movie_id: movie, rating: 4 }]);
      expect((await client.query('SELECT id FROM training_runs ORDER BY seq')).rows.map((r: { id: string }) => r.id)).toEqual(before.map((r) => r.id).reverse());
      expect((await client.query("SELECT model_id FROM active_models WHERE role = 'rating'")).rows).toEqual([{ model_id: active }]);
      expect(Number((await client.query('SELECT count(*) AS n FROM training_run_epochs WHERE run_id = $1', [before[1].id])).rows[0].n)).toBe(10);
    } finally {
      await client.end();
    }
    expect(existsSync(join(dir, 'models', 'manifest.json'))).toBe(false);
    expect(existsSync(join(dir, 'ignored.sqlite'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.sqlite'))).toEqual([]);

    t = await startTestApi({ dir, config });
    const after = await t.gql<Runs>(RUNS);
    // Nothing trained again: the same runs, with their epochs.
    expect(after.data!.trainingRuns.edges.map((e) => e.node)).toEqual(before);
    expect((await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }')).data!.activeModel.id).toBe(active);
    const ratings = await t.gql<UserRatings>(USER, { u: user });
    expect(ratings.errors).toBeUndefined();
    expect(ratings.data!.user).toEqual({ ratingCount: 1, ratings: { edges: [{ node: { movieId: movie, rating: 4, source: 'API' } }] } });
  });
});
