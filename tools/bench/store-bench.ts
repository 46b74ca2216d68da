/**
 * The API store's back ends compared (issue 13): SQLite (the embedded default) against PostgreSQL.
 *
 *   npm run bench:store -- [--database-url postgres://…] [--calls 200]
 *
 * For each back end: `rateMovie` latency over `--calls` sequential mutations (one at a time, each
 * waiting for its answer: the store's commit is on every one's path; SQLite fsyncs its WAL,
 * PostgreSQL commits with the server's synchronous_commit) against the compiled API in a child
 * process (`apps/api/dist/main.js`, the default synthetic data, baseline and popular so that no
 * background training competes), and the store's open time measured in this process with the
 * compiled `openStore` (`apps/api/dist/services/store.js`): `empty` (SQLite creates its file,
 * PostgreSQL connects and applies the migrations to a new database) and `reopen` (the store the
 * API just wrote, its rows read into memory; PostgreSQL: connect, migrations already applied).
 *
 * PostgreSQL runs only with `--database-url` (or RECSYS_TEST_DATABASE_URL, e.g. the cluster of
 * `tools/pg/throwaway-cluster.sh`): a superuser URL; a database of its own is created for the run
 * and dropped after it. Prints ONE JSON document on stdout; progress goes to stderr.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { listIds, log, post, REPO_ROOT, round, startServer } from './api-bench-server';
import { intValue, readBenchArgs } from './bench-args';

const CLI = {
  name: 'store-bench',
  description: 'rateMovie latency (sequential calls) and store open time, SQLite against PostgreSQL; prints one JSON document.',
  options: {
    'database-url': { type: 'string', value: 'URL', description: 'a PostgreSQL superuser URL (a database is created and dropped); default RECSYS_TEST_DATABASE_URL, else SQLite only' },
    calls: { type: 'string', value: 'N', default: '200', description: 'sequential rateMovie calls per back end' },
  },
} as const;

interface Args {
  databaseUrl: string | undefined;
  calls: number;
}

/** The compiled store module's entry point (loaded at run time: tools do not compile the app). */
type OpenStore = (options: { databaseUrl?: string; sqlitePath: string; modelDir: string; baseCrc32: string; logger: unknown }) => Promise<{ size: number; location: string; close(): Promise<void> }>;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Milliseconds of each of `calls` sequential rateMovie mutations. */
async function rateLatencies(server: Awaited<ReturnType<typeof startServer>>, calls: number): Promise<number[]> {
  const movies = await listIds(server.url, 'movies', 50);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const answer = await post<{ rateMovie: { rating: number } }>(server, 'mutation($u: Int!, $m: Int!, $r: Float!) { rateMovie(userId: $u, movieId: $m, rating: $r) { rating } }', {
      u: 9_700_000 + (i % 40),
      m: movies[i % movies.length],
      r: 1 + (i % 5),
    });
    times.push(performance.now() - started);
    if (answer.errors || answer.data?.rateMovie.rating !== 1 + (i % 5)) throw new Error(`rateMovie ${i}: ${JSON.stringify(answer).slice(0, 300)}`);
  }
  return times;
}

async function measure(backEnd: 'sqlite' | 'postgres', databaseUrl: string | undefined, calls: number, openStore: OpenStore, logger: unknown) {
  const dir = mkdtempSync(join(tmpdir(), `recsys-store-bench-${backEnd}-`));
  try {
    const sqlitePath = join(dir, 'ratings.sqlite');
    const storeOptions = { databaseUrl, sqlitePath, modelDir: join(dir, 'models'), logger };
    // The API keys its rows by the data's CRC-32; the open times are measured on the data set the API wrote.
    const timeOpen = async (baseCrc32: string) => {
      const started = performance.now();
      const store = await openStore({ ...storeOptions, baseCrc32 });
      const ms = performance.now() - started;
      const rows = store.size;
      await store.close();
      return { ms: round(ms, 1), rows };
    };
    const empty = await timeOpen('00000000');
    const env: Record<string, string> = { RECSYS_DB: sqlitePath, RECSYS_MODEL_KIND: 'baseline', RECSYS_RANKING_MODEL_KIND: 'popular', RECSYS_CACHE_DIR: join(REPO_ROOT, '.cache') };
    if (databaseUrl) env.RECSYS_DATABASE_URL = databaseUrl;
    log(`${backEnd}: starting the API`);
    const server = await startServer({ env }, dir);
    let times: number[];
    let crc: string;
    try {
      // No training beside the measurement: wait for the configured popular (trained after ready).
      for (let i = 0; ; i++) {
        const ready = (await (await fetch(`${server.base}/readyz`)).json()) as { configuredRanking: { status: string } };
        if (ready.configuredRanking.status === 'SERVING') break;
        if (i === 600) throw new Error(`${backEnd}: the configured popular model is still ${ready.configuredRanking.status} after 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // The model trained at startup saw no API rating: its fingerprint is the data set's.
      crc = (await post<{ activeModel: { dataFingerprint: { crc32: string } } }>(server, '{ activeModel { dataFingerprint { crc32 } } }')).data!.activeModel.dataFingerprint.crc32;
      times = await rateLatencies(server, calls);
    } finally {
      await server.stop();
    }
    const sorted = [...times].sort((a, b) => a - b);
    const reopen = await timeOpen(crc);
    if (reopen.rows < calls) throw new Error(`${backEnd}: reopened with ${reopen.rows} ratings, ${calls} were acknowledged`);
    return {
      backEnd,
      rateMovieMs: { calls, p50: round(percentile(sorted, 50), 2), p99: round(percentile(sorted, 99), 2), mean: round(times.reduce((s, x) => s + x, 0) / times.length, 2), max: round(sorted[sorted.length - 1], 2) },
      openMs: { empty, reopen },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = readBenchArgs(CLI, (v): Args => ({ databaseUrl: v['database-url'] ?? (process.env.RECSYS_TEST_DATABASE_URL || undefined), calls: intValue('calls', v.calls, 1) }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openStore } = require(join(REPO_ROOT, 'apps/api/dist/services/store.js')) as { openStore: OpenStore };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const logger = (require(join(REPO_ROOT, 'apps/api/dist/logger.js')) as { createLogger(level: string): unknown }).createLogger('silent');
  const results = [await measure('sqlite', undefined, args.calls, openStore, logger)];
  if (args.databaseUrl) {
    const name = `recsys_store_bench_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: args.databaseUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(args.databaseUrl);
      url.pathname = `/${name}`;
      results.push(await measure('postgres', url.toString(), args.calls, openStore, logger));
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  } else {
    log('no --database-url (nor RECSYS_TEST_DATABASE_URL): SQLite only');
  }
  process.stdout.write(`${JSON.stringify({ bench: 'store', node: process.version, loadAverage: loadavg().map((x) => round(x, 2)), results }, null, 1)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`store-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
