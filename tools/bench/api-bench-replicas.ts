// api-bench scenario `throughput --replicas N`: prediction queries through N API replicas over one
// PostgreSQL (round-robin) beside through one of them, in the same run.
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { listIds, log, round, ServerProcess, startServer } from './api-bench-server';
import { fallbackShareOf, Kind, predictionBodies, predictionPairs, run, RunFigures, ScenarioResult, summary } from './api-bench-load';
import { Args } from './api-bench-args';

/** A database of the bench's own in the cluster at `clusterUrl` (dropped at the end). */
async function benchDatabase(clusterUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `recsys_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: clusterUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(clusterUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

interface Readiness {
  model: { id: string; stored: boolean };
  rankingModel: { id: string; stored: boolean };
}

async function readiness(server: ServerProcess): Promise<Readiness> {
  return (await (await fetch(`${server.base}/readyz`)).json()) as Readiness;
}

/**
 * Waits until every replica serves the same stored models of both roles (the first one trains the
 * configured ones, the others adopt them), so that no training runs during the measured load.
 */
async function sameModels(servers: ServerProcess[], timeoutSeconds = 600): Promise<string> {
  const deadline = performance.now() + timeoutSeconds * 1000;
  for (;;) {
    const states = await Promise.all(servers.map(readiness));
    const [first] = states;
    if (states.every((s) => s.model.stored && s.rankingModel.stored && s.model.id === first.model.id && s.rankingModel.id === first.rankingModel.id)) return `${first.model.id} and ${first.rankingModel.id}`;
    if (performance.now() > deadline) throw new Error(`the replicas do not serve the same stored models after ${timeoutSeconds} s: ${JSON.stringify(states.map((s) => ({ model: s.model, rankingModel: s.rankingModel })))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `--replicas N` (N ≥ 2): a database of its own in `--database-url`'s cluster (default
 * RECSYS_TEST_DATABASE_URL), N servers over it with one shared model directory (the first trains
 * the configured models, the others adopt them; the load starts once all serve the same stored ones), then `--rounds` rounds of prediction load through
 * one replica and through all N (autocannon spreads the connections over the URLs), alternating
 * which goes first. `ratio` = all N / one.
 */
export async function replicaThroughput(args: Args, dir: string): Promise<ScenarioResult> {
  const clusterUrl = args.databaseUrl ?? (process.env.RECSYS_TEST_DATABASE_URL || undefined);
  if (!clusterUrl) {
    throw new Error('--replicas needs a PostgreSQL cluster to create its database in: --database-url URL or RECSYS_TEST_DATABASE_URL (eval "$(bash tools/pg/throwaway-cluster.sh start)" starts one)');
  }
  const loadBefore = loadavg().map((x) => round(x, 2));
  const db = await benchDatabase(clusterUrl);
  const servers: ServerProcess[] = [];
  try {
    const env = { RECSYS_DATABASE_URL: db.url, RECSYS_MODEL_DIR: join(dir, 'models') };
    for (let i = 0; i < args.replicas; i++) {
      log(`starting replica ${i + 1} of ${args.replicas}`);
      servers.push(await startServer({ ...args, env }, join(dir, `replica-${i}`)));
      if (i === 0) await sameModels(servers);
    }
    const modelId = await sameModels(servers);
    log(`every replica serves ${modelId}`);
    const users = await listIds(servers[0].url, 'users', 1000);
    const movies = await listIds(servers[0].url, 'movies', 1000);
    const kind: Kind = { name: 'prediction', bodies: predictionBodies(users, movies, args.pairs, args.variables), verify: (body) => body.startsWith('{"data":{"prediction":{"rating":') };
    // Every replica answers a pair alike (one model, one store).
    const answers = await Promise.all(servers.map((s) => fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: kind.bodies[0] }).then((r) => r.text())));
    if (!answers.every((a) => a === answers[0] && kind.verify(a))) throw new Error(`the replicas answer the same prediction differently: ${answers.join(' | ')}`);
    const fallbackShare = await fallbackShareOf(servers[0].url, predictionPairs(users, movies, Math.min(args.pairs, 1000)));
    const targets = {
      one: { urls: [servers[0].url], pids: [servers[0].child.pid!] },
      all: { urls: servers.map((s) => s.url), pids: servers.map((s) => s.child.pid!) },
    };
    const figures: Record<keyof typeof targets, RunFigures[]> = { one: [], all: [] };
    for (let r = 0; r < args.rounds; r++) {
      const order: Array<keyof typeof targets> = r % 2 === 0 ? ['one', 'all'] : ['all', 'one'];
      for (const name of order) {
        const target = targets[name];
        const label = name === 'one' ? 'one replica' : `${servers.length} replicas`;
        if (args.warmup > 0) {
          log(`round ${r + 1}: ${label} warm-up ${args.warmup} s`);
          await run(target.urls, kind, args.connections, args.warmup, target.pids);
        }
        log(`round ${r + 1}: ${label} ${args.duration} s × ${args.connections} connections`);
        const f = await run(target.urls, kind, args.connections, args.duration, target.pids);
        log(`  ${f.requestsPerSecond} req/s, p50 ${f.latencyP50Ms} ms, p99 ${f.latencyP99Ms} ms, server CPU ${f.serverCpu}, load ${f.loadAverage}`);
        figures[name].push(f);
      }
    }
    const one = summary(figures.one);
    const all = summary(figures.all);
    const ratio = all.requestsPerSecond / one.requestsPerSecond;
    const report = {
      benchmark: 'api-prediction-replicas',
      query: { prediction: '{ prediction(userId: U, movieId: M) { rating isFallback } }', pairs: args.pairs, fallbackShare: round(fallbackShare, 3), users: users.length, movies: movies.length },
      setup: {
        replicas: servers.length,
        store: 'PostgreSQL (a database of the bench, dropped at the end)',
        connections: args.connections,
        durationSeconds: args.duration,
        warmupSeconds: args.warmup,
        rounds: args.rounds,
        data: args.data ?? 'default synthetic set',
        model: modelId,
        serverStartupSeconds: servers.map((s) => round(s.startupSeconds, 2)),
        node: process.version,
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        loadAverageBefore: loadBefore,
      },
      single: one,
      replicas: all,
      singleRequestsPerSecond: one.requestsPerSecond,
      replicasRequestsPerSecond: all.requestsPerSecond,
      ratio: round(ratio, 3),
      // Requests per CPU second the servers spent, all N over one: the per-request cost apart from how much CPU the machine gave them.
      cpuRatio: round(all.requestsPerServerCpuSecond / one.requestsPerServerCpuSecond, 3),
      note: 'one machine: the load generator (this process) and every replica share its cores; serverCpu (cores busy, summed over the replicas) says how much CPU they got',
      loadAverageAfter: loadavg().map((x) => round(x, 2)),
    };
    return { report, passed: all.errors + all.non2xx + all.mismatches + one.errors + one.non2xx + one.mismatches === 0 };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await db.drop();
  }
}
