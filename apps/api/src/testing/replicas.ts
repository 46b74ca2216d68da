// Test support: API replicas as real processes (`node apps/api/dist/main.js`) over one PostgreSQL
// database and one shared model directory, on ports the system picks.
import { join } from 'node:path';
import { gqlRequest, GqlResult, TEST_TOKEN } from './harness';
import { MAIN, Spawned, spawnServer } from './server-process';

export interface Replica {
  name: string;
  spawned: Spawned;
  /** e.g. http://127.0.0.1:40123/graphql */
  url: string;
  base: string;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** Resolves with the first log line with this message. */
  line(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL (no drain, no close): what a crash or an OOM kill does. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  name: string;
  /** RECSYS_DATABASE_URL: the shared store. */
  databaseUrl: string;
  /** RECSYS_MODEL_DIR: the shared model directory. */
  modelDir: string;
  /** A data snapshot (every replica serves the same data). */
  data: string;
  /** This replica's own cache directory (data snapshot cache, token file). */
  cacheDir: string;
  env?: Record<string, string>;
}

/**
 * Starts a replica and resolves once it listens (not yet ready: see {@link ready}): svd with 10
 * epochs as the configured rating model and popular as the ranking model (as the in-process
 * specs), training at nice 0, the test token.
 */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const spawned = spawnServer(process.execPath, [MAIN, '--data', options.data], {
    PORT: '0',
    HOST: '127.0.0.1',
    RECSYS_DATABASE_URL: options.databaseUrl,
    RECSYS_MODEL_DIR: options.modelDir,
    RECSYS_CACHE_DIR: options.cacheDir,
    RECSYS_DB: join(options.cacheDir, 'unused.sqlite'),
    RECSYS_API_TOKEN: TEST_TOKEN,
    RECSYS_MODEL_KIND: 'svd',
    RECSYS_MODEL_PARAMS: '{"epochs":10}',
    RECSYS_RANKING_MODEL_KIND: 'popular',
    RECSYS_TRAINING_NICE: '0',
    ...options.env,
  });
  const listening = await spawned.line('listening; loading data and model');
  const base = `http://127.0.0.1:${listening.port as number}`;
  const url = `${base}/graphql`;
  const { child } = spawned;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name: options.name,
    spawned,
    url,
    base,
    gql: (query, variables) => gqlRequest(url, query, variables),
    line: (msg, timeoutMs) => spawned.line(msg, timeoutMs),
    kill: async () => {
      if (exited()) return;
      child.kill('SIGKILL');
      await spawned.exited;
    },
    stop: async () => {
      if (exited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await spawned.exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until the replica's /readyz answers 200 (at most `timeoutMs`), with its body. */
export async function ready(replica: Replica, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (replica.spawned.child.exitCode !== null) throw new Error(`replica ${replica.name} exited (${replica.spawned.child.exitCode}): ${replica.spawned.stderr()}`);
    const res = await fetch(`${replica.base}/readyz`).catch(() => null);
    if (res?.status === 200) return (await res.json()) as Record<string, unknown>;
  }
  throw new Error(`replica ${replica.name} not ready after ${timeoutMs} ms; log: ${JSON.stringify(replica.spawned.lines.map((l) => l.msg))}`);
}

/** The active models' ids (rating, ranking) a replica reports. */
export async function activeModelIds(replica: Replica): Promise<{ rating: string; ranking: string }> {
  const r = await replica.gql<{ activeModels: { rating: { id: string }; ranking: { id: string } } }>('{ activeModels { rating { id } ranking { id } } }');
  if (!r.data) throw new Error(`activeModels on ${replica.name}: ${JSON.stringify(r.errors)}`);
  return { rating: r.data.activeModels.rating.id, ranking: r.data.activeModels.ranking.id };
}

/** Polls `probe` every `everyMs` until it returns non-null; resolves with it and the ms it took. */
export async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string, everyMs = 20): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    if (value !== null) return { value, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
